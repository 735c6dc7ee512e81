"""What the BMP tests with real routers share: the driver that keeps events, routewatch's view per peer, a config."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence

from routewatch.config.schema import Config, parse_config
from routewatch.core.engine import Engine
from routewatch.daemon.core_sink import CoreDriver
from routewatch.model import Event
from tests.support.bgp_speakers import GobgpSpeaker

FIRST, SECOND = "198.51.100.0/24", "203.0.113.0/24"
ORIGIN = 64500

CONVERGE = 30.0
"""Upper bound on the station matching a router: sessions take up to 10 s (GoBGP's first attempt), routes ms."""

RouteView = dict[str, set[str]]  # peer address -> prefixes


class RecordingDriver(CoreDriver):
    """The daemon's driver, keeping every event it applies so the test can say which kinds arrived."""

    def __init__(self, core: Engine) -> None:
        super().__init__(core)
        self.events: list[Event] = []

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        self.events.extend(events)
        super().apply(events, established=established)


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


def station_view(core: Engine, router: str) -> RouteView:
    """Per peer of ``router``'s collector, the watched prefixes it has a route for in routewatch's table."""
    view: RouteView = {}
    for prefix in core.table.prefixes():
        for route in core.table.routes(prefix):
            if route.peer.collector == router:
                view.setdefault(route.peer.address, set()).add(str(prefix))
    return view


def bmp_config(port: int, router: str, thresholds: dict[str, object] | None = None) -> Config:
    """Both lab prefixes watched, one BMP station on loopback accepting ``router``; ``thresholds`` for the first."""
    first: dict[str, object] = {"prefix": FIRST, "asn": ORIGIN}
    if thresholds:
        first["thresholds"] = thresholds
    return parse_config({
        "prefixes": [first, {"prefix": SECOND, "asn": ORIGIN}],
        "sources": [{"type": "bmp", "listen": "127.0.0.1", "port": port, "routers": [router]}],
    })


async def converge(core: Engine, collector: str, oracle: Callable[[], RouteView], expected: RouteView,
                   router_log: Callable[[], str]) -> None:
    """Wait until the router's own view (``oracle``, blocking) is ``expected`` and routewatch's equals it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONVERGE
    while True:
        truth = await asyncio.to_thread(oracle)
        seen = station_view(core, collector)
        if truth == expected and seen == truth:
            return
        if loop.time() > deadline:
            raise AssertionError(f"router {truth}, routewatch {seen}, expected {expected}\n{router_log()}")
        await asyncio.sleep(0.1)


class SourceAddressRelay:
    """Passes a router's BMP connections on to the station from ``source``, the router's own address.

    GoBGP dials its BMP station from an unbound socket, so on one loopback host
    every router would connect from 127.0.0.1; a station tells routers apart by
    their address, as it does on a real network. The relay copies bytes both
    ways and reads none of them; either side closing closes the other.
    """

    def __init__(self, source: str, station: tuple[str, int]) -> None:
        self.source = source
        self.station = station
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _relay(self, router: asyncio.StreamReader, router_side: asyncio.StreamWriter) -> None:
        try:
            station, station_side = await asyncio.open_connection(*self.station, local_addr=(self.source, 0))
        except OSError:
            router_side.close()
            return
        await asyncio.gather(_copy(router, station_side), _copy(station, router_side))


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
