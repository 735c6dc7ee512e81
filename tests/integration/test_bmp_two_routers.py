"""Two real routers feeding one BMP station: each is a collector of its own, named after its address.

Router A (GoBGP, AS 65000) hears a GoBGP speaker, router B (GoBGP, AS 65100) a
BIRD speaker; both stream BMP to one station. Each router's connection reaches
the station from the router's own loopback address (see
``SourceAddressRelay``), both listed in ``routers``. After each step the
routes routewatch holds under each router's collector must equal that
router's ``gobgp neighbor ADDRESS adj-in``; a router going away makes only its
own collector stale (its peers' routes kept, counted for nothing), and the
per-router health says which router is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from ipaddress import ip_network
from pathlib import Path

import pytest

from routewatch.config.schema import parse_config
from routewatch.config.sources import BmpSource
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
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
    SourceAddressRelay,
    converge,
    router_view,
)
from tests.support.dns_servers import free_port
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration


class TwoRouters:
    """Two routers, a speaker behind each, relays giving each router its own address, and the station."""

    def __init__(self, root: Path) -> None:
        block = lab_block()
        self.port = free_port(["127.0.0.1"])
        apis = free_ports("127.0.0.1", 3)
        station = ("127.0.0.1", self.port)
        self.relays = [SourceAddressRelay(block + "10", station), SourceAddressRelay(block + "20", station)]
        self.a = GobgpSpeaker("router-a", root / "router-a", 65000, block + "10", api_port=apis[0],
                              port=free_port([block + "10"]))
        self.b = GobgpSpeaker("router-b", root / "router-b", 65100, block + "20", api_port=apis[1],
                              port=free_port([block + "20"]))
        self.gobgp = GobgpSpeaker("gobgp-peer", root / "gobgp-peer", 65001, block + "11", api_port=apis[2],
                                  collector=self.a, next_hop="192.0.2.11")
        self.bird = BirdSpeaker("bird-peer", root / "bird-peer", 65002, block + "21", port=free_port([block + "21"]),
                                collector=self.b, next_hop="192.0.2.21",
                                routes=[BirdRoute("route_a", FIRST, (ORIGIN,)),
                                        BirdRoute("route_b", SECOND, (ORIGIN,), enabled=False)])
        self.a.neighbors, self.b.neighbors = [self.gobgp], [self.bird]
        self.config = parse_config({
            "prefixes": [{"prefix": FIRST, "asn": ORIGIN}, {"prefix": SECOND, "asn": ORIGIN}],
            "sources": [{"type": "bmp", "listen": "127.0.0.1", "port": self.port,
                         "routers": [self.a.address, self.b.address]}],
        })
        self.core = build_engine(self.config)
        self.driver = RecordingDriver(self.core)
        settings = self.config.sources[0]
        assert isinstance(settings, BmpSource)
        self.station = BmpStation(settings, SourceContext(self.config))

    async def converge(self, router: GobgpSpeaker, expected: RouteView) -> None:
        peers = [p.address for p in router.neighbors]
        await converge(self.core, router.address, lambda: router_view(router, peers), expected, router.output)

    def up(self) -> dict[str, bool]:
        """Per router the station has seen, whether it is connected now."""
        return {c.collector: c.up for c in self.station.health().collectors}


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[TwoRouters]:
    for tool in ("gobgpd", "gobgp", "bird", "birdc"):
        require_tool(tool)
    lab = TwoRouters(tmp_path)
    stop = asyncio.Event()
    task = asyncio.create_task(lab.station.run(lab.driver, stop))
    for relay, router in zip(lab.relays, (lab.a, lab.b), strict=True):
        await relay.start()
        router.bmp_station = ("127.0.0.1", relay.port)
    try:
        for speaker in (lab.a, lab.b, lab.gobgp, lab.bird):
            await asyncio.to_thread(speaker.start)
        yield lab
    finally:
        for speaker in (lab.gobgp, lab.bird, lab.a, lab.b):
            await asyncio.to_thread(speaker.stop)
        for relay in lab.relays:
            await relay.stop()
        stop.set()
        await asyncio.wait_for(task, 10)


def visible(core: Engine, prefix: str) -> int:
    """Peers holding ``prefix`` whose collector is trusted now."""
    return core.visibility[ip_network(prefix)].counts(core.now, core.exclusion).visible


async def test_two_routers_are_two_collectors_and_one_going_away_leaves_the_other_trusted(lab: TwoRouters) -> None:
    a, b, gobgp, bird = lab.a, lab.b, lab.gobgp, lab.bird
    await asyncio.to_thread(gobgp.announce, FIRST, [ORIGIN])
    await lab.converge(a, {gobgp.address: {FIRST}})
    await lab.converge(b, {bird.address: {FIRST}})
    assert lab.up() == {a.address: True, b.address: True}
    assert {c.collector: c.peers_up for c in lab.station.health().collectors} == {a.address: 1, b.address: 1}
    assert visible(lab.core, FIRST) == 2  # one vantage point behind each router

    await asyncio.to_thread(bird.enable, bird.routes[1])
    await asyncio.to_thread(gobgp.withdraw, FIRST)
    await lab.converge(a, {})
    await lab.converge(b, {bird.address: {FIRST, SECOND}})

    # router B goes away: its collector is stale, its peer's routes kept but counted for nothing; A untouched
    await asyncio.to_thread(b.stop)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONVERGE
    while b.address not in lab.core.sessions.stale_collectors:
        assert loop.time() < deadline, "router B's collector never went stale"
        await asyncio.sleep(0.05)
    assert lab.core.sessions.stale_collectors == {b.address}
    assert lab.up() == {a.address: True, b.address: False}
    assert visible(lab.core, FIRST) == 0 and visible(lab.core, SECOND) == 0
    await asyncio.to_thread(gobgp.announce, SECOND, [ORIGIN])
    await lab.converge(a, {gobgp.address: {SECOND}})
    assert visible(lab.core, SECOND) == 1

    await asyncio.to_thread(b.start)
    await lab.converge(b, {bird.address: {FIRST, SECOND}})
    assert not lab.core.sessions.stale_collectors
    assert lab.up() == {a.address: True, b.address: True}
    assert visible(lab.core, SECOND) == 2
