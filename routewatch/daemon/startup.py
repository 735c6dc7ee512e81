"""The daemon's first words: what each source and zone watches and where from, then how each source began.

Started without the internet, routewatch used to print dozens of retries and
never the one line that mattered. Now a newcomer reads one line per source
and per zone at start, one line per connecting source once its first attempt
is over (connected, or why not and what stays unknown meanwhile), and one
line when no source is reachable at all. Retries themselves are the
sources' business, at debug level after their first warning.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from routewatch.config.schema import Config, ZoneWatch
from routewatch.config.sources import SourceSettings
from routewatch.core.snapshot import CoreSnapshot
from routewatch.core.visibility import PrefixState
from routewatch.sources.health import SourceHealth


def _count(n: int, what: str, plural: str | None = None) -> str:
    return f"{n} {what if n == 1 else plural or what + 's'}"


def watched(config: Config) -> str:
    """What every source is asked to follow, in words."""
    parts = [_count(len(config.prefixes), "prefix", "prefixes")]
    if config.asns:
        parts.append(f"the prefixes of {_count(len(config.asns), 'AS', 'ASes')}")
    if config.zones:
        parts.append(f"the nameserver addresses of {_count(len(config.zones), 'zone')}")
    return ", ".join(parts)


def source_line(settings: SourceSettings, config: Config) -> str:
    bootstrap = ""
    if settings.needs_snapshot:
        if config.bgp.bootstrap.mrt_files:
            bootstrap = f"; initial state from {_count(len(config.bgp.bootstrap.mrt_files), 'MRT file')}"
        elif config.bgp.bootstrap.ripestat:
            bootstrap = f"; initial state from RIPEstat's looking glass at {config.ripestat.url}"
        else:
            bootstrap = "; no initial state: stable prefixes stay unknown until they change"
    return f"source {settings.name}: {settings.where_from}; watching {watched(config)}{bootstrap}"


def zone_line(zone: ZoneWatch, config: Config) -> str:
    if zone.parent_servers:
        delegation = f"delegation asked of {', '.join(zone.parent_servers)}"
    else:
        delegation = "delegation discovered from the root"
    extra = f" plus {', '.join(zone.nameservers)}" if zone.nameservers else ""
    routes = "; their routes watched" if zone.watch_nameserver_prefixes else ""
    return (f"zone {zone.zone.rstrip('.')}: {delegation}{extra}; every nameserver address probed every "
            f"{config.dns.interval:g} s on port {config.dns.port}{routes}")


def unguarded_line(zone: str, nameserver: str, address: str) -> str:
    """Said once for an address found with nothing to judge a past loss by (see ``core.past_holders``)."""
    return (f"zone {zone}: {nameserver} {address} is covered by no watched prefix and has no service prefix "
            "designated: the route serving it is learned from what is seen from now on, so a route it lost "
            "before now goes unseen; watch its covering prefix or set zones[].service_prefixes")


def start_lines(config: Config) -> list[str]:
    """One line per source and per zone, in config order."""
    return [source_line(s, config) for s in config.sources] + [zone_line(z, config) for z in config.zones]


def _unknown(core: CoreSnapshot) -> tuple[int, int]:
    unknown = sum(1 for status in core.prefixes if status.state is PrefixState.UNKNOWN)
    return unknown, len(core.prefixes)


@dataclass
class FirstAttempts:
    """Says once per live source how its first attempt went, and once when none is reachable.

    A source counts as having tried once it is up, or names a problem; "none
    reachable" is said when one has failed, none is up, and nothing is known.
    """

    pending: set[str]
    failed: set[str] = field(default_factory=set)
    said_none: bool = False

    @classmethod
    def of(cls, config: Config) -> FirstAttempts:
        return cls({s.name for s in config.sources if s.follows_present})

    def lines(self, health: Sequence[SourceHealth], core: CoreSnapshot) -> list[tuple[int, str]]:
        """(level, line) to log now; nothing once every source has been reported."""
        out: list[tuple[int, str]] = []
        unknown, total = _unknown(core)
        for source in health:
            if source.source not in self.pending:
                continue
            if source.up:
                self.pending.discard(source.source)
                known = f"{unknown} of {total} prefixes unknown until data arrives" if unknown else "no prefix unknown"
                out.append((logging.INFO, f"{source.source}: up; {known}"))
            elif source.problem:
                self.pending.discard(source.source)
                self.failed.add(source.source)
                out.append((logging.WARNING, f"{source.source}: {source.problem}, retrying; "
                                             f"{unknown} of {total} prefixes unknown until data arrives"))
        if not self.said_none and self.failed and not any(h.up for h in health) and unknown == total:
            self.said_none = True
            out.append((logging.WARNING, "no source reachable yet: every prefix is unknown until one connects"))
        return out
