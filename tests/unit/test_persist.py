"""A restart neither forgets an outage nor pages again."""

from __future__ import annotations

from routewatch.config.schema import parse_config
from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.visibility import PrefixState
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.daemon.persist import restore_state, save_state
from routewatch.daemon.tapped import TappedEngine, build_tapped, carry_over
from routewatch.model import parse_prefix
from tests.support.events import announce, peer, withdraw

P = "129.134.30.0/23"


def fresh() -> Engine:
    return Engine(WatchSet([WatchedPrefix(parse_prefix(P), frozenset({32934}), WithdrawalThresholds())]))


def test_open_withdrawal_and_hijack_survive_a_restart(tmp_path) -> None:
    m = fresh()
    m.apply_all(announce(0, peer(i), P, (64500 + i, 32934)) for i in range(10))
    m.apply_all(withdraw(1000, peer(i), P) for i in range(8))
    opened = m.advance(1100)
    opened += m.apply_all(announce(1100, peer(i), "129.134.30.0/24", (64500 + i, 666)) for i in range(3))
    assert sorted(c.detection.kind.value for c in opened) == ["origin", "withdrawal"]
    before = m.snapshot().status(parse_prefix(P))
    save_state(m, tmp_path / "state.json")

    restarted = fresh()
    assert restore_state(restarted, tmp_path / "state.json")
    after = restarted.snapshot().status(parse_prefix(P))
    assert after == before
    assert after.state is PrefixState.WITHDRAWN and after.unexpected_origin_peers == 3
    assert len(restarted.open_detections()) == 2
    # nothing re-opens as time goes on; recovery and the hijack's end close what was open before
    assert restarted.advance(5000) == []
    closed = restarted.apply_all(announce(6000, peer(i), P, (64500 + i, 32934)) for i in range(8))
    closed += restarted.apply_all(withdraw(6000, peer(i), "129.134.30.0/24") for i in range(3))
    assert sorted((c.change.value, c.detection.kind.value) for c in closed) == [
        ("closed", "origin"), ("closed", "withdrawal")]
    assert closed[0].detection.start in (1000, 1100)


def test_restore_without_a_file_is_a_fresh_start(tmp_path) -> None:
    assert restore_state(fresh(), tmp_path / "missing.json") is False


SUB = "129.134.30.0/24"
HIJACKER = 666


def hijacked(origins: list[int]) -> tuple[TappedEngine, list[DetectionChange]]:
    """A daemon's monitor whose config expects ``origins``, with every change it makes logged."""
    m = build_tapped(parse_config({"prefixes": [{"prefix": P, "asn": origins}]}), bootstrapped=True)
    logged: list[DetectionChange] = []
    m.sink = logged.extend
    return m, logged


def changes(logged: list[DetectionChange]) -> list[tuple[str, str, str]]:
    return sorted((c.change.value, c.detection.kind.value, str(c.detection.prefix)) for c in logged)


def test_a_restart_with_the_hijacker_now_expected_logs_the_close_and_the_more_specific(tmp_path) -> None:
    before, logged = hijacked([32934])
    before.apply_all(announce(100, peer(i), SUB, (64500 + i, HIJACKER)) for i in range(5))
    assert changes(logged) == [("opened", "origin", SUB)]
    save_state(before, tmp_path / "state.json")

    same, logged = hijacked([32934])
    assert restore_state(same, tmp_path / "state.json")
    assert logged == []  # the restored detection stays open: no change
    assert [d.kind.value for d in same.open_detections()] == ["origin"]

    expecting, logged = hijacked([32934, HIJACKER])
    assert restore_state(expecting, tmp_path / "state.json")
    assert changes(logged) == [("closed", "origin", SUB), ("opened", "more-specific", SUB)]
    assert [d.kind.value for d in expecting.open_detections()] == ["more-specific"]


def test_a_reload_with_the_hijacker_now_expected_passes_the_close_and_the_more_specific_on() -> None:
    before, _ = hijacked([32934])
    before.apply_all(announce(100, peer(i), SUB, (64500 + i, HIJACKER)) for i in range(5))
    logged: list[DetectionChange] = []
    carry_over(before, parse_config({"prefixes": [{"prefix": P, "asn": [32934]}]}), logged.extend)
    assert logged == []
    after = carry_over(before, parse_config({"prefixes": [{"prefix": P, "asn": [32934, HIJACKER]}]}), logged.extend)
    assert changes(logged) == [("closed", "origin", SUB), ("opened", "more-specific", SUB)]
    assert [d.kind.value for d in after.open_detections()] == ["more-specific"]
