"""A real router streaming BMP to routewatch: GoBGP's Adj-RIB-In is the oracle of what the station holds.

A GoBGP router (AS 65000) with a ``bmp-servers`` section points at the
station; a GoBGP speaker (AS 65001) and a BIRD speaker (AS 65002) peer with it
and announce and withdraw the watched prefixes on command. The router encodes
every BMP message itself (Initiation, Peer Up with both OPENs, Route
Monitoring, Peer Down); nothing the station reads comes from routewatch or from
the test.

After each step the routes routewatch's core holds per (router, peer) must
equal what ``gobgp neighbor ADDRESS adj-in`` reports for that peer: after the
announcements, after withdrawals, with a speaker stopped (a Peer Down: its
routes leave as a session going down, no withdrawal is read) and restarted,
and after the router itself restarts (its peers stale while it is away).
End-of-RIB: a station connecting to a router whose peers already hold routes
gets each peer's whole table and GoBGP's End-of-RIB; the table joins the
baseline at once and End-of-RIB ends the peer's settle time, which a second
core fed the same stream without End-of-RIB shows by judging a withdrawal only
after ``bgp.peer_settle``.
Waits are bounded polls; GoBGP makes its first connection 5 to 10 s after start.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from ipaddress import ip_network
from pathlib import Path

import pytest

from routewatch.config.sources import BmpSource
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
from routewatch.daemon.core_sink import CoreDriver
from routewatch.exporter.state import ExportState, ProcessStatus
from routewatch.model import Event, FeedState, Peer, PeerStateChange, RouteWithdrawal, SourceStatus
from routewatch.sources.base import SourceContext
from routewatch.sources.bmp.station import BmpStation
from tests.support.bgp_speakers import BirdRoute, BirdSpeaker, GobgpSpeaker, free_ports, lab_block
from tests.support.bmp_lab import (
    CONVERGE,
    FIRST,
    ORIGIN,
    SECOND,
    RecordingDriver,
    RouteView,
    bmp_config,
    converge,
    router_view,
    station_view,
)
from tests.support.dns_servers import free_port
from tests.support.metrics import scrape, value
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

ROUTER_ASN, GOBGP_ASN, BIRD_ASN = 65000, 65001, 65002


class Lab:
    """The router, its two speakers and the station, with the core the station feeds."""

    def __init__(self, root: Path, thresholds: dict[str, object] | None = None) -> None:
        block = lab_block()
        router_api, peer_api = free_ports("127.0.0.1", 2)
        self.port = free_port(["127.0.0.1"])
        self.router = GobgpSpeaker("router", root / "router", ROUTER_ASN, block + "10", api_port=router_api,
                                   port=free_port([block + "10"]), bmp_station=("127.0.0.1", self.port))
        self.gobgp = GobgpSpeaker("gobgp-peer", root / "gobgp-peer", GOBGP_ASN, block + "11", api_port=peer_api,
                                  collector=self.router, next_hop="192.0.2.11")
        self.bird = BirdSpeaker("bird-peer", root / "bird-peer", BIRD_ASN, block + "12",
                                port=free_port([block + "12"]), collector=self.router, next_hop="192.0.2.12",
                                routes=[BirdRoute("route_a", FIRST, (ORIGIN,)),
                                        BirdRoute("route_b", SECOND, (ORIGIN,), enabled=False)])
        self.router.neighbors = [self.gobgp, self.bird]
        self.peers = [self.gobgp.address, self.bird.address]
        # GoBGP dials the station from an unbound socket: on loopback its source address is 127.0.0.1,
        # the router's address as the station sees it and so its collector's name
        self.collector = "127.0.0.1"
        self.config = bmp_config(self.port, self.collector, thresholds)
        self.core = build_engine(self.config)
        self.driver = RecordingDriver(self.core)
        settings = self.config.sources[0]
        assert isinstance(settings, BmpSource)
        self.station = BmpStation(settings, SourceContext(self.config))
        self._stop = asyncio.Event()
        self._station: asyncio.Task[None] | None = None

    def start_station(self) -> None:
        self._station = asyncio.create_task(self.station.run(self.driver, self._stop))

    async def stop_station(self) -> None:
        self._stop.set()
        if self._station is not None:
            await asyncio.wait_for(self._station, 10)

    async def converge(self, expected: RouteView) -> None:
        await converge(self.core, self.collector, lambda: router_view(self.router, self.peers), expected,
                       self.router.output)


async def started(*starts: Callable[[], object]) -> None:
    for start in starts:
        await asyncio.to_thread(start)


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    async for running in run_lab(Lab(tmp_path)):
        yield running


async def run_lab(lab: Lab, *, station_first: bool = True) -> AsyncIterator[Lab]:
    """The router and its speakers, and the station (first, or left for the test: ``lab.start_station``)."""
    for tool in ("gobgpd", "gobgp", "bird", "birdc"):
        require_tool(tool)
    try:
        if station_first:
            lab.start_station()
        await started(lab.router.start, lab.gobgp.start, lab.bird.start)
        yield lab
    finally:
        for speaker in (lab.gobgp, lab.bird, lab.router):
            await asyncio.to_thread(speaker.stop)
        await lab.stop_station()


async def test_routewatch_holds_what_gobgp_adj_in_holds_per_peer_through_announcements_withdrawals_and_peer_down(
        lab: Lab) -> None:
    gobgp, bird = lab.gobgp, lab.bird
    await asyncio.to_thread(gobgp.announce, FIRST, [ORIGIN])
    await asyncio.to_thread(gobgp.announce, SECOND, [ORIGIN])
    await lab.converge({gobgp.address: {FIRST, SECOND}, bird.address: {FIRST}})
    assert lab.station.routers[lab.collector].info.get("sysName")  # Initiation read

    await asyncio.to_thread(gobgp.withdraw, SECOND)
    await asyncio.to_thread(bird.enable, bird.routes[1])
    await lab.converge({gobgp.address: {FIRST}, bird.address: {FIRST, SECOND}})
    await asyncio.to_thread(bird.disable, bird.routes[0])
    await lab.converge({gobgp.address: {FIRST}, bird.address: {SECOND}})
    assert any(isinstance(e, RouteWithdrawal) and e.peer.address == bird.address for e in lab.driver.events)

    # the BIRD speaker stops: a Peer Down, its routes leave with the session, no withdrawal read for them
    before = len(lab.driver.events)
    await asyncio.to_thread(bird.stop)
    await lab.converge({gobgp.address: {FIRST}})
    after = lab.driver.events[before:]
    assert any(isinstance(e, PeerStateChange) and not e.established and e.peer.address == bird.address
               for e in after)
    assert not any(isinstance(e, RouteWithdrawal) and e.peer.address == bird.address for e in after)

    await asyncio.to_thread(bird.start)  # from its config again: the first route on, the second off
    await lab.converge({gobgp.address: {FIRST}, bird.address: {FIRST}})


def router_metric(lab: Lab, name: str) -> float | None:
    """The router's series ``name`` as /metrics would show it now."""
    text = scrape(ExportState(ProcessStatus("t"), sources=(lab.station.health(),)))
    return value(text, name, source=lab.station.settings.name, collector=lab.collector)


async def test_a_restarting_router_leaves_its_peers_stale_and_resends_its_tables(lab: Lab) -> None:
    gobgp, bird = lab.gobgp, lab.bird
    await asyncio.to_thread(gobgp.announce, FIRST, [ORIGIN])
    await lab.converge({gobgp.address: {FIRST}, bird.address: {FIRST}})
    assert router_metric(lab, "routewatch_source_collector_up") == 1
    assert router_metric(lab, "routewatch_source_collector_peers_up") == 2
    messages = router_metric(lab, "routewatch_source_collector_messages_total")
    assert messages is not None and messages >= 5  # Initiation, 2 Peer Up, 2 routes (End-of-RIBs may follow)
    assert router_metric(lab, "routewatch_source_collector_messages_malformed_total") == 0

    await asyncio.to_thread(lab.router.stop)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONVERGE
    while lab.collector not in lab.core.sessions.stale_collectors:
        assert loop.time() < deadline, "the router's collector never went stale"
        await asyncio.sleep(0.05)
    assert station_view(lab.core, lab.collector) == {gobgp.address: {FIRST}, bird.address: {FIRST}}  # kept, stale
    assert any(isinstance(e, SourceStatus) and e.state is FeedState.STALE for e in lab.driver.events)
    assert router_metric(lab, "routewatch_source_collector_up") == 0
    assert router_metric(lab, "routewatch_source_collector_peers_up") == 0

    await asyncio.to_thread(lab.router.start)
    await asyncio.to_thread(gobgp.announce, SECOND, [ORIGIN])  # the speaker's RIB is its own: re-sent on reconnect
    await lab.converge({gobgp.address: {FIRST, SECOND}, bird.address: {FIRST}})
    assert lab.collector not in lab.core.sessions.stale_collectors
    assert router_metric(lab, "routewatch_source_collector_up") == 1
    assert router_metric(lab, "routewatch_source_collector_peers_up") == 2
    again = router_metric(lab, "routewatch_source_collector_messages_total")
    assert again is not None and again > messages


class WithoutEndOfRib(RecordingDriver):
    """The station's driver, also feeding a second core the same stream minus End-of-RIB: what End-of-RIB changes."""

    def __init__(self, core: Engine, control: Engine) -> None:
        super().__init__(core)
        self.control = CoreDriver(control)

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        super().apply(events, established=established)
        self.control.apply([e for e in events if not (isinstance(e, PeerStateChange) and e.table_complete)],
                           established=established)

    def flush(self) -> None:
        super().flush()
        self.control.flush()


JUDGED_AT_ONCE = {"withdrawn_ratio": 0.75, "recovered_ratio": 0.9, "min_baseline_peers": 2}
"""One of the two peers gone is a withdrawal, judged without a hold-down: what counts is who is in the baseline."""


@pytest.fixture
async def eor_lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path, JUDGED_AT_ONCE)
    lab.driver = WithoutEndOfRib(lab.core, build_engine(lab.config))
    async for running in run_lab(lab, station_first=False):
        yield running


def excluded(core: Engine, peer: Peer) -> bool:
    """Does ``peer`` count for nothing right now (down, or back but settling)?"""
    return core.sessions.excluded(core.table.peer_index(peer), core.now)


def counts(core: Engine) -> tuple[int, int]:
    """The first prefix's (visible baseline peers, baseline peers)."""
    found = core.visibility[ip_network(FIRST)].counts(core.now, core.exclusion)
    return found.baseline_visible, found.baseline


async def test_end_of_rib_ends_the_bootstrap_of_a_routers_peers_so_a_withdrawal_right_after_is_judged(
        eor_lab: Lab) -> None:
    """The station connects to a router whose peers hold the route; End-of-RIB after each table ends their settle.

    A second core is fed the same stream without the End-of-RIB messages (what a
    router that sends none would give): its peers settle for ``bgp.peer_settle``
    (900 s of data time), so a withdrawal in that time is not judged.
    """
    lab = eor_lab
    assert isinstance(lab.driver, WithoutEndOfRib)
    control = lab.driver.control.core
    gobgp, bird = lab.gobgp, lab.bird
    await asyncio.to_thread(gobgp.announce, FIRST, [ORIGIN])
    both = {gobgp.address: {FIRST}, bird.address: {FIRST}}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONVERGE
    while await asyncio.to_thread(router_view, lab.router, lab.peers) != both:
        assert loop.time() < deadline, lab.router.output()
        await asyncio.sleep(0.1)

    lab.start_station()  # GoBGP sends Peer Up, each peer's Adj-RIB-In, then an End-of-RIB per peer
    deadline = loop.time() + 2 * CONVERGE  # GoBGP retries its station at doubling intervals, up to 32 s
    while not (lab.collector in lab.station.router_counters and lab.station.router_counters[lab.collector].connected):
        assert loop.time() < deadline, "the router never connected to the station"
        await asyncio.sleep(0.1)
    await lab.converge(both)
    deadline = loop.time() + CONVERGE
    while lab.station.router_counters[lab.collector].end_of_ribs < 2:
        assert loop.time() < deadline, "no End-of-RIB for both peers"
        await asyncio.sleep(0.05)
    complete = {e.peer for e in lab.driver.events if isinstance(e, PeerStateChange) and e.table_complete}
    assert {p.address for p in complete} == {gobgp.address, bird.address}
    up = max(e.time for e in lab.driver.events if isinstance(e, PeerStateChange) and e.established)
    # the tables were held before the station saw them: both peers are in both baselines at once, with no
    # baseline_min_hold wait; End-of-RIB ended the settle time, and only where it arrived
    assert counts(lab.core) == counts(control) == (2, 2)
    assert not any(excluded(lab.core, peer) for peer in complete)
    assert all(excluded(control, peer) for peer in complete)

    await asyncio.to_thread(gobgp.withdraw, FIRST)
    await lab.converge({bird.address: {FIRST}})
    withdrawn = lab.core.now
    # with End-of-RIB the withdrawing peer still counts: 1 of 2, below 0.75, the hold-down runs
    assert counts(lab.core) == (1, 2)
    assert lab.core.visibility[ip_network(FIRST)].below_since is not None
    # without it the peer is still settling: it leaves the baseline as it withdraws, 1 of 1, too few to judge
    assert counts(control) == (1, 1)
    assert control.visibility[ip_network(FIRST)].below_since is None

    hold_down = lab.config.thresholds_for(lab.config.prefixes[0]).hold_down
    lab.driver.advance(withdrawn + hold_down)
    lab.driver.control.advance(withdrawn + hold_down)
    assert lab.core.visibility[ip_network(FIRST)].open is not None
    assert control.visibility[ip_network(FIRST)].open is None
    # the control core judges it only once the settle time is over, and a hold-down after that
    settled = up + lab.config.bgp.peer_settle
    control.advance(settled)
    assert counts(control) == (1, 2)
    control.advance(settled + hold_down)
    assert control.visibility[ip_network(FIRST)].open is not None
