"""One-off check of a zone: one discovery, one probe per address and transport, a verdict.

It runs the same :class:`DnsMonitor` the daemon runs, once, so that the
terminal and the metrics can never disagree about what "healthy" means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from routewatch.config.schema import Config, ZoneWatch
from routewatch.config.values import parse_zone_name
from routewatch.core.routes import RouteLookup, RouteView
from routewatch.dns.service import DnsMonitor
from routewatch.dns.snapshot import TargetSnapshot, ZoneSnapshot
from routewatch.model import canonical_address


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What to check and how: servers pinned (no discovery) or parents to ask; port and timeout overrides."""

    zone: str
    servers: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    port: int | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The zone's snapshot, its targets, and the route behind each address when known."""

    zone: ZoneSnapshot
    targets: tuple[TargetSnapshot, ...]
    routes: dict[str, RouteView | None]


def check_config(base: Config, request: CheckRequest) -> Config:
    """The config for one check: the zone's entry from ``base`` (or a bare one), with the overrides applied."""
    zone = parse_zone_name(request.zone)
    watch = next((z for z in base.zones if z.zone == zone), None) or ZoneWatch(zone=zone)
    if request.parents:
        watch = watch.model_copy(update={"parent_servers": [canonical_address(a) for a in request.parents]})
    updates: dict[str, object] = {}
    if request.port is not None:
        updates["port"] = request.port
    if request.timeout is not None:
        updates["timeout"] = request.timeout
    return base.model_copy(update={"zones": [watch], "dns": base.dns.model_copy(update=updates)})


async def run_check(config: Config, servers: Sequence[str] = (), routes: RouteLookup | None = None) -> CheckResult:
    """Check the single zone in ``config``; ``servers`` pins the addresses to ask instead of discovering."""
    zone = config.zones[0].zone
    pinned = {zone: [canonical_address(s) for s in servers]} if servers else None
    monitor = DnsMonitor(config, routes=routes, pinned=pinned, stagger=False)
    snapshot = await monitor.run_once()
    targets = snapshot.targets_of(zone)
    views = {t.address: routes.route_for(t.address) for t in targets} if routes is not None else {}
    return CheckResult(snapshot.zone(zone), targets, views)
