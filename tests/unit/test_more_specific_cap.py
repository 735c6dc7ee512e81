"""A flood of distinct more-specifics under one watched prefix is bounded, counted and exported.

A hostile peer announcing 400,000 hijacked /32s under a watched prefix used to
cost 400,000 table entries (766 MB). Now the first ``max_more_specifics`` are
kept, the rest refused and counted, and the hijack is still reported.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import orjson

from routewatch.core.detection import ChangeKind, DetectionChange, DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.daemon.persist import load_state, restore_state, save_state
from routewatch.exporter.state import ExportState, ProcessStatus
from routewatch.model import parse_prefix
from tests.support.events import announce, peer, withdraw
from tests.support.metrics import HIJACKER, ORIGIN, scrape, value

WATCHED = "10.0.0.0/8"
CAP = 50
FLOOD = 400


def engine() -> Engine:
    watch = WatchSet([WatchedPrefix(parse_prefix(WATCHED), frozenset({ORIGIN}), WithdrawalThresholds())])
    return Engine(watch, CoreSettings(max_more_specifics=CAP))


def hijacked(n: int) -> str:
    return f"10.0.{n // 256}.{n % 256}/32"


def more_specifics(m: Engine) -> list[str]:
    return [str(p) for p in m.table.prefixes() if str(p) != WATCHED]


def test_a_flood_of_hijacked_more_specifics_keeps_only_the_cap_and_counts_the_rest() -> None:
    m = engine()
    changes = m.apply_all(announce(1, peer(i), hijacked(n), (64500 + i, HIJACKER)) for n in range(FLOOD)
                          for i in range(3))
    assert len(more_specifics(m)) == CAP
    assert m.more_specifics.refused[parse_prefix(WATCHED)] == (FLOOD - CAP) * 3
    assert any(c.detection.kind is DetectionKind.ORIGIN for c in changes)  # the hijack is reported all the same
    status = m.snapshot().status(parse_prefix(WATCHED))
    assert status is not None and status.more_specifics_refused == (FLOOD - CAP) * 3
    assert status.unexpected_origin_peers == 3
    text = scrape(ExportState(ProcessStatus("test"), core=m.snapshot()))
    assert value(text, "routewatch_bgp_prefix_more_specifics_refused_total", prefix=WATCHED) == (FLOOD - CAP) * 3


def test_withdrawn_more_specifics_make_room_again() -> None:
    m = engine()
    m.apply_all(announce(1, peer(1), hijacked(n), (64501, HIJACKER)) for n in range(CAP))
    m.apply_all(withdraw(2, peer(1), hijacked(n)) for n in range(CAP))
    assert more_specifics(m) == []
    m.apply_all(announce(3, peer(1), hijacked(n), (64501, HIJACKER)) for n in range(CAP, 2 * CAP))
    assert len(more_specifics(m)) == CAP and m.more_specifics.refused[parse_prefix(WATCHED)] == 0


def test_the_watched_prefix_itself_and_routes_over_a_nameserver_address_are_never_refused() -> None:
    m = engine()
    address = ipaddress.ip_address("10.255.0.53")
    m.add_address(address, (), "example.com.")
    m.apply_all(announce(1, peer(1), hijacked(n), (64501, HIJACKER)) for n in range(CAP + 10))
    m.apply_all([announce(2, peer(1), WATCHED, (64501, ORIGIN)), announce(2, peer(1), "10.255.0.53/32",
                                                                          (64501, HIJACKER))])
    assert WATCHED in [str(p) for p in m.table.prefixes()]
    assert "10.255.0.53/32" in more_specifics(m)  # the route a nameserver address's risk is judged from
    assert len(more_specifics(m)) == CAP + 1


def test_withdrawals_of_a_floods_more_specifics_leave_nothing_behind() -> None:
    """Withdrawals of more-specifics the core holds no route for (refused, or never announced) keep no place."""
    m = engine()
    m.apply_all(announce(1, peer(0), hijacked(n), (64500, HIJACKER)) for n in range(FLOOD))
    m.apply_all(withdraw(2, peer(0), hijacked(n)) for n in range(FLOOD))
    m.apply_all(withdraw(3, peer(1), hijacked(n)) for n in range(FLOOD, 2 * FLOOD))
    assert more_specifics(m) == [] and len(m.places._places) == 0


def test_a_detection_capped_by_the_limit_says_more_than_it_counts() -> None:
    """The open detection counts the kept offenders and says more were refused: in its evidence and its log line."""
    m = engine()
    m.apply_all(announce(1, peer(i), hijacked(n), (64500 + i, HIJACKER)) for n in range(FLOOD) for i in range(3))
    (opened,) = m.open_detections()
    assert opened.kind is DetectionKind.ORIGIN
    assert opened.evidence["prefixes"] == CAP and opened.evidence["refused"] == (FLOOD - CAP) * 3
    text = DetectionChange(ChangeKind.OPENED, opened, 1).as_text()
    assert f"{CAP} prefixes under it (more refused beyond limits.max_more_specifics)" in text
    closed = m.apply_all(withdraw(2, peer(i), hijacked(n)) for n in range(CAP) for i in range(3))
    (change,) = [c for c in closed if c.change is ChangeKind.CLOSED]
    assert change.detection.evidence["refused"] == (FLOOD - CAP) * 3
    assert "more refused beyond limits.max_more_specifics" in change.as_text()


def test_a_detection_opened_after_refusals_says_so_from_the_start() -> None:
    """Expected-origin more-specifics: one peer fills the cap, one more is refused, then two peers carry one."""
    m = engine()
    m.apply_all(announce(1, peer(0), hijacked(n), (64500, ORIGIN)) for n in range(CAP + 1))
    assert m.open_detections() == []  # one peer is below anomaly_min_peers
    changes = m.apply_all([announce(2, peer(1), hijacked(0), (64501, ORIGIN))])
    (opened,) = [c for c in changes if c.change is ChangeKind.OPENED]
    assert opened.detection.kind is DetectionKind.MORE_SPECIFIC and opened.detection.evidence["refused"] == 1
    assert "1 prefixes under it (more refused beyond limits.max_more_specifics)" in opened.as_text()


def test_an_uncapped_detection_says_nothing_of_refusals() -> None:
    m = engine()
    changes = m.apply_all(announce(1, peer(i), hijacked(n), (64500 + i, HIJACKER)) for n in range(3) for i in range(3))
    (opened,) = [c for c in changes if c.change is ChangeKind.OPENED]
    assert "refused" not in opened.detection.evidence and "refused" not in m.open_detections()[0].evidence
    assert "more refused" not in opened.as_text()


def flooded_state(tmp_path: Path, flood: int = FLOOD) -> Path:
    """A state file saved by a daemon whose cap was higher (or absent): ``flood`` hijacked /32s, three peers each."""
    m = Engine(engine().watch, CoreSettings(max_more_specifics=10 * flood))
    m.apply_all(announce(1, peer(i), hijacked(n), (64500 + i, HIJACKER)) for n in range(flood) for i in range(3))
    assert len(more_specifics(m)) == flood
    save_state(m, tmp_path / "state.json")
    return tmp_path / "state.json"


def test_a_state_file_with_more_more_specifics_than_the_cap_restores_only_the_cap(tmp_path: Path) -> None:
    """The cap holds on a restart too: a state file does not bring back, nor make room for, more than the cap."""
    m = engine()
    assert restore_state(m, flooded_state(tmp_path))
    assert len(more_specifics(m)) == CAP
    assert m.more_specifics.refused[parse_prefix(WATCHED)] == (FLOOD - CAP) * 3  # restored routes refused
    m.apply_all(announce(2, peer(i), hijacked(n), (64500 + i, HIJACKER)) for n in range(FLOOD, FLOOD + 100)
                for i in range(3))
    assert len(more_specifics(m)) == CAP  # no room was made for new ones either
    (detection,) = m.open_detections()
    assert detection.kind is DetectionKind.ORIGIN and detection.evidence["prefixes"] == CAP
    assert detection.evidence["refused"] == (FLOOD - CAP + 100) * 3


def test_a_restored_detection_keeps_its_listed_offenders_under_the_cap(tmp_path: Path) -> None:
    """The more-specifics a restored detection names are kept first, so it neither closes nor loses its evidence."""
    path = flooded_state(tmp_path)
    state = orjson.loads(path.read_bytes())
    listed = [o["prefix"] for o in state["anomalies"][0]["evidence"]["offenders"]]
    state["routes"] = dict(reversed(state["routes"].items()))  # the listed ones last in the file
    m = engine()
    changes = load_state(m, state)
    assert changes == []
    assert set(listed) <= set(more_specifics(m)) and len(more_specifics(m)) == CAP
    (detection,) = m.open_detections()
    assert [o["prefix"] for o in detection.evidence["offenders"]] == listed


def test_a_state_with_a_detection_per_more_specific_is_bounded_and_still_closes(tmp_path: Path) -> None:
    """State saved when each hijacked /32 had a detection of its own: offenders beyond the cap have no route kept
    and must not hold the merged detection open once the kept ones are withdrawn."""
    state = orjson.loads(flooded_state(tmp_path).read_bytes())
    (merged,) = state["anomalies"]
    state["anomalies"] = [{**merged, "prefix": hijacked(n), "evidence": {"peers": 3, "origins": [HIJACKER]}}
                          for n in range(FLOOD)]
    m = engine()
    load_state(m, state)
    (detection,) = m.open_detections()
    assert detection.evidence["prefixes"] == CAP
    kept = more_specifics(m)
    closed = m.apply_all(withdraw(2, peer(i), p) for p in kept for i in range(3))
    assert [(c.change, c.detection.kind) for c in closed] == [(ChangeKind.CLOSED, DetectionKind.ORIGIN)]
    assert m.open_detections() == []
