"""One-off check of a zone: one discovery, one probe per address and transport, a verdict.

It runs the same :class:`DnsMonitor` the daemon runs, once, so that the
terminal and the metrics can never disagree about what "healthy" means. When
BGP data is at hand, the routes under each nameserver address (see
:mod:`routewatch.core.dns_risk`) join the verdict: degraded when any address
has lost its service prefix at more peers than the withdrawn ratio allows,
down when every address has (DNS answering from loopback proves nothing about
whether the world can reach it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from routewatch.config.schema import Config, ZoneWatch
from routewatch.config.values import parse_zone_name
from routewatch.core.dns_risk import AddressRisk
from routewatch.core.routes import RouteView
from routewatch.dns.health import ZoneVerdict
from routewatch.dns.service import DnsMonitor
from routewatch.dns.snapshot import TargetSnapshot, ZoneSnapshot
from routewatch.model import canonical_address

ROUTES_GONE = "every nameserver address has lost its service prefix at too many peers"

#: Given the addresses the zone's check found, the routes under each (keyed by canonical address text).
RouteSource = Callable[[Sequence[str]], Awaitable[Mapping[str, AddressRisk]]]


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """What to check and how: servers pinned (no discovery) or parents to ask; port and timeout overrides;
    ``must_be_signed`` requires DNSSEC of the zone (on top of what the config's entry says)."""

    zone: str
    servers: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    port: int | None = None
    timeout: float | None = None
    must_be_signed: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The zone's snapshot (its verdict joined with the routes), its targets, and the routes under each address."""

    zone: ZoneSnapshot
    targets: tuple[TargetSnapshot, ...]
    risks: dict[str, AddressRisk]

    @property
    def routes(self) -> dict[str, RouteView | None]:
        return {address: risk.route_view() for address, risk in self.risks.items()}


class _RiskRoutes:
    """The DNS side's route lookup over the assessed addresses (filled once the routes are read)."""

    def __init__(self) -> None:
        self.risks: Mapping[str, AddressRisk] = {}

    def route_for(self, address: str) -> RouteView | None:
        risk = self.risks.get(canonical_address(address))
        return risk.route_view() if risk is not None else None


def check_config(base: Config, request: CheckRequest) -> Config:
    """The config for one check: the zone's entry from ``base`` (or a bare one), with the overrides applied."""
    zone = parse_zone_name(request.zone)
    watch = next((z for z in base.zones if z.zone == zone), None) or ZoneWatch(zone=zone)
    if request.parents:
        watch = watch.model_copy(update={"parent_servers": [canonical_address(a) for a in request.parents]})
    if request.must_be_signed:
        watch = watch.model_copy(update={"must_be_signed": True})
    updates: dict[str, object] = {}
    if request.port is not None:
        updates["port"] = request.port
    if request.timeout is not None:
        updates["timeout"] = request.timeout
    if request.must_be_signed:  # asked for on the command line: the check it needs runs
        updates["dnssec"] = base.dns.dnssec.model_copy(update={"enabled": True})
    return base.model_copy(update={"zones": [watch], "dns": base.dns.model_copy(update=updates)})


def routes_verdict(dns: ZoneVerdict, risks: Mapping[str, AddressRisk]) -> ZoneVerdict:
    """The DNS verdict, made worse by the routes: degraded when any address is at risk, down when all are."""
    if dns is ZoneVerdict.UNKNOWN or not risks:
        return dns
    at_risk = sum(1 for risk in risks.values() if risk.at_risk)
    if at_risk == len(risks):
        return ZoneVerdict.DOWN
    if at_risk and dns is ZoneVerdict.HEALTHY:
        return ZoneVerdict.DEGRADED
    return dns


async def run_check(config: Config, servers: Sequence[str] = (), routes: RouteSource | None = None) -> CheckResult:
    """Check the single zone in ``config``; ``servers`` pins the addresses to ask instead of discovering.

    The routes are read once the addresses are known (they come from the
    zone), then the zone is judged again without asking it twice.
    """
    zone = config.zones[0].zone
    pinned = {zone: [canonical_address(s) for s in servers]} if servers else None
    lookup = _RiskRoutes()
    monitor = DnsMonitor(config, routes=lookup, pinned=pinned, stagger=False)
    snapshot = await monitor.run_once()
    targets = snapshot.targets_of(zone)
    if routes is None:
        return CheckResult(snapshot.zone(zone), targets, {})
    addresses = sorted({t.address for t in targets}, key=lambda a: (ipaddress.ip_address(a).version, a))
    lookup.risks = dict(await routes(addresses))
    judged = monitor.snapshot().zone(zone)
    verdict = routes_verdict(judged.verdict, lookup.risks)
    reason = judged.reason or (ROUTES_GONE if verdict is ZoneVerdict.DOWN else "")
    return CheckResult(replace(judged, verdict=verdict, reason=reason), targets, dict(lookup.risks))
