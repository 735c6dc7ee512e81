"""One detection per watched prefix and kind, its offenders counted in full and listed only in part.

50,000 hijacked /32s under one watched prefix used to be 50,000 open
detections, 50,000 log lines and a 14 MB state file.
"""

from __future__ import annotations

from routewatch.core.detection import ChangeKind, Detection, DetectionKind
from routewatch.core.detectors.flagged import MAX_LISTED
from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.exporter.detections import MAX_OFFENDERS, offenders
from routewatch.model import parse_prefix
from tests.support.events import announce, peer, withdraw
from tests.support.metrics import HIJACKER, ORIGIN

WATCHED = "10.0.0.0/8"
HIJACKED = 200


def engine() -> Engine:
    watch = WatchSet([WatchedPrefix(parse_prefix(WATCHED), frozenset({ORIGIN}), WithdrawalThresholds())])
    return Engine(watch, CoreSettings())


def hijacked(n: int) -> str:
    return f"10.0.{n // 256}.{n % 256}/32"


def flood(m: Engine, peers: int = 3) -> list:  # type: ignore[type-arg]
    return m.apply_all(announce(1, peer(i), hijacked(n), (64500 + i, HIJACKER + n % 2)) for n in range(HIJACKED)
                       for i in range(peers))


def test_a_flood_of_hijacked_more_specifics_is_one_detection_with_bounded_evidence() -> None:
    m = engine()
    changes = flood(m)
    opened = [c for c in changes if c.detection.kind is DetectionKind.ORIGIN]
    assert [c.change for c in opened] == [ChangeKind.OPENED]
    assert opened[0].detection.prefix == parse_prefix(hijacked(0))
    assert opened[0].detection.watched == parse_prefix(WATCHED)
    (detection,) = [d for d in m.open_detections() if d.kind is DetectionKind.ORIGIN]
    evidence = detection.evidence
    assert evidence["prefixes"] == HIJACKED and evidence["peers"] == 3
    assert len(evidence["offenders"]) == MAX_LISTED
    assert evidence["origins"] == [HIJACKER, HIJACKER + 1]
    assert all(o["peers"] == 3 for o in evidence["offenders"])


def test_the_detection_closes_once_when_the_last_offender_goes() -> None:
    m = engine()
    flood(m)
    changes = m.apply_all(withdraw(2, peer(i), hijacked(n)) for n in range(HIJACKED - 1) for i in range(3))
    assert changes == []
    (detection,) = [d for d in m.open_detections() if d.kind is DetectionKind.ORIGIN]
    assert detection.evidence["prefixes"] == 1
    assert [o["prefix"] for o in detection.evidence["offenders"]] == [hijacked(HIJACKED - 1)]
    closing = m.apply_all(withdraw(3, peer(i), hijacked(HIJACKED - 1)) for i in range(3))
    assert [(c.change, c.detection.kind) for c in closing] == [(ChangeKind.CLOSED, DetectionKind.ORIGIN)]
    assert closing[0].detection.start == 1 and closing[0].detection.end == 3
    assert m.open_detections() == []


def test_the_exporter_lists_at_most_three_offenders_from_the_one_detection() -> None:
    m = engine()
    flood(m)
    found = [o for o in offenders(m.snapshot()) if o.kind is DetectionKind.ORIGIN]
    assert len(found) == MAX_OFFENDERS
    assert {o.subprefix for o in found} <= {hijacked(n) for n in range(HIJACKED)}
    assert all(str(o.watched) == WATCHED and o.peers == 3 for o in found)


def test_per_prefix_detections_of_an_older_state_are_merged_on_restore() -> None:
    m = engine()
    saved = [Detection(DetectionKind.ORIGIN, parse_prefix(hijacked(n)), parse_prefix(WATCHED), start=1.0,
                       evidence={"peers": 3, "origins": [HIJACKER]}) for n in range(5)]
    m.restore_anomalies(saved)
    (detection,) = m.open_detections()
    assert detection.evidence["prefixes"] == 5 and detection.start == 1.0
    reopened = flood(m)
    assert [c for c in reopened if c.detection.kind is DetectionKind.ORIGIN] == []  # still open, not opened again
    (detection,) = [d for d in m.open_detections() if d.kind is DetectionKind.ORIGIN]
    assert detection.evidence["prefixes"] == HIJACKED
