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
Waits are bounded polls; GoBGP makes its first connection 5 to 10 s after start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from routewatch.config.sources import BmpSource
from routewatch.config.to_core import build_engine
from routewatch.model import FeedState, PeerStateChange, RouteWithdrawal, SourceStatus
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
    station_view,
)
from tests.support.dns_servers import free_port
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

ROUTER_ASN, GOBGP_ASN, BIRD_ASN = 65000, 65001, 65002


def router_view(router: GobgpSpeaker, peers: Sequence[str]) -> RouteView:
    """Per peer, the router's Adj-RIB-In (``gobgp neighbor ADDRESS adj-in``); a peer that is down holds nothing."""
    view: RouteView = {}
    for address in peers:
        state = json.loads(router.gobgp("neighbor", address, "-j"))["state"]["session_state"]
        if state != 6:  # ESTABLISHED in GoBGP's API enum
            continue
        table = json.loads(router.gobgp("neighbor", address, "adj-in", "-a", "ipv4", "-j") or "{}")
        if table:
            view[address] = set(table)
    return view


class Lab:
    """The router, its two speakers and the station, with the core the station feeds."""

    def __init__(self, root: Path) -> None:
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
        self.config = bmp_config(self.port, self.collector)
        self.core = build_engine(self.config)
        self.driver = RecordingDriver(self.core)
        settings = self.config.sources[0]
        assert isinstance(settings, BmpSource)
        self.station = BmpStation(settings, SourceContext(self.config))

    async def converge(self, expected: RouteView) -> None:
        await converge(self.core, self.collector, lambda: router_view(self.router, self.peers), expected,
                       self.router.output)


async def started(*starts: Callable[[], object]) -> None:
    for start in starts:
        await asyncio.to_thread(start)


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    for tool in ("gobgpd", "gobgp", "bird", "birdc"):
        require_tool(tool)
    lab = Lab(tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(lab.station.run(lab.driver, stop))
    try:
        await started(lab.router.start, lab.gobgp.start, lab.bird.start)
        yield lab
    finally:
        for speaker in (lab.gobgp, lab.bird, lab.router):
            await asyncio.to_thread(speaker.stop)
        stop.set()
        await asyncio.wait_for(task, 10)


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


async def test_a_restarting_router_leaves_its_peers_stale_and_resends_its_tables(lab: Lab) -> None:
    gobgp, bird = lab.gobgp, lab.bird
    await asyncio.to_thread(gobgp.announce, FIRST, [ORIGIN])
    await lab.converge({gobgp.address: {FIRST}, bird.address: {FIRST}})

    await asyncio.to_thread(lab.router.stop)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONVERGE
    while lab.collector not in lab.core.sessions.stale_collectors:
        assert loop.time() < deadline, "the router's collector never went stale"
        await asyncio.sleep(0.05)
    assert station_view(lab.core, lab.collector) == {gobgp.address: {FIRST}, bird.address: {FIRST}}  # kept, stale
    assert any(isinstance(e, SourceStatus) and e.state is FeedState.STALE for e in lab.driver.events)

    await asyncio.to_thread(lab.router.start)
    await asyncio.to_thread(gobgp.announce, SECOND, [ORIGIN])  # the speaker's RIB is its own: re-sent on reconnect
    await lab.converge({gobgp.address: {FIRST, SECOND}, bird.address: {FIRST}})
    assert lab.collector not in lab.core.sessions.stale_collectors
