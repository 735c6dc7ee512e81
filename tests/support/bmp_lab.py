"""What the BMP tests with real routers share: the driver that keeps events, routewatch's view per peer, a config."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from routewatch.config.schema import Config, parse_config
from routewatch.core.engine import Engine
from routewatch.daemon.core_sink import CoreDriver
from routewatch.model import Event

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
