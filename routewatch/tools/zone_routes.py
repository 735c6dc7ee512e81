"""The routes under a zone's nameserver addresses, read from MRT archives for a one-off check.

The archives go through the same core the daemon runs, with the addresses
registered before the first route, so that ``check zone --mrt``, the replay
and the daemon judge an address by one definition
(:mod:`routewatch.core.dns_risk`): the service prefixes (designated in the
config, or found from the baselines), their baseline peers, and the peers
whose longest match fell back to something else. Looking at the longest match
that is left instead would say "visible" on 2021-10-04.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence

from routewatch.config.schema import Config
from routewatch.config.to_core import build_engine
from routewatch.core.dns_risk import AddressRisk
from routewatch.errors import SourceError
from routewatch.tools.replay import replay_files


def archive_risks(config: Config, files: Sequence[str], addresses: Sequence[str]) -> dict[str, AddressRisk]:
    """Replay ``files`` through a core following ``addresses`` (of the config's single zone).

    A one-off answer must not come from half the data: a file that is missing
    or cannot be read raises, and the check says "could not check".
    """
    for path in files:
        if not os.path.isfile(path):
            raise SourceError("mrt", f"{path}: no such file")
    zone = config.zones[0]
    monitor = build_engine(config)
    for address in addresses:
        monitor.add_address(ipaddress.ip_address(address), zone.service_prefixes.get(address, ()),
                            zone.zone, zone.watch_nameserver_prefixes)
    report = replay_files(monitor, files)
    if report.errors:
        raise report.errors[0]
    # judged as of the end of the data read: records the core filtered out still move time on
    ends = [stats.last_time for stats in report.stats.values() if stats.last_time is not None]
    monitor.advance(max(ends, default=monitor.now))
    monitor.flush()
    risks = {}
    for address in addresses:
        risk = monitor.address_risk(ipaddress.ip_address(address))
        assert risk is not None  # registered above
        risks[address] = risk
    return risks

