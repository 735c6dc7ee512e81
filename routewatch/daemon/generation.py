"""A generation: the BGP sources, VRP feeds and DNS probes built from one config, replaced whole on reload.

Each part runs supervised (restarted with backoff, never stopping the
process). The core outlives generations: a reload stops the old one, carries
the core's state over to a core for the new config, and starts the new one
over it, so each generation's sources get a ``CoreDriver`` over the core of
their time. What must outlive a generation too stays in :class:`Generations`:
the update files each source already replayed, and the nameserver addresses
already warned of.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from routewatch.config.schema import Config
from routewatch.daemon.core_sink import CoreDriver
from routewatch.daemon.nameserver_routes import SnapshotRoutes
from routewatch.daemon.startup import unguarded_line
from routewatch.daemon.supervise import Supervisor
from routewatch.daemon.tapped import TappedEngine
from routewatch.daemon.vrp_driver import VrpDriver
from routewatch.dns.service import DnsMonitor
from routewatch.exporter.state import SnapshotBox
from routewatch.sources.base import Source, SourceContext, build_source
from routewatch.sources.ripestat import RipestatClient
from routewatch.sources.vrp.feeds import VrpFeeds, build_vrp_feeds

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 10.0
"""Seconds a generation's tasks get to stop before they are cancelled."""


@dataclass
class Generation:
    """The parts built from one config; replaced whole on reload."""

    config: Config
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    dns: DnsMonitor | None = None
    vrp_feeds: VrpFeeds | None = None
    registered: set[str] = field(default_factory=set)
    sink: CoreDriver | None = None


class Generations:
    """Starts and stops the daemon's generations, over whichever core the daemon holds at the time."""

    def __init__(self, supervisor: Supervisor, clock: Callable[[], float], core: Callable[[], TappedEngine],
                 box: SnapshotBox) -> None:
        self._supervisor = supervisor
        self._clock = clock
        self._core = core
        self._box = box
        self._replayed: dict[str, set[str]] = {}
        self._unguarded: set[str] = set()  # "zone address" already warned of, so a reload does not say it again

    def start(self, config: Config) -> Generation:
        gen = Generation(config)
        sink = gen.sink = CoreDriver(self._core())  # this generation's core: a reload starts a new generation
        for settings in config.sources:
            context = SourceContext(config, self._clock, self._replayed.setdefault(settings.name, set()),
                                    looking_glass=lambda: RipestatClient(config.ripestat))
            source = gen.sources[settings.name] = build_source(settings, context)
            self._spawn(gen, f"source:{settings.name}", lambda s=source: s.run(sink, gen.stop))  # type: ignore[misc]
        if config.rpki.sources:
            gen.vrp_feeds = build_vrp_feeds(config.rpki)
            driver = VrpDriver(gen.vrp_feeds, self._core)
            self._spawn(gen, "rpki", lambda: driver.run(gen.stop))
        if config.zones:
            gen.dns = DnsMonitor(config, routes=SnapshotRoutes(self._box))
            dns = gen.dns
            self._spawn(gen, "dns", lambda: dns.run(gen.stop))
        return gen

    def _spawn(self, gen: Generation, name: str, work: Callable[[], Awaitable[None]]) -> None:
        gen.tasks.append(asyncio.create_task(self._supervisor.supervise(name, work, gen.stop), name=name))

    async def stop(self, gen: Generation) -> None:
        gen.stop.set()
        done, pending = await asyncio.wait(gen.tasks, timeout=SHUTDOWN_GRACE) if gen.tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in gen.tasks:
            self._supervisor.forget(task.get_name())

    def register_dns_targets(self, gen: Generation) -> None:
        """Follow the routes of every nameserver address DNS discovery found (once per address)."""
        if gen.dns is None:
            return
        zones = {z.zone: z for z in gen.config.zones}
        core = self._core()
        added = False
        for target in gen.dns.targets():
            key = f"{target.zone} {target.address}"
            if key in gen.registered or target.zone not in zones:
                continue
            gen.registered.add(key)
            zone = zones[target.zone]
            address = ipaddress.ip_address(target.address)
            designated = zone.service_prefixes.get(target.address, [])
            if (not designated and key not in self._unguarded
                    and core.watch.covering_prefix(ipaddress.ip_network(address)) is None):
                self._unguarded.add(key)
                log.warning("%s", unguarded_line(zone.zone, target.nameserver, target.address))
            core.add_address(address, designated, zone.zone, zone.watch_nameserver_prefixes)
            added = True
        if added and gen.sink is not None:
            # judge the new addresses against the routes as they stand now, through the sources' sink
            # (detections recorded): after a bootstrap or a restart no route update may come for hours
            gen.sink.flush()
