"""Where the one-off commands get their routes: MRT files, BGPStream or RIPEstat.

Archives are replayed as the daemon would bootstrap: RIB dumps count as
established state at once, update files are applied on top, and all files are
merged in time order (a RIB before updates of the same second).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator, Sequence

from routewatch.config.rpki import RpkiSettings
from routewatch.config.schema import RipestatSettings
from routewatch.errors import RoutewatchError
from routewatch.model import Event, Prefix
from routewatch.rpki.validation import VrpIndex
from routewatch.sources.mrt.reader import DeferredRoute, MrtStats, read_mrt_timed
from routewatch.sources.ripestat import RipestatClient, RoutingStatus
from routewatch.sources.vrp.feeds import build_vrp_feeds
from routewatch.tools.replay import ReplayReport, discovery_filter, merged_events
from routewatch.tools.reports import (
    AsnReport,
    PrefixReport,
    VisibilityObservation,
)
from routewatch.tools.ripestat_reports import ripestat_asn_report, ripestat_prefix_report
from routewatch.tools.route_rpki import with_ripestat_rpki

#: RIS writes a RIB dump every 8 hours; BGPStream is asked for the latest one.
RIB_INTERVAL = 8 * 3600


def replay_files(observation: VisibilityObservation, paths: Sequence[str], *, bgpstream: bool = False) -> None:
    """Feed MRT files into ``observation``: RIBs as established state, updates on top, in time order.

    A one-off check must not answer from half the data: a missing or damaged
    file raises (the command exits "could not check").
    """
    for path in paths:
        if not os.path.exists(path):
            raise RoutewatchError(f"{path}: no such file")
    report = ReplayReport()
    observation.has_snapshot = False

    watch = observation.watch
    discovery = discovery_filter(watch)

    def read(path: str, rib: bool, file_stats: MrtStats) -> Iterator[Event | DeferredRoute]:
        observation.has_snapshot |= rib
        if bgpstream:
            from routewatch.sources.bgpstream import read_bgpstream_file
            from routewatch.sources.mrt.reader import collector_from_path

            return read_bgpstream_file(path, collector=collector_from_path(path), rib=rib, stats=file_stats)
        # events (and deferred routes) only, as read_mrt gives them: a check applies no bare data times
        items = read_mrt_timed(path, prefix_filter=watch.relevant, discovery=discovery, stats=file_stats)
        return (item for item in items if not isinstance(item, float))

    for event, established in merged_events(paths, report, reader=read):
        if isinstance(event, DeferredRoute):
            observation.apply_deferred(event, established=established)
        elif not isinstance(event, float):  # the reader gives routes only
            observation.apply(event, established=established)
    observation.monitor.flush()
    # the answer holds as of the end of the data read, not the last change of the prefix asked about
    ends = [t for t in (observation.time, *(stats.last_time for stats in report.stats.values())) if t is not None]
    observation.time = max(ends, default=None)
    if report.errors:
        raise report.errors[0]


async def replay_bgpstream(observation: VisibilityObservation, prefixes: Sequence[Prefix], *, project: str,
                           collectors: Sequence[str], now: float | None = None) -> None:
    """Feed the latest RIB dumps of a BGPStream project (needs pybgpstream)."""
    from routewatch.sources.bgpstream import BgpStreamReader, bgpstream_filter

    end = int(now if now is not None else time.time())
    source = BgpStreamReader(project=project, collectors=collectors, record_type="ribs",
                             from_time=end - RIB_INTERVAL, until_time=end,
                             filter=bgpstream_filter(prefixes) if prefixes else None)
    try:
        async for event in source:
            observation.apply(event, established=True)
    finally:
        source.close()
    observation.monitor.flush()


async def ripestat_prefix(settings: RipestatSettings, prefix: Prefix, expected: Sequence[int],
                          min_visibility: float, withdrawn_ratio: float) -> PrefixReport:
    async with RipestatClient(settings) as client:
        # both calls run at once; when both fail, report routing-status's error, whichever came back first
        status, routes = await asyncio.gather(client.routing_status(str(prefix)), client.looking_glass(str(prefix)),
                                              return_exceptions=True)
        for answer in (status, routes):
            if isinstance(answer, BaseException):
                raise answer
        assert not isinstance(status, BaseException) and not isinstance(routes, BaseException)
        report = ripestat_prefix_report(status, routes, prefix, expected, min_visibility, withdrawn_ratio)
        return await with_ripestat_rpki(report, client)


async def load_vrps(settings: RpkiSettings | None) -> tuple[VrpIndex | None, str]:
    """The config's VRP sources loaded once (each until its first set or ``load_timeout``), and what was loaded.

    No set is a state (every route ``unknown``), not a failed check.
    """
    if settings is None or not settings.sources:
        return None, "no VRP set (no rpki sources configured)"
    feeds = build_vrp_feeds(settings)
    index = await feeds.first_load(settings.load_timeout)
    statuses = feeds.statuses()
    missing = "; ".join(f"{s.name} not loaded" + (f" ({s.detail})" if s.detail else "")
                        for s in statuses if not s.loaded)
    if index is None:
        return None, f"no VRP set within {settings.load_timeout:g} s: {missing}"
    loaded = ", ".join(s.name for s in statuses if s.loaded)
    return index, f"{len(index)} VRPs from {loaded}" + (f"; {missing}" if missing else "")


async def ripestat_asn(settings: RipestatSettings, asn: int, min_visibility: float, max_prefixes: int) -> AsnReport:
    """announced-prefixes once, then routing-status per prefix (capped, at most ``concurrency`` at a time)."""
    async with RipestatClient(settings) as client:
        prefixes = await client.announced_prefixes(asn)
        kept = prefixes[:max_prefixes]
        statuses: list[RoutingStatus] = await asyncio.gather(*(client.routing_status(str(p)) for p in kept))
    return ripestat_asn_report(asn, dict(zip(kept, statuses, strict=True)), min_visibility,
                               over_cap=len(prefixes) - len(kept))


async def ripestat_announced(settings: RipestatSettings, asns: Sequence[int]) -> dict[int, list[Prefix]]:
    async with RipestatClient(settings) as client:
        found = await asyncio.gather(*(client.announced_prefixes(asn) for asn in asns))
    return dict(zip(asns, found, strict=True))
