"""An address registered after its service prefix was withdrawn still sees the loss (past holders).

Only a covering aggregate is watched, as an operator watching its /17 does;
the more-specific serving the nameservers is nobody's business until DNS
discovery finds the addresses. The core remembers who held each
more-specific of a watched prefix, so an address found late takes the
more-specific with the baseline it had, not the aggregate that stayed.
Sequences: the reconstructed 2021-10-04 outage (path hunting, a collector
restart, the return at 21:00) and the service-prefix scenario of the
integration tests (34 of 40 peers withdraw 127.0.0.16/29 under 127.0.0.0/8).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import orjson
import pytest

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.past_holders import PastHolders
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.visibility import Exclusion, PrefixState
from routewatch.core.watch import WatchedPrefix
from routewatch.daemon.persist import dump_state, load_state
from routewatch.daemon.tapped import carry_over
from routewatch.errors import StateError
from routewatch.model import Event, FsmState, Peer, PeerStateChange, RouteAnnouncement, RouteWithdrawal, parse_prefix
from tests.support import outage_2021 as outage
from tests.support import service_prefix as sp
from tests.unit.test_address_routes import ADDRESSES, AGGREGATE, SERVICE, at_risk, events, register

NS = outage.delegation()["ns"]
FB_ADDRESSES = [ipaddress.ip_address(NS[name]["A"]) for name in ("a.ns.facebook.com.", "b.ns.facebook.com.")]
AT_1600 = outage.utc("2021-10-04 16:00:00")
DAY = 86_400.0


def aggregate_only(prefix: str, origin: int, zone: str) -> Engine:
    return build_engine(parse_config({"prefixes": [{"prefix": prefix, "asn": origin}], "zones": [{"zone": zone}]}))


def facebook() -> Engine:
    return aggregate_only(outage.AGGREGATE, outage.FACEBOOK, "facebook.com")


def feed(monitor: Engine, stream: Iterable[Event], until: float) -> None:
    monitor.apply_all(e for e in stream if e.time <= until)
    monitor.advance(until)


def test_2021_addresses_found_at_1600_see_what_addresses_known_from_the_start_see() -> None:
    scenario = outage.build()
    early, late = facebook(), facebook()
    register(early, FB_ADDRESSES)
    feed(early, scenario.events, AT_1600)
    feed(late, scenario.events, AT_1600)
    register(late, FB_ADDRESSES)
    for address in FB_ADDRESSES:
        assert at_risk(late, address) == at_risk(early, address)
        risk = late.address_risk(address)
        assert risk is not None and risk.at_risk
        assert risk.service_prefixes[0].prefixlen == 24  # the most specific, not the /17 that stayed
        assert risk.peers_at_risk / risk.baseline_peers >= 0.8
        assert risk.fallbacks[0].prefix == parse_prefix(outage.AGGREGATE)  # the 2021 trap, named


def test_2021_the_late_address_opens_the_withdrawal_and_closes_it_on_the_return() -> None:
    scenario = outage.build()
    monitor = facebook()
    feed(monitor, scenario.events, AT_1600)
    register(monitor, FB_ADDRESSES)
    served = {p for a in FB_ADDRESSES for p in monitor.address_risk(a).service_prefixes}  # type: ignore[union-attr]
    monitor.advance(AT_1600 + 120)  # past the hold-down
    snapshot = monitor.snapshot()
    assert {p: snapshot.status(p).state for p in served} == {p: PrefixState.WITHDRAWN for p in served}
    assert served <= {d.prefix for d in monitor.open_detections() if d.kind is DetectionKind.WITHDRAWAL}
    feed(monitor, [e for e in scenario.events if e.time > AT_1600], outage.END)
    assert not [d for d in monitor.open_detections() if d.kind is DetectionKind.WITHDRAWAL and d.prefix in served]
    for address in FB_ADDRESSES:
        risk = monitor.address_risk(address)
        assert risk is not None and not risk.at_risk and risk.peers_at_risk == 0


def test_the_service_scenario_found_after_the_withdrawal() -> None:
    monitor = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    monitor.apply_all(events())
    register(monitor)
    for address in ADDRESSES:
        assert at_risk(monitor, address) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])
    monitor.advance(sp.END + 61)
    assert monitor.snapshot().status(SERVICE).state is PrefixState.WITHDRAWN


def test_a_more_specific_held_only_briefly_is_not_remembered() -> None:
    """Path hunting or a flap shorter than the minimum hold leaves nothing behind."""
    monitor = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    peer, brief = Peer("rrc00", "192.0.2.1", 64601), parse_prefix("127.0.0.16/30")
    monitor.apply_all([RouteAnnouncement(1000.0, peer, brief, (64601, sp.ORIGIN)),
                       RouteWithdrawal(1030.0, peer, brief)])
    assert monitor.past.get(brief) is None and len(monitor.past) == 0


def test_a_more_specific_with_an_unexpected_origin_is_not_remembered() -> None:
    """A hijacker's more-specific never becomes a service prefix: only expected origins are held."""
    monitor = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    hijack = parse_prefix("127.0.0.16/30")
    stream = events(until=sp.ANNOUNCED) + [
        RouteAnnouncement(sp.ANNOUNCED + 1.0, Peer("rrc00", f"192.0.2.{n + 1}", 64601 + n), hijack, (64601 + n, 666))
        for n in range(0, 40, 2)]
    monitor.apply_all(stream, established=True)
    assert monitor.past.get(hijack) is None
    register(monitor)
    assert at_risk(monitor, ADDRESSES[0]) == ((sp.SERVICE,), 40, 20, [("more-specific", "127.0.0.16/30", 20)])


def test_sessions_going_down_are_not_a_loss() -> None:
    """Peers whose sessions went down leave the remembered baseline, as they leave a watched prefix's."""
    monitor = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    monitor.apply_all(events(until=sp.ANNOUNCED), established=True)
    down = [PeerStateChange(sp.WITHDRAWALS, peer, FsmState.ESTABLISHED, FsmState.IDLE)
            for peer in (Peer(p.collector, p.address, p.asn) for p in sp.peers()[:sp.WITHDRAWING])]
    monitor.apply_all(down)
    register(monitor)
    assert at_risk(monitor, ADDRESSES[0]) == ((sp.SERVICE,), 6, 0, [])


def test_past_holders_leave_after_the_baseline_window() -> None:
    """A day after the loss the remembered baseline is the peers still holding, as a watched prefix's would be."""
    monitor = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    gone = parse_prefix("127.0.0.24/29")
    monitor.apply_all(events(), established=True)
    peers = [Peer("rrc00", f"192.0.2.{n + 1}", 64601 + n) for n in range(3)]
    monitor.apply_all([RouteAnnouncement(sp.ANNOUNCED + 1.0, p, gone, (p.asn, sp.ORIGIN)) for p in peers],
                      established=True)
    monitor.apply_all([RouteWithdrawal(sp.END, p, gone) for p in peers])
    assert monitor.past.get(gone) is not None
    remembered = monitor.past.get(SERVICE)
    assert remembered is not None and len(remembered.last_held) == 34
    monitor.advance(sp.END + DAY + 120)
    assert monitor.past.get(gone) is None  # nobody holds it and nobody counts any more: forgotten
    remembered = monitor.past.get(SERVICE)
    assert remembered is not None and len(remembered.members(monitor.now, monitor.exclusion)) == 6
    register(monitor)
    assert at_risk(monitor, ADDRESSES[0]) == ((sp.SERVICE,), 6, 0, [])
    assert AGGREGATE in monitor.visibility


def test_a_restart_before_discovery_keeps_who_lost_the_more_specific() -> None:
    """Saved and restored during the outage, before any address was known: found after, it still sees the loss."""
    before = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    before.apply_all(events())
    state = orjson.loads(orjson.dumps(dump_state(before)))
    assert set(state["past"]) == {sp.SERVICE}
    after = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    load_state(after, state)
    register(after)
    for address in ADDRESSES:
        assert at_risk(after, address) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])


def test_a_damaged_past_entry_is_reported_with_its_path() -> None:
    monitor = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    monitor.apply_all(events())
    state = orjson.loads(orjson.dumps(dump_state(monitor)))
    state["past"][sp.SERVICE]["last_held"][0][0] = 4000
    with pytest.raises(StateError) as caught:
        load_state(aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE), state)
    assert caught.value.problems == [
        f"past['{sp.SERVICE}'].last_held[0][0]: peer index 4000 is outside the peer table (40 peers)"]


def test_a_longest_match_waiting_to_be_learned_is_judged_when_it_is_stable() -> None:
    """Nothing watched, the address known first: the /29 is learned the moment it has been held min_hold,
    not at the next sweep, though no route changes in between (a quiet feed after the announcements)."""
    monitor = build_engine(parse_config({"zones": [{"zone": sp.ZONE}], "bgp": {"baseline_min_hold": 90}}))
    register(monitor)
    monitor.apply_all(events(until=sp.ANNOUNCED))
    monitor.advance(sp.ANNOUNCED + 89)
    assert at_risk(monitor, ADDRESSES[0]) == ((), 0, 0, [])
    monitor.advance(sp.ANNOUNCED + 90)  # sweeps fall at +60 and +120
    assert at_risk(monitor, ADDRESSES[0]) == ((sp.SERVICE,), 40, 0, [])


def test_a_reload_before_discovery_carries_the_past_holders_over() -> None:
    raw = {"prefixes": [{"prefix": sp.AGGREGATE, "asn": sp.ORIGIN}], "zones": [{"zone": sp.ZONE}]}
    before = aggregate_only(sp.AGGREGATE, sp.ORIGIN, sp.ZONE)
    before.apply_all(events())
    after = carry_over(before, parse_config(raw), lambda changes: None)
    register(after)
    assert at_risk(after, ADDRESSES[0]) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])
    unwatched = carry_over(before, parse_config({"zones": [{"zone": sp.ZONE}]}), lambda changes: None)
    assert len(unwatched.past) == 0  # the /8 no longer watched: nothing under it is remembered


def test_an_entry_an_address_counted_after_its_window_is_still_forgotten() -> None:
    ex = Exclusion(lambda p: False, lambda p, w: False, lambda p: 1)
    covering = WatchedPrefix(parse_prefix("10.0.0.0/8"), frozenset({1}), WithdrawalThresholds())
    sub = parse_prefix("10.1.0.0/24")
    past = PastHolders(min_hold=300, window=86_400)
    past.set_holding(covering, sub, 7, True, 0, ex)
    past.set_holding(covering, sub, 7, False, 1000, ex)  # held long enough: remembered
    assert past.members(sub, 1000 + 86_401, ex) == set()  # asked once the window has ended
    past.sweep(1000 + 86_402, ex)
    assert len(past) == 0
