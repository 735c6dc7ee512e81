"""FRR's bgpd as a second, independent BMP implementation: its Adj-RIB-In is the oracle of what the station holds.

FRR 8's ``bgpd`` with its BMP module (``-M bmp``, ``bmp targets`` /
``bmp connect``), running without zebra, is the monitored router (AS 65010); a
GoBGP speaker (AS 65011) peers with it and announces and withdraws the watched
prefixes. FRR encodes the BMP messages itself: Initiation (its hostname as
sysName), Peer Up, Route Monitoring of the pre-policy table, Peer Down.

After each step routewatch's routes for the peer must equal what FRR reports
as the peer's ``received-routes`` (its Adj-RIB-In, kept by ``soft-reconfiguration
inbound``); when the speaker stops, its routes leave with a Peer Down, no
withdrawal read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from routewatch.config.sources import BmpSource
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
from routewatch.model import PeerStateChange, RouteWithdrawal
from routewatch.sources.base import SourceContext
from routewatch.sources.bmp.station import BmpStation
from tests.support.bgp_speakers import FrrRouter, GobgpSpeaker, free_ports, lab_block
from tests.support.bmp_lab import FIRST, ORIGIN, SECOND, RecordingDriver, RouteView, bmp_config, converge
from tests.support.dns_servers import free_port
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

ROUTER_ASN, SPEAKER_ASN = 65010, 65011
COLLECTOR = "127.0.0.1"
"""The router's address as the station sees it: bgpd dials from an unbound socket, so from 127.0.0.1."""


def frr_view(router: FrrRouter, peer: str) -> RouteView:
    """The peer's Adj-RIB-In as FRR reports it (``received-routes``); nothing while the session is not up."""
    state = json.loads(router.vtysh(f"show bgp neighbors {peer} json")).get(peer, {}).get("bgpState")
    if state != "Established":
        return {}
    routes = json.loads(router.vtysh(f"show bgp ipv4 unicast neighbors {peer} received-routes json"))
    received = set(routes.get("receivedRoutes", {}))
    return {peer: received} if received else {}


@dataclass
class FrrLab:
    router: FrrRouter
    speaker: GobgpSpeaker
    core: Engine
    driver: RecordingDriver
    station: BmpStation

    async def converge(self, expected: RouteView) -> None:
        await converge(self.core, COLLECTOR, lambda: frr_view(self.router, self.speaker.address), expected,
                       self.router.output)


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[FrrLab]:
    for tool in ("bgpd", "vtysh", "gobgpd", "gobgp"):
        require_tool(tool)
    block = lab_block()
    port = free_port(["127.0.0.1"])
    (speaker_api,) = free_ports("127.0.0.1", 1)
    router = FrrRouter("frr", tmp_path / "frr", ROUTER_ASN, block + "20", port=free_port([block + "20"]),
                       bmp_station=("127.0.0.1", port))
    speaker = GobgpSpeaker("gobgp-peer", tmp_path / "gobgp-peer", SPEAKER_ASN, block + "21", api_port=speaker_api,
                           collector=router, next_hop="192.0.2.21")
    router.neighbors = [speaker]
    config = bmp_config(port, COLLECTOR)
    settings = config.sources[0]
    assert isinstance(settings, BmpSource)
    core = build_engine(config)
    lab = FrrLab(router, speaker, core, RecordingDriver(core), BmpStation(settings, SourceContext(config)))
    stop = asyncio.Event()
    task = asyncio.create_task(lab.station.run(lab.driver, stop))
    try:
        await asyncio.to_thread(router.start)
        await asyncio.to_thread(speaker.start)
        yield lab
    finally:
        for process in (speaker, router):
            await asyncio.to_thread(process.stop)
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_routewatch_holds_what_frr_received_from_its_peer_and_reads_a_peer_down_as_a_session(
        lab: FrrLab) -> None:
    speaker = lab.speaker
    await asyncio.to_thread(speaker.announce, FIRST, [ORIGIN])
    await asyncio.to_thread(speaker.announce, SECOND, [ORIGIN])
    await lab.converge({speaker.address: {FIRST, SECOND}})
    assert lab.station.routers[COLLECTOR].info.get("sysName") == "routewatch-lab-frr"  # FRR's Initiation
    assert any(isinstance(e, PeerStateChange) and e.established and e.peer.address == speaker.address
               for e in lab.driver.events)  # its Peer Up
    router = next(c for c in lab.station.health().collectors if c.collector == COLLECTOR)
    assert router.up and router.peers_up == 1 and router.malformed == 0 and router.messages

    await asyncio.to_thread(speaker.withdraw, SECOND)
    await lab.converge({speaker.address: {FIRST}})
    assert any(isinstance(e, RouteWithdrawal) and e.peer.address == speaker.address for e in lab.driver.events)

    before = len(lab.driver.events)
    await asyncio.to_thread(speaker.stop)
    await lab.converge({})
    after = lab.driver.events[before:]
    assert any(isinstance(e, PeerStateChange) and not e.established for e in after)  # FRR's Peer Down
    assert not any(isinstance(e, RouteWithdrawal) for e in after)
    assert lab.station.health().malformed == 0
