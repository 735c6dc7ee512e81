"""The BGP semantics of DESIGN.md, driven through the pure core with data time."""

from __future__ import annotations

import ipaddress

from routewatch.core.detection import ChangeKind, DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.visibility import PrefixState
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import FeedState, parse_prefix
from tests.support.events import announce, collector_state, peer, session_down, session_up, withdraw

P = "129.134.30.0/23"
ORIGIN = 32934


def monitor(*prefixes: str, ignore_ms: bool = False, **settings: float) -> Engine:
    watch = WatchSet([
        WatchedPrefix(parse_prefix(p), frozenset({ORIGIN}), WithdrawalThresholds(), description=f"watch {p}",
                      ignore_more_specifics=ignore_ms)
        for p in prefixes
    ])
    return Engine(watch, CoreSettings(**settings))  # type: ignore[arg-type]


def establish(m: Engine, n: int = 10, prefix: str = P, t: float = 0.0) -> list:
    return m.apply_all(announce(t, peer(i), prefix, (64500 + i, 3356, ORIGIN)) for i in range(n))


def kinds(changes: list) -> list[tuple[str, str, str]]:
    return [(c.change.value, c.detection.kind.value, str(c.detection.prefix)) for c in changes]


def test_a_stable_prefix_is_visible_with_its_baseline() -> None:
    m = monitor(P)
    assert establish(m) == []
    m.advance(1000)
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None
    assert (status.state, status.visible_peers, status.baseline_peers, status.ratio) == (
        PrefixState.VISIBLE, 10, 10, 1.0)
    assert status.visible_peer_asns == 10


def test_withdrawal_by_60_percent_opens_after_hold_down_and_recovery_closes() -> None:
    m = monitor(P)
    establish(m)
    changes = m.apply_all(withdraw(1000, peer(i), P) for i in range(6))
    assert changes == []  # hold-down not over yet
    pending = m.snapshot().status(parse_prefix(P))
    assert pending is not None and (pending.state, pending.ratio) == (PrefixState.PENDING, 0.4)
    assert m.advance(1059) == []
    opened = m.advance(1060)
    assert kinds(opened) == [("opened", "withdrawal", P)]
    assert opened[0].time == 1060 and opened[0].detection.start == 1000
    evidence = opened[0].detection.evidence
    assert (evidence["visible_peers"], evidence["baseline_peers"], evidence["gone_from_percent"]) == (4, 10, 60.0)
    assert m.snapshot().status(parse_prefix(P)).state is PrefixState.WITHDRAWN
    # Partial return below the recovery threshold (0.8) keeps it open: hysteresis.
    assert m.apply_all(announce(2000, peer(i), P, (64500 + i, ORIGIN)) for i in range(3)) == []
    closed = m.apply_all([announce(2100, peer(3), P, (64503, ORIGIN))])
    assert kinds(closed) == [("closed", "withdrawal", P)]
    assert closed[0].detection.end == 2100


def test_a_brief_dip_shorter_than_the_hold_down_raises_nothing() -> None:
    m = monitor(P)
    establish(m)
    changes = m.apply_all(withdraw(1000, peer(i), P) for i in range(6))
    changes += m.apply_all(announce(1030, peer(i), P, (64500 + i, 3356, ORIGIN)) for i in range(6))
    changes += m.advance(5000)
    assert changes == []


def test_withdrawal_by_40_percent_is_not_a_withdrawal() -> None:
    m = monitor(P)
    establish(m)
    changes = m.apply_all(withdraw(1000, peer(i), P) for i in range(4))
    assert changes + m.advance(9000) == []


def test_peer_sessions_going_down_and_back_raise_no_withdrawal() -> None:
    m = monitor(P)
    establish(m)
    # a collector restart: 8 of 10 sessions drop at once, then come back and re-send
    changes = m.apply_all(session_down(1000, peer(i)) for i in range(8))
    changes += m.advance(1500)
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None and status.baseline_peers == 2 and status.visible_peers == 2
    changes += m.apply_all(session_up(1600, peer(i)) for i in range(8))
    changes += m.apply_all(announce(1610, peer(i), P, (64500 + i, 3356, ORIGIN)) for i in range(8))
    changes += m.advance(5000)
    assert changes == []
    assert m.snapshot().status(parse_prefix(P)).ratio == 1.0


def test_a_returning_peer_that_never_resends_rejoins_after_the_settle_time() -> None:
    m = monitor(P, peer_settle=600)
    establish(m)
    changes = m.apply_all(session_down(1000, peer(i)) for i in range(6))
    changes += m.apply_all(session_up(1100, peer(i)) for i in range(6))
    assert changes + m.advance(1650) == []
    opened = m.advance(1800)  # settled at 1700 without the route: a real loss, held down 60 s
    assert kinds(opened) == [("opened", "withdrawal", P)]
    assert (opened[0].detection.start, opened[0].time) == (1700, 1760)


def test_path_hunting_peers_do_not_join_the_baseline() -> None:
    m = monitor(P)
    establish(m, n=5)
    # five other peers carry it for a few seconds while hunting, then withdraw
    hunt = [announce(1000, peer(i), P, (64500 + i, 1299, 174, ORIGIN)) for i in range(5, 10)]
    hunt += [withdraw(1010, peer(i), P) for i in range(5, 10)]
    assert m.apply_all(hunt) + m.advance(2000) == []
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None and status.baseline_peers == 5 and status.ratio == 1.0


def test_baseline_is_frozen_while_a_withdrawal_is_open() -> None:
    m = monitor(P, baseline_window=3600)
    establish(m)
    m.apply_all(withdraw(1000, peer(i), P) for i in range(10))
    assert kinds(m.advance(1100)) == [("opened", "withdrawal", P)]
    m.advance(1000 + 5 * 3600)  # far past the window: still missing, not "healthy with baseline 0"
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None
    assert (status.state, status.baseline_peers, status.visible_peers) == (PrefixState.WITHDRAWN, 10, 0)


def test_hijacked_more_specific_is_an_origin_detection_under_its_watched_prefix() -> None:
    m = monitor(P)
    establish(m)
    hijack = "129.134.30.0/24"
    changes = m.apply_all(announce(1000, peer(i), hijack, (64500 + i, 666)) for i in range(3))
    assert kinds(changes) == [("opened", "origin", hijack)]
    d = changes[0].detection
    assert d.watched == parse_prefix(P) and d.evidence["origins"] == [666] and d.evidence["peers"] == 3
    assert m.snapshot().status(parse_prefix(P)).unexpected_origin_peers == 3
    closed = m.apply_all(withdraw(2000, peer(i), hijack) for i in range(3))
    assert kinds(closed) == [("closed", "origin", hijack)]


def test_exact_prefix_hijack_and_as_set_origins() -> None:
    m = monitor(P)
    establish(m)
    changes = m.apply_all([
        announce(1000, peer(20), P, (64520, frozenset({ORIGIN, 666}))),
        announce(1000, peer(21), P, (64521, 666)),
    ])
    assert kinds(changes) == [("opened", "origin", P)]
    assert sorted(changes[0].detection.evidence["origins"]) == [666, ORIGIN]
    # an AS_SET made only of expected origins is fine
    ok = m.apply_all([announce(1100, peer(22), "129.134.31.0/24", (64522, frozenset({ORIGIN})))] * 1)
    assert all(c.detection.kind is not DetectionKind.ORIGIN for c in ok)


def test_unexpected_more_specific_and_ignore_flag() -> None:
    m = monitor(P)
    establish(m)
    changes = m.apply_all(announce(1000, peer(i), "129.134.31.0/24", (64500 + i, ORIGIN)) for i in range(2))
    assert kinds(changes) == [("opened", "more-specific", "129.134.31.0/24")]
    quiet = monitor(P, ignore_ms=True)
    establish(quiet)
    assert quiet.apply_all(announce(1000, peer(i), "129.134.31.0/24", (64500 + i, ORIGIN)) for i in range(2)) == []


def test_configured_more_specifics_are_never_unexpected() -> None:
    m = monitor(P, "129.134.31.0/24")
    establish(m)
    assert m.apply_all(announce(1000, peer(i), "129.134.31.0/24", (64500 + i, ORIGIN)) for i in range(5)) == []


def test_insufficient_baseline_and_missing_are_states_of_their_own() -> None:
    m = monitor(P, "185.89.218.0/23")
    m.apply_all([announce(0, peer(1), P, (64501, ORIGIN)), announce(0, peer(2), P, (64502, ORIGIN))])
    m.advance(1000)
    snap = m.snapshot()
    assert snap.status(parse_prefix(P)).state is PrefixState.INSUFFICIENT_BASELINE
    assert snap.status(parse_prefix("185.89.218.0/23")).state is PrefixState.MISSING


def test_a_stale_collector_removes_only_its_peers_and_all_stale_is_unknown() -> None:
    m = monitor(P)
    m.apply_all(announce(0, peer(i, "rrc00"), P, (64500 + i, ORIGIN)) for i in range(6))
    m.apply_all(announce(0, peer(i, "rrc01"), P, (64500 + i, ORIGIN)) for i in range(6, 10))
    m.advance(1000)
    changes = m.apply_all([collector_state(1000, "rrc00", FeedState.STALE)])
    changes += m.advance(2000)
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None and (status.visible_peers, status.baseline_peers, status.state) == (
        4, 4, PrefixState.VISIBLE)
    changes += m.apply_all([collector_state(2000, "rrc01", FeedState.STALE)])
    changes += m.advance(3000)
    assert m.snapshot().status(parse_prefix(P)).state is PrefixState.UNKNOWN
    changes += m.apply_all([collector_state(3000, "rrc00", FeedState.UP), collector_state(3000, "rrc01", FeedState.UP)])
    changes += m.advance(4000)
    assert changes == []
    assert m.snapshot().status(parse_prefix(P)).visible_peers == 10


def test_non_unicast_routes_do_not_count() -> None:
    m = monitor(P)
    m.apply_all(announce(0, peer(i), P, (64500 + i, ORIGIN), safi=2) for i in range(10))
    m.advance(1000)
    assert m.snapshot().status(parse_prefix(P)).visible_peers == 0


def test_nameserver_address_falling_back_to_an_aggregate_is_at_risk() -> None:
    watch = WatchSet([WatchedPrefix(parse_prefix(P), frozenset({ORIGIN}), WithdrawalThresholds())])
    address = ipaddress.ip_address("129.134.30.12")
    watch.add_address(address)
    m = Engine(watch, service_prefixes={address: (parse_prefix(P),)})
    establish(m)
    establish(m, prefix="129.134.0.0/17")
    m.advance(1000)
    risk = m.address_risk(address)
    assert risk is not None and (risk.baseline_peers, risk.peers_at_risk) == (10, 0)
    m.apply_all(withdraw(1000, peer(i), P) for i in range(9))
    m.advance(1200)
    risk = m.address_risk(address)
    assert risk is not None and (risk.baseline_peers, risk.peers_at_risk) == (10, 9)
    assert risk.matches == {"129.134.0.0/17": 9, P: 1}


def test_learned_service_prefix_and_hijacker_more_specific_over_the_address() -> None:
    watch = WatchSet()
    address = ipaddress.ip_address("129.134.30.12")
    watch.add_address(address)
    m = Engine(watch)
    establish(m, prefix="129.134.0.0/17")
    establish(m, prefix=P)
    m.advance(1000)
    risk = m.address_risk(address)
    assert risk is not None and risk.service_prefixes == (parse_prefix(P),) and risk.peers_at_risk == 0
    m.apply_all(announce(1000, peer(i), "129.134.30.0/24", (64500 + i, 666)) for i in range(4))
    m.advance(1100)
    assert m.address_risk(address).peers_at_risk == 4
    assert all(c.change is not ChangeKind.OPENED or c.detection.kind is DetectionKind.ORIGIN for c in [])


def test_reconcile_after_a_gap_withdraws_only_what_went_away() -> None:
    m = monitor(P)
    establish(m)
    m.advance(1000)
    m.apply_all([collector_state(1000, "rrc00", FeedState.STALE)])
    # while disconnected 7 peers withdrew; the snapshot after reconnecting shows the 3 that remain
    snapshot = [announce(2000, peer(i), P, (64500 + i, 3356, ORIGIN)) for i in range(7, 10)]
    changes = m.apply_all([collector_state(2000, "rrc00", FeedState.UP)])
    changes += m.reconcile(snapshot, {"rrc00"}, 2000)
    assert changes == []
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None and (status.visible_peers, status.baseline_peers) == (3, 10)
    assert kinds(m.advance(2060)) == [("opened", "withdrawal", P)]


def test_reconcile_confirming_everything_changes_nothing() -> None:
    m = monitor(P)
    establish(m)
    m.advance(1000)
    snapshot = [announce(2000, peer(i), P, (64500 + i, 3356, ORIGIN)) for i in range(10)]
    assert m.reconcile(snapshot, {"rrc00"}, 2000) + m.advance(9000) == []
    assert m.snapshot().status(parse_prefix(P)).ratio == 1.0


def test_watched_asn_prefixes_are_found_in_the_data_up_to_the_cap() -> None:
    m = Engine(WatchSet(asns={ORIGIN: 2}))
    for n, prefix in enumerate(["157.240.0.0/17", "31.13.24.0/21", "69.171.224.0/19"]):
        m.apply_all(announce(n, peer(i), prefix, (64500 + i, 3356, ORIGIN)) for i in range(5))
    m.apply_all([announce(10, peer(1), "8.8.8.0/24", (64501, 15169))])
    m.advance(1000)
    snap = m.snapshot()
    assert [str(s.prefix) for s in snap.prefixes] == ["31.13.24.0/21", "157.240.0.0/17"]
    assert all(s.source == f"asn:{ORIGIN}" and s.visible_peers == 5 for s in snap.prefixes)
    assert snap.asn_over_cap == {ORIGIN: 1}
    # a discovered prefix is watched like a configured one: its withdrawal is detected
    m.apply_all(withdraw(2000, peer(i), "157.240.0.0/17") for i in range(5))
    assert kinds(m.advance(2100)) == [("opened", "withdrawal", "157.240.0.0/17")]


def test_add_path_routes_count_one_peer_once() -> None:
    m = monitor(P)
    m.apply_all(announce(0, peer(i), P, (64500 + i, ORIGIN), path_id=1) for i in range(5))
    m.apply_all(announce(0, peer(i), P, (64500 + i, 1299, ORIGIN), path_id=2) for i in range(5))
    m.advance(1000)
    assert m.snapshot().status(parse_prefix(P)).visible_peers == 5
    # dropping one of two paths keeps the peer visible; dropping both does not
    changes = m.apply_all(withdraw(1000, peer(i), P, path_id=1) for i in range(5))
    changes += m.advance(1100)
    assert changes == [] and m.snapshot().status(parse_prefix(P)).visible_peers == 5
    m.apply_all(withdraw(1200, peer(i), P, path_id=2) for i in range(5))
    assert kinds(m.advance(1300)) == [("opened", "withdrawal", P)]
