"""Adapters between the daemon and the parts it runs: BGP sources by type, and routes for the DNS side.

Sources are chosen by their config ``type`` in one place. Each adapter returns
the work a supervisor restarts on failure and registers a health provider the
publisher reads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import MappingProxyType
from typing import Any

from routewatch.config.schema import BgpStreamSource as BgpStreamSettings
from routewatch.config.schema import Config, SourceConfig
from routewatch.config.schema import RisLiveSource as RisLiveSettings
from routewatch.core.engine import Engine
from routewatch.core.routes import RouteView
from routewatch.core.watch import WatchSet
from routewatch.exporter.state import SnapshotBox
from routewatch.model import Event, FeedState, Prefix
from routewatch.sources.health import CollectorHealth, FeedCounters, SourceHealth

Work = Callable[[], Awaitable[None]]
HealthProviders = MutableMapping[str, Callable[[], SourceHealth | tuple[SourceHealth, ...]]]
BGPSTREAM_STALE_AFTER = 900.0


def is_live(source: SourceConfig) -> bool:
    """Whether the source follows the present (the core's clock then follows the wall clock)."""
    if source.type == "ris-live":
        return True
    if source.type == "bgpstream":
        return source.until_time is None
    return source.follow


class SnapshotRoutes:
    """What BGP says about a nameserver address, read from the latest published core snapshot."""

    def __init__(self, box: SnapshotBox) -> None:
        self._box = box

    def route_for(self, address: str) -> RouteView | None:
        core = self._box.current.core
        if core is None:
            return None
        risk = core.addresses.get(ipaddress.ip_address(address))
        return risk.route_view() if risk is not None else None


def bgpstream_work(settings: BgpStreamSettings, deliver: Callable[[list[Event]], None], health: HealthProviders,
                   stop: asyncio.Event, clock: Callable[[], float] = time.time,
                   watch: WatchSet | None = None) -> Work:
    """BGPStream elems through the core as they come; needs the optional ``pybgpstream``.

    The stream is filtered to the watched prefixes and their more-specifics,
    so the whole project's feed is not handed over element by element; with
    watched ASNs every prefix may matter, so there is no filter then.
    """
    counters = FeedCounters(settings.name)
    health[settings.name] = lambda: counters.snapshot(clock(), BGPSTREAM_STALE_AFTER)

    async def work() -> None:
        from routewatch.sources.bgpstream import BgpStreamSource, bgpstream_filter

        wanted: list[Prefix] = []
        if watch is not None and not watch.asn_caps:
            wanted = [w.prefix for w in watch] + [ipaddress.ip_network(a) for a in watch.addresses]
        stream = BgpStreamSource(project=settings.project, collectors=settings.collectors,
                                 record_type=settings.record_type,
                                 from_time=int(settings.from_time) if settings.from_time is not None else None,
                                 until_time=int(settings.until_time) if settings.until_time is not None else None,
                                 filter=bgpstream_filter(wanted) if wanted else None)
        counters.up = True
        try:
            async for event in stream:
                counters.message(event.time, clock(), getattr(getattr(event, "peer", None), "collector", None))
                deliver([event])
                if stop.is_set():
                    break
        except BaseException:
            counters.up = False
            counters.reconnects += 1
            raise
        finally:
            counters.malformed = stream.stats.malformed
            stream.close()

    return work


def live_bgp_work(config: Config, settings: RisLiveSettings, monitor: Callable[[], Engine],
                  health: HealthProviders, stop: asyncio.Event, clock: Callable[[], float] = time.time) -> Work:
    """One RIS Live source (``routewatch.daemon.ris_live.LiveBgp``), which drives the core itself.

    Its detection changes reach the detection log through the tapped monitor,
    so no batch callback is needed here.
    """

    async def work() -> None:
        from routewatch.daemon.ris_live import LiveBgp
        from routewatch.sources.ripestat import RipestatClient

        async with RipestatClient(config.ripestat) as ripestat:
            live = LiveBgp(config, monitor(), source=settings, clock=clock, ripestat=ripestat)
            health[settings.name] = lambda: live_health(live.health(), clock())
            await live.run(stop)

    return work


def live_health(health: Any, now: float) -> SourceHealth:
    """The live feed's own health record, in the exporter's terms (data times, lag, fresh collectors).

    The lag is wall clock ``now`` minus the newest data time, so that a feed
    which stops delivering shows a lag growing with the wall clock rather
    than the last message's lag frozen in place.
    """
    lag = None
    if health.last_data_time is not None:
        lag = max(0.0, now - health.last_data_time)
    collectors = tuple(
        CollectorHealth(c.name, c.state == FeedState.UP, c.last_data_time,
                        max(0.0, c.lag) if c.lag is not None else None)
        for c in health.collectors
    )
    return SourceHealth(health.source, health.up, health.last_data_time, lag, health.reconnects, health.received,
                        health.malformed, health.dropped, MappingProxyType(dict(health.ignored)), collectors)
