"""The BMP station over real TCP on loopback: routers' sessions, routes and policies into events; damage resets.

The router side is the tests' own writer (tests/support/bmp_writer.py, from
RFC 7854's layouts). The station hands events to a sink that keeps them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from routewatch.config.schema import parse_config
from routewatch.model import (
    Event,
    FeedState,
    PeerStateChange,
    RouteAnnouncement,
    RouteWithdrawal,
    SourceStatus,
    parse_prefix,
)
from routewatch.sources.base import SourceContext, WatchTargets
from routewatch.sources.bmp.station import BmpStation
from routewatch.sources.collector_cap import OVER_CAP
from tests.support.bmp_writer import (
    end_of_rib,
    initiation,
    peer_down,
    peer_up,
    route_monitoring,
    route_monitoring_ipv6,
    statistics,
)
from tests.support.dns_servers import free_port
from tests.support.mrt_writer import Update

pytestmark = pytest.mark.integration

ROUTER = "127.0.0.1"
WATCHED = "198.51.100.0/24"


class KeepingSink:
    """A core's owner that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.data_time = 0.0
        self.bootstrapped = True

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        self.events.extend(events)

    def flush(self) -> None:
        pass

    def advance(self, data_time: float) -> None:
        self.data_time = max(self.data_time, data_time)

    def known_collectors(self) -> frozenset[str]:
        return frozenset()

    def targets(self) -> WatchTargets:
        return WatchTargets((parse_prefix(WATCHED),))

    def target_counts(self) -> tuple[int, int]:
        return (1, 0)


def station(routers: list[str], policy: str = "pre-policy", *,
            clock: Callable[[], float] | None = None) -> tuple[BmpStation, int]:
    port = free_port([ROUTER])
    config = parse_config({"sources": [{"type": "bmp", "port": port, "routers": routers, "policy": policy}]})
    context = SourceContext(config) if clock is None else SourceContext(config, clock=clock)
    return BmpStation(config.sources[0], context), port


async def send(port: int, *messages: bytes, settle: float = 0.3, source: str | None = None) -> None:
    _, writer = await asyncio.open_connection(ROUTER, port, local_addr=(source, 0) if source else None)
    for m in messages:
        writer.write(m)
    await writer.drain()
    await asyncio.sleep(settle)
    writer.close()
    await asyncio.sleep(settle)


async def run(bmp: BmpStation, port: int, *messages: bytes) -> KeepingSink:
    sink, stop = KeepingSink(), asyncio.Event()
    task = asyncio.create_task(bmp.run(sink, stop))  # type: ignore[arg-type]
    for _ in range(50):
        await asyncio.sleep(0.05)
        if bmp.counters.up:
            break
    await send(port, *messages)
    stop.set()
    await task
    return sink


ANNOUNCE = Update(0, "192.0.2.1", 64501, ["198.51.100.0/24"], [64501, 64500])
WITHDRAW = Update(0, "192.0.2.1", 64501, withdrawn=["198.51.100.0/24"])


async def test_a_listed_router_streams_sessions_and_routes_as_peers_of_its_collector() -> None:
    bmp, port = station([ROUTER])
    sink = await run(bmp, port, initiation("edge1"), peer_up("192.0.2.1", 64501), route_monitoring(ANNOUNCE),
                     route_monitoring(ANNOUNCE, post_policy=True), route_monitoring(ANNOUNCE, adj_rib_out=True),
                     statistics("192.0.2.1", 64501), route_monitoring(WITHDRAW), peer_down("192.0.2.1", 64501))
    kinds = [type(e).__name__ for e in sink.events]
    assert kinds == ["SourceStatus", "PeerStateChange", "PeerStateChange", "RouteAnnouncement", "RouteWithdrawal",
                     "PeerStateChange", "SourceStatus"]
    up, announce = sink.events[2], sink.events[3]
    assert isinstance(up, PeerStateChange) and up.established
    assert isinstance(announce, RouteAnnouncement)
    assert (announce.peer.collector, announce.peer.address, announce.peer.asn) == (ROUTER, "192.0.2.1", 64501)
    assert announce.as_path == (64501, 64500) and str(announce.prefix) == "198.51.100.0/24"
    assert isinstance(sink.events[4], RouteWithdrawal)
    down = sink.events[5]
    assert isinstance(down, PeerStateChange) and not down.established  # a session down, never a withdrawal
    first, last = sink.events[0], sink.events[-1]
    assert isinstance(first, SourceStatus) and first.state is FeedState.UP and first.collector == ROUTER
    assert isinstance(last, SourceStatus) and last.state is FeedState.STALE  # the router went away: stale
    health = bmp.health()
    assert health.malformed == 0 and health.ignored["other policy or RIB"] == 2  # post-policy, Adj-RIB-Out


async def test_post_policy_reads_only_the_post_policy_stream() -> None:
    bmp, port = station([ROUTER], "post-policy")
    sink = await run(bmp, port, peer_up("192.0.2.1", 64501), route_monitoring(ANNOUNCE),
                     route_monitoring(ANNOUNCE, post_policy=True))
    assert sum(isinstance(e, RouteAnnouncement) for e in sink.events) == 1
    assert sum(isinstance(e, PeerStateChange) and e.established for e in sink.events) == 1  # its session, once


async def test_an_unlisted_router_is_refused_and_damage_resets_only_that_connection() -> None:
    bmp, port = station(["192.0.2.0/24"])
    sink = await run(bmp, port, initiation("intruder"), route_monitoring(ANNOUNCE))
    assert sink.events == [] and bmp.refused == 1
    bmp, port = station([ROUTER])
    sink = await run(bmp, port, initiation("edge1"), b"\x03\x00\x00\x00\x08\x00\xff\xff",
                     route_monitoring(ANNOUNCE))
    assert bmp.health().malformed == 1
    assert not any(isinstance(e, RouteAnnouncement) for e in sink.events)  # nothing read after the damage


async def test_routers_beyond_max_collectors_are_refused_and_counted() -> None:
    """A listed network may hold many routers: each is a collector, so at most ``limits.max_collectors`` connect."""
    port = free_port([ROUTER])
    config = parse_config({"sources": [{"type": "bmp", "port": port, "routers": ["127.0.0.0/8"]}],
                           "limits": {"max_collectors": 1}})
    bmp = BmpStation(config.sources[0], SourceContext(config))
    sink, stop = KeepingSink(), asyncio.Event()
    task = asyncio.create_task(bmp.run(sink, stop))  # type: ignore[arg-type]
    for _ in range(50):
        await asyncio.sleep(0.05)
        if bmp.counters.up:
            break
    story = (initiation("edge"), peer_up("192.0.2.1", 64501), route_monitoring(ANNOUNCE))
    await send(port, *story)
    await send(port, *story, source="127.0.0.2")
    await send(port, *story)  # the admitted router, back again
    stop.set()
    await task
    collectors = {e.collector if isinstance(e, SourceStatus) else e.peer.collector for e in sink.events}
    assert collectors == {ROUTER}
    assert sum(isinstance(e, RouteAnnouncement) for e in sink.events) == 2
    assert bmp.health().ignored[OVER_CAP] == 1 and [c.collector for c in bmp.health().collectors] == [ROUTER]


async def test_a_router_clock_years_ahead_is_clock_skew_judged_at_the_wall_clock() -> None:
    """Router clocks stamp BMP: one ten years ahead must not move the core's data time (it would never move back)."""
    now = 1_700_000_000.0
    bmp, port = station([ROUTER], clock=lambda: now)
    ahead = now + 10 * 365 * 86_400
    sink = await run(bmp, port, peer_up("192.0.2.1", 64501, time=now - 5), route_monitoring(ANNOUNCE, time=ahead),
                     route_monitoring(WITHDRAW, time=now + 300))
    routes = [e for e in sink.events if isinstance(e, RouteAnnouncement | RouteWithdrawal)]
    assert [e.time for e in routes] == [now, now + 300]  # within the tolerance: taken at its word
    assert max(e.time for e in sink.events) <= now + 300
    assert bmp.guard.skewed == 1 and bmp.health().malformed == 1


async def test_a_router_connecting_again_replaces_its_earlier_connection_and_ends_the_sessions_it_lost() -> None:
    """A restarted router whose old connection was never closed: the new one wins, nothing goes stale.

    Its peers before the restart end when it is back (a peer it no longer
    has must not keep its routes); those it still has come back with Peer Up.
    """
    bmp, port = station([ROUTER])
    sink, stop = KeepingSink(), asyncio.Event()
    task = asyncio.create_task(bmp.run(sink, stop))  # type: ignore[arg-type]
    while not bmp.counters.up:
        await asyncio.sleep(0.02)
    old_reader, old = await asyncio.open_connection(ROUTER, port)
    old.write(initiation("edge1") + peer_up("192.0.2.1", 64501) + peer_up("192.0.2.2", 64502)
              + route_monitoring(ANNOUNCE))
    await old.drain()
    while bmp.health().collectors[0].peers_up != 2:
        await asyncio.sleep(0.02)
    before = len(sink.events)
    _, new = await asyncio.open_connection(ROUTER, port)
    new.write(initiation("edge1") + peer_up("192.0.2.1", 64501))
    await new.drain()
    while bmp.health().collectors[0].peers_up != 1:
        await asyncio.sleep(0.02)
    assert await asyncio.wait_for(old_reader.read(), 5) == b""  # the station closed the earlier connection
    after = sink.events[before:]
    downs = {e.peer.address for e in after if isinstance(e, PeerStateChange) and not e.established}
    assert downs == {"192.0.2.1", "192.0.2.2"}  # both sessions of the earlier connection end
    assert [e.peer.address for e in after if isinstance(e, PeerStateChange) and e.established] == ["192.0.2.1"]
    assert not any(isinstance(e, SourceStatus) and e.state is FeedState.STALE for e in after)  # never stale
    assert bmp.health().collectors[0].up
    new.close()
    while bmp.health().collectors[0].up:
        await asyncio.sleep(0.02)
    assert isinstance(sink.events[-1], SourceStatus) and sink.events[-1].state is FeedState.STALE
    assert bmp.health().collectors[0].peers_up == 0
    stop.set()
    await task


async def test_routes_of_unwatched_prefixes_are_counted_and_dropped_before_the_core() -> None:
    bmp, port = station([ROUTER])
    elsewhere = Update(0, "192.0.2.1", 64501, ["10.0.0.0/8"], [64501, 64999])
    sink = await run(bmp, port, peer_up("192.0.2.1", 64501), route_monitoring(elsewhere), route_monitoring(ANNOUNCE))
    assert [str(e.prefix) for e in sink.events if isinstance(e, RouteAnnouncement)] == [WATCHED]
    assert bmp.health().collectors[0].messages == 3  # read and counted all the same


WATCHED_V6 = "2001:db8:100::/48"
IPV4, IPV6 = (1, 1), (2, 1)


class FamiliesSink(KeepingSink):
    """Watches an IPv4 and an IPv6 prefix; keeps, per route, whether it came as part of the peer's first table."""

    def __init__(self) -> None:
        super().__init__()
        self.initial: dict[str, bool] = {}  # prefix -> applied as the initial table's

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        super().apply(events)
        self.initial.update({str(e.prefix): established for e in events if isinstance(e, RouteAnnouncement)})

    def targets(self) -> WatchTargets:
        return WatchTargets((parse_prefix(WATCHED), parse_prefix(WATCHED_V6)))

    def target_counts(self) -> tuple[int, int]:
        return (2, 0)


def completed(sink: KeepingSink) -> list[PeerStateChange]:
    return [e for e in sink.events if isinstance(e, PeerStateChange) and e.table_complete]


async def ipv4_table_then_a_change(families: list[tuple[int, int]]) -> tuple[
        BmpStation, FamiliesSink, asyncio.Event, asyncio.Task[None], asyncio.StreamWriter]:
    """A station and a router whose one peer negotiated ``families``: IPv4 unicast's table and End-of-RIB, then a
    change of IPv4 unicast, read; the router's connection stays open for what a test sends next."""
    bmp, port = station([ROUTER])
    sink, stop = FamiliesSink(), asyncio.Event()
    task = asyncio.create_task(bmp.run(sink, stop))  # type: ignore[arg-type]
    while not bmp.counters.up:
        await asyncio.sleep(0.02)
    _, router = await asyncio.open_connection(ROUTER, port)
    later = Update(0, "192.0.2.1", 64501, ["198.51.100.128/25"], [64501, 64500])
    router.write(initiation("edge1") + peer_up("192.0.2.1", 64501, families=families)
                 + route_monitoring(ANNOUNCE) + end_of_rib("192.0.2.1", 64501) + route_monitoring(later))
    await router.drain()
    while "198.51.100.128/25" not in sink.initial:
        await asyncio.sleep(0.02)
    return bmp, sink, stop, task, router


async def test_a_peers_table_is_complete_only_once_each_family_it_negotiated_has_had_its_end_of_rib() -> None:
    """RFC 4724: one End-of-RIB per family. After IPv4's the IPv6 table is still coming: the peer keeps settling.

    Were the settle time over at IPv4's End-of-RIB, an IPv6 table arriving
    later would find its baseline peers counted as missing.
    """
    bmp, sink, stop, task, router = await ipv4_table_then_a_change([IPV4, IPV6])
    assert bmp.router_counters[ROUTER].end_of_ribs == 1
    assert completed(sink) == []  # IPv6's table is still to come
    assert sink.initial == {WATCHED: True, "198.51.100.128/25": False}  # IPv4's first table, then a change

    router.write(route_monitoring_ipv6("192.0.2.1", 64501, [WATCHED_V6], [64501, 64500])
                 + end_of_rib("192.0.2.1", 64501, *IPV6))
    await router.drain()
    while bmp.router_counters[ROUTER].end_of_ribs < 2:
        await asyncio.sleep(0.02)
    assert sink.initial[WATCHED_V6] is True  # IPv6's first table, though IPv4's was over
    [complete] = completed(sink)
    assert (complete.peer.address, complete.established) == ("192.0.2.1", True)
    assert sink.events[-1] is complete  # after the IPv6 table, not before it
    router.close()
    stop.set()
    await task


async def test_after_ipv4_unicasts_end_of_rib_its_routes_are_changes_though_multicast_is_still_coming() -> None:
    """End-of-RIB is per AFI and SAFI: the multicast table still coming does not keep unicast in its first table."""
    bmp, sink, stop, task, router = await ipv4_table_then_a_change([IPV4, (1, 2)])
    assert sink.initial == {WATCHED: True, "198.51.100.128/25": False}  # unicast's first table, then a change
    assert completed(sink) == []  # multicast's table is still to come
    router.write(end_of_rib("192.0.2.1", 64501, 1, 2))
    await router.drain()
    while not completed(sink):
        await asyncio.sleep(0.02)
    router.close()
    stop.set()
    await task


@pytest.mark.parametrize(("sent", "received"), [
    ((), ()),  # no multiprotocol capability: IPv4 unicast
    ((IPV4, IPV6), (IPV4,)),  # the peer does not speak IPv6: its table never comes
    ((IPV4, (1, 128)), (IPV4, (1, 128))),  # a family routewatch does not read: not awaited
])
async def test_the_end_of_rib_of_each_family_both_opens_name_completes_the_table(
        sent: tuple[tuple[int, int], ...], received: tuple[tuple[int, int], ...]) -> None:
    bmp, port = station([ROUTER])
    sink = await run(bmp, port, peer_up("192.0.2.1", 64501, families=sent, received_families=received),
                     route_monitoring(ANNOUNCE), end_of_rib("192.0.2.1", 64501))
    assert [e.peer.address for e in completed(sink)] == ["192.0.2.1"]
