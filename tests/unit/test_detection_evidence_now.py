"""An open flagging detection reads as things stand now: how far the hijack spread, and who still offends."""

from __future__ import annotations

from routewatch.core.detection import DetectionKind
from routewatch.core.engine import Engine
from routewatch.model import parse_prefix
from tests.support.events import announce, withdraw
from tests.support.events import peer as peer_of
from tests.unit.test_core_rpki import HIJACKER, P, announce_from, monitor, opened, status

FIRST = "193.0.4.0/24"
LATER = "193.0.5.0/24"
OTHER_HIJACKER = 64777


def origin_detection(m: Engine):
    found = [d for d in m.open_detections() if d.kind is DetectionKind.ORIGIN]
    assert len(found) == 1
    return found[0]


def test_the_peers_of_an_open_detection_follow_the_hijack_as_it_spreads() -> None:
    m = monitor(P, rpki=False)
    assert opened(announce_from(m, 100, FIRST, HIJACKER, range(2)), DetectionKind.ORIGIN)
    assert origin_detection(m).evidence["peers"] == 2
    announce_from(m, 200, FIRST, HIJACKER, range(2, 40))
    detection = origin_detection(m)
    assert detection.evidence["peers"] == 40
    assert detection.evidence["offenders"] == [{"prefix": FIRST, "peers": 40, "origins": [HIJACKER]}]
    assert status(m).unexpected_origin_peers == 40


def test_what_an_open_detection_shows_comes_from_an_offender_still_offending() -> None:
    m = monitor(P, rpki=False)
    announce_from(m, 100, FIRST, HIJACKER, range(2))
    m.apply_all(announce(200, peer_of(i), LATER, (64500 + i, 174, OTHER_HIJACKER)) for i in range(10, 15))
    m.apply_all(withdraw(300, peer_of(i), FIRST) for i in range(2))
    evidence = origin_detection(m).evidence
    assert evidence["offenders"] == [{"prefix": LATER, "peers": 5, "origins": [OTHER_HIJACKER]}]
    assert evidence["origins"] == [OTHER_HIJACKER] and evidence["peers"] == 5
    assert evidence["sample_paths"] and all(str(OTHER_HIJACKER) in path for path in evidence["sample_paths"])
    assert parse_prefix(FIRST) == origin_detection(m).prefix  # the prefix that opened it names the detection
