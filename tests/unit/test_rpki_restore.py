"""RPKI detections across a restart or a reload: kept as they were until a VRP set can judge them.

A restarted daemon, and the monitor a reload builds, has no VRP set until its
sources load. Until then an open ``rpki-invalid``, ``rpki-not-covered`` or
``rpki-roa-expiring`` neither closes nor opens again (the on-call would see a
close and a reopen for a hijack that never stopped); the first set judges
them. A config that no longer has RPKI sources closes them, saying why.
"""

from __future__ import annotations

from typing import Any

from routewatch.config.schema import parse_config
from routewatch.core.detection import DetectionChange, DetectionKind
from routewatch.daemon.persist import restore_state, save_state
from routewatch.daemon.tapped import TappedEngine, build_tapped, carry_over
from routewatch.model import parse_prefix
from routewatch.rpki.vrp import Vrp
from tests.support.events import announce, peer, withdraw

INVALID = "193.0.0.0/21"  # our own announcement, made invalid by a ROA for another AS
UNCOVERED = "198.51.100.0/24"  # no ROA at all
EXPIRING = "203.0.113.0/24"  # its ROA expires within the warning window
OWN, OTHER = 3333, 64999
DAY = 86_400.0
RPKI = {"sources": [{"type": "json", "path": "vrps.json"}], "expiry_warning": 2 * DAY}
RPKI_KINDS = ["rpki-invalid", "rpki-not-covered", "rpki-roa-expiring"]


def config(rpki: bool = True) -> Any:
    prefixes = [{"prefix": p, "asn": [OWN]} for p in (INVALID, UNCOVERED, EXPIRING)]
    return parse_config({"prefixes": prefixes, **({"rpki": RPKI} if rpki else {})})


def vrps(*, fixed: bool = False) -> list[Vrp]:
    """The set that opens all three kinds; ``fixed``: the ROAs corrected and renewed, so none holds."""
    return [Vrp(parse_prefix(INVALID), 21, OWN if fixed else OTHER),
            *([Vrp(parse_prefix(UNCOVERED), 24, OWN)] if fixed else []),
            Vrp(parse_prefix(EXPIRING), 24, OWN, expires=(30 if fixed else 2) * DAY)]


def daemon(rpki: bool = True) -> tuple[TappedEngine, list[DetectionChange]]:
    m = build_tapped(config(rpki), bootstrapped=True)
    logged: list[DetectionChange] = []
    m.sink = logged.extend
    return m, logged


def opened_all_three() -> TappedEngine:
    m, logged = daemon()
    m.apply_all(announce(100, peer(i), p, (64500 + i, OWN)) for i in range(5) for p in (INVALID, UNCOVERED, EXPIRING))
    m.advance(200)
    m.set_vrps(vrps())
    assert changes(logged) == [("opened", kind) for kind in RPKI_KINDS]
    return m


def changes(logged: list[DetectionChange]) -> list[tuple[str, str]]:
    return sorted((c.change.value, c.detection.kind.value) for c in logged)


def open_rpki(m: TappedEngine) -> dict[str, float]:
    """The open RPKI detections by kind, with their start."""
    return {d.kind.value: d.start for d in m.open_detections() if d.kind.value in RPKI_KINDS}


def test_a_restart_keeps_rpki_detections_open_until_the_first_vrp_set_and_then_changes_nothing(tmp_path) -> None:
    before = opened_all_three()
    save_state(before, tmp_path / "state.json")
    restarted, logged = daemon()
    assert restore_state(restarted, tmp_path / "state.json")
    restarted.advance(300)
    assert logged == []  # no VRP set yet: nothing closes
    assert open_rpki(restarted) == dict.fromkeys(RPKI_KINDS, 200)
    restarted.set_vrps(vrps())
    assert logged == []  # the first set finds them still holding: nothing reopens
    assert open_rpki(restarted) == dict.fromkeys(RPKI_KINDS, 200)


def test_after_a_restart_the_first_vrp_set_closes_what_no_longer_holds_with_its_first_start(tmp_path) -> None:
    save_state(opened_all_three(), tmp_path / "state.json")
    restarted, logged = daemon()
    assert restore_state(restarted, tmp_path / "state.json")
    restarted.advance(300)
    restarted.set_vrps(vrps(fixed=True))
    assert changes(logged) == [("closed", kind) for kind in RPKI_KINDS]
    assert {c.detection.start for c in logged} == {200}
    assert open_rpki(restarted) == {}


def test_a_restored_invalid_route_withdrawn_before_the_first_vrp_set_closes_with_that_set(tmp_path) -> None:
    """The set judges the restored detection's prefix even though no route is left there to judge."""
    save_state(opened_all_three(), tmp_path / "state.json")
    restarted, logged = daemon()
    assert restore_state(restarted, tmp_path / "state.json")
    restarted.apply_all(withdraw(300, peer(i), INVALID) for i in range(5))  # while the sources still load
    restarted.advance(400)
    assert logged == []
    restarted.set_vrps(vrps())
    assert changes(logged) == [("closed", "rpki-invalid")]
    assert "rpki-invalid" not in open_rpki(restarted)


def test_a_reload_keeping_rpki_carries_the_vrp_set_and_changes_nothing() -> None:
    before = opened_all_three()
    logged: list[DetectionChange] = []
    after = carry_over(before, config(), logged.extend)
    assert logged == []
    assert after.rpki.index is before.rpki.index
    assert open_rpki(after) == dict.fromkeys(RPKI_KINDS, 200)


def test_a_reload_turning_rpki_off_closes_the_rpki_detections_saying_why() -> None:
    before = opened_all_three()
    logged: list[DetectionChange] = []
    after = carry_over(before, config(rpki=False), logged.extend)
    assert after.rpki.index is None  # nothing validates against a set no source is configured for
    assert changes(logged) == [("closed", kind) for kind in RPKI_KINDS]
    assert {c.detection.evidence["closed_reason"] for c in logged} == {"rpki-not-configured"}
    assert all("RPKI no longer configured" in c.as_text() for c in logged)
    assert open_rpki(after) == {}
    assert [s.rpki_state for s in after.snapshot().prefixes] == [None, None, None]


def test_a_restart_with_rpki_no_longer_configured_closes_the_rpki_detections(tmp_path) -> None:
    save_state(opened_all_three(), tmp_path / "state.json")
    restarted, logged = daemon(rpki=False)
    assert restore_state(restarted, tmp_path / "state.json")
    assert changes(logged) == [("closed", kind) for kind in RPKI_KINDS]
    assert open_rpki(restarted) == {}
    assert restarted.advance(300) == []


def test_a_restored_hijack_keeps_its_origin_detection_whatever_rpki_does(tmp_path) -> None:
    """Only the RPKI kinds wait for (or close without) a VRP set: a hijack's origin detection is not one."""
    m, _ = daemon()
    m.apply_all(announce(100, peer(i), "193.0.4.0/24", (64500 + i, 64666)) for i in range(5))
    save_state(m, tmp_path / "state.json")
    for rpki in (True, False):
        restarted, logged = daemon(rpki)
        assert restore_state(restarted, tmp_path / "state.json")
        assert logged == [] and [d.kind for d in restarted.open_detections()] == [DetectionKind.ORIGIN]
