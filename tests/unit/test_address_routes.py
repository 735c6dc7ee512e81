"""The routes under a nameserver address do not depend on the order things reach the core.

The service-prefix scenario (127.0.0.16/29 withdrawn by 34 of 40 peers while
127.0.0.0/8 stays) is fed to the core with the nameserver addresses
registered before the routes, after them, after a restart from saved state,
and found in the middle of the outage: every order reports the same 34 peers
at risk out of a baseline of 40.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.dns_risk import FallbackKind, assess, longest_matches, service_from_baselines
from routewatch.core.engine import Engine
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.table import RouteTable
from routewatch.daemon.persist import dump_state, load_state
from routewatch.model import Event, Peer, RouteAnnouncement, RouteWithdrawal, parse_prefix
from tests.support import service_prefix as sp

ADDRESSES = [ipaddress.ip_address(a) for a in sp.NAMESERVERS.values()]
SERVICE, AGGREGATE = parse_prefix(sp.SERVICE), parse_prefix(sp.AGGREGATE)


def events(until: float = float("inf")) -> list[Event]:
    """The scenario as core events, in time order."""
    out: list[Event] = []
    for collector, story in sp.updates().items():
        for update in story:
            if update.time > until:
                continue
            peer = Peer(collector, update.peer_ip, update.peer_as)
            out.extend(RouteWithdrawal(float(update.time), peer, parse_prefix(p)) for p in update.withdrawn)
            out.extend(RouteAnnouncement(float(update.time), peer, parse_prefix(p), tuple(update.path))
                       for p in update.announced)
    return sorted(out, key=lambda e: e.time)


def config(*prefixes: str) -> Any:
    return parse_config({
        "prefixes": [{"prefix": p, "asn": sp.ORIGIN} for p in prefixes],
        "zones": [{"zone": sp.ZONE}],
    })


def register(monitor: Engine, addresses: list[Any] = ADDRESSES) -> None:
    for address in addresses:
        monitor.add_address(address, (), sp.ZONE, False)
    monitor.flush()


def at_risk(monitor: Engine, address: Any) -> tuple[tuple[str, ...], int, int, list[tuple[str, str | None, int]]]:
    risk = monitor.address_risk(address)
    assert risk is not None
    return (tuple(map(str, risk.service_prefixes)), risk.baseline_peers, risk.peers_at_risk,
            [(f.kind.value, str(f.prefix) if f.prefix else None, f.peers) for f in risk.fallbacks])


def test_addresses_known_before_the_routes() -> None:
    monitor = build_engine(config(sp.SERVICE))
    register(monitor)
    monitor.apply_all(events())
    for address in ADDRESSES:
        assert at_risk(monitor, address) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])
        risk = monitor.address_risk(address)
        assert risk is not None and risk.at_risk and risk.fallbacks[0].origins == (sp.ORIGIN,)


def test_addresses_found_after_the_routes_take_the_baseline_as_it_stands() -> None:
    """Bootstrap (or an mrt source) first, discovery after: the /29's baseline still knows the 40 peers.

    The /8 was nobody's business before the addresses were known, so its routes were not kept: the peers
    at risk fell back to nothing the core can name, and they are counted all the same.
    """
    monitor = build_engine(config(sp.SERVICE))
    monitor.apply_all(events())
    assert monitor.snapshot().status(SERVICE).withdrawn_since is not None
    register(monitor)
    for address in ADDRESSES:
        assert at_risk(monitor, address) == ((sp.SERVICE,), 40, 34, [("nothing", None, 34)])
    watched_aggregate = build_engine(config(sp.SERVICE, sp.AGGREGATE))
    watched_aggregate.apply_all(events())
    register(watched_aggregate)
    assert at_risk(watched_aggregate, ADDRESSES[0]) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])


def test_nothing_watched_the_service_prefix_is_learned_before_the_outage() -> None:
    monitor = build_engine(config())
    register(monitor)
    monitor.apply_all(events())
    assert at_risk(monitor, ADDRESSES[1]) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])


def test_a_restart_during_the_outage_keeps_the_risk() -> None:
    before = build_engine(config(sp.SERVICE))
    register(before)
    before.apply_all(events())
    state = dump_state(before)
    after = build_engine(config(sp.SERVICE))
    load_state(after, state)
    register(after)  # discovery finds the same addresses again
    for address in ADDRESSES:
        assert at_risk(after, address) == at_risk(before, address) == (
            (sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])


def test_a_new_address_found_in_the_middle_of_the_outage() -> None:
    monitor = build_engine(config())
    register(monitor)
    monitor.apply_all(events())
    late = ipaddress.ip_address("127.0.0.21")
    register(monitor, [late])
    assert at_risk(monitor, late) == ((sp.SERVICE,), 40, 34, [("aggregate", sp.AGGREGATE, 34)])


def test_a_snapshot_is_stable_at_once() -> None:
    """Routes from a RIB dump or a looking glass were held long before it: no waiting to learn from them."""
    monitor = build_engine(config())
    register(monitor)
    monitor.apply_all(events(until=sp.ANNOUNCED), established=True)
    monitor.advance(sp.ANNOUNCED + 1)
    assert at_risk(monitor, ADDRESSES[0]) == ((sp.SERVICE,), 40, 0, [])


def test_only_an_aggregate_watched_its_more_specific_serves_at_once() -> None:
    """The /29 under a watched /8 has a baseline of its own (its holders): the address takes it, not the /8."""
    monitor = build_engine(config(sp.AGGREGATE))
    monitor.apply_all(events(until=sp.ANNOUNCED), established=True)
    register(monitor)
    assert at_risk(monitor, ADDRESSES[0]) == ((sp.SERVICE,), 40, 0, [])  # the /8 would put all 40 at risk


def test_a_hijackers_more_specific_is_named_with_its_origin() -> None:
    table = RouteTable()
    hijack = parse_prefix("127.0.0.16/30")
    for n in range(10):
        peer = Peer("rrc00", f"192.0.2.{n + 1}", 64601 + n)
        table.announce(RouteAnnouncement(0.0, peer, AGGREGATE, (64601 + n, sp.ORIGIN)))
        table.announce(RouteAnnouncement(0.0, peer, SERVICE, (64601 + n, sp.ORIGIN)))
        if n < 7:
            table.announce(RouteAnnouncement(0.0, peer, hijack, (64601 + n, 666)))
    address = ADDRESSES[0]
    covering = [p for p in (hijack, SERVICE, AGGREGATE) if address in p]
    risk = assess(address, table, longest_matches(covering, table), [SERVICE], range(10), WithdrawalThresholds())
    assert (risk.peers_at_risk, risk.peers_on_service, risk.at_risk) == (7, 3, True)
    assert [(f.kind, f.prefix, f.peers, f.origins) for f in risk.fallbacks] == [
        (FallbackKind.MORE_SPECIFIC, hijack, 7, (666,))]
    assert risk.route_view() is not None and risk.route_view().prefix == hijack  # type: ignore[union-attr]


def test_service_from_baselines_takes_the_most_specific_with_enough_peers() -> None:
    baselines = [(parse_prefix("127.0.0.16/30"), 1), (SERVICE, 40), (AGGREGATE, 40)]
    assert service_from_baselines(baselines, 2) == SERVICE
    assert service_from_baselines(baselines, 41) is None
    assert service_from_baselines(baselines, 2, lambda prefix: prefix == SERVICE) is None
