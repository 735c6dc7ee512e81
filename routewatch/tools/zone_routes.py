"""The routes under a zone's nameserver addresses, for a one-off check: from MRT archives or from RIPEstat.

Both go through the same core the daemon runs, with the addresses registered
before the first route, so that ``check zone --mrt``, ``check zone
--ripestat``, the replay and the daemon judge an address by one definition
(:mod:`routewatch.core.dns_risk`): the service prefixes (designated in the
config, or found from the baselines), their baseline peers, and the peers
whose longest match fell back to something else. Looking at the longest match
that is left instead would say "visible" on 2021-10-04; so RIPEstat is asked
for the past too (:mod:`routewatch.sources.ripestat.history`), not only for
where the routes stand now.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Iterable, Sequence

from routewatch.config.schema import Config
from routewatch.config.to_core import build_engine
from routewatch.core.dns_risk import AddressRisk
from routewatch.core.engine import Engine
from routewatch.errors import SourceError
from routewatch.sources.ripestat import RipestatClient
from routewatch.sources.ripestat.history import RouteHistory, route_history
from routewatch.tools.replay import replay_files


def _following(config: Config, addresses: Sequence[str]) -> Engine:
    """A core following ``addresses`` (of the config's single zone) before any route arrives."""
    zone = config.zones[0]
    monitor = build_engine(config)
    for address in addresses:
        monitor.add_address(ipaddress.ip_address(address), zone.service_prefixes.get(address, ()),
                            zone.zone, zone.watch_nameserver_prefixes)
    return monitor


def _judged(monitor: Engine, addresses: Sequence[str], end: float) -> dict[str, AddressRisk]:
    """Each address's routes as of ``end``, the end of the data read."""
    monitor.advance(end)
    monitor.flush()
    risks = {}
    for address in addresses:
        risk = monitor.address_risk(ipaddress.ip_address(address))
        assert risk is not None  # registered before the routes
        risks[address] = risk
    return risks


def archive_risks(config: Config, files: Sequence[str], addresses: Sequence[str]) -> dict[str, AddressRisk]:
    """Replay ``files`` through a core following ``addresses``.

    A one-off answer must not come from half the data: a file that is missing
    or cannot be read raises, and the check says "could not check".
    """
    for path in files:
        if not os.path.isfile(path):
            raise SourceError("mrt", f"{path}: no such file")
    monitor = _following(config, addresses)
    report = replay_files(monitor, files)
    if report.errors:
        raise report.errors[0]
    # judged as of the end of the data read: records the core filtered out still move time on
    ends = [stats.last_time for stats in report.stats.values() if stats.last_time is not None]
    return _judged(monitor, addresses, max(ends, default=monitor.now))


def history_risks(config: Config, histories: Iterable[RouteHistory], addresses: Sequence[str]
                  ) -> dict[str, AddressRisk]:
    """Judge ``addresses`` on what RIS saw of them: the routes at the window's start, then the updates since.

    The routes at the start were held before it (a RIB dump's standing), so
    they make the baseline at once; a route several addresses share comes
    once per address and counts once.
    """
    histories = list(histories)
    monitor = _following(config, addresses)
    monitor.apply_all(dict.fromkeys(r for h in histories for r in h.initial), established=True)
    monitor.apply_all(sorted(dict.fromkeys(u for h in histories for u in h.updates), key=lambda u: u.time))
    return _judged(monitor, addresses, max((h.end for h in histories), default=monitor.now))


async def ripestat_risks(config: Config, addresses: Sequence[str], end: float) -> dict[str, AddressRisk]:
    """Ask RIPEstat what RIS saw of each address over the baseline window up to ``end``, and judge it."""
    start = end - config.bgp.baseline_window
    async with RipestatClient(config.ripestat) as client:
        histories = await asyncio.gather(*(route_history(client, a, start, end) for a in addresses))
    return history_risks(config, histories, addresses)
