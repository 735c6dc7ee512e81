"""Mutable per-target and per-zone records the monitor updates, and their snapshots.

The records are plain state; every judgement (health, agreement, verdict) is
delegated to :mod:`routewatch.dns.health` so that it stays pure and tested on
its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from routewatch.config.schema import ZoneWatch
from routewatch.core.routes import RouteLookup
from routewatch.dns.answers import QueryResults
from routewatch.dns.checks.base import CheckOutcome
from routewatch.dns.discovery import Discovery
from routewatch.dns.health import (
    Agreement,
    diversity,
    down_reason,
    lagging,
    newest_serial,
    ns_set_agreement,
    serial_state,
    serials_agree,
    zone_verdict,
)
from routewatch.dns.probe import Observation
from routewatch.dns.signatures import AddressDnssec
from routewatch.dns.snapshot import DiscoverySnapshot, ResolverSnapshot, TargetSnapshot, TransportSnapshot, ZoneSnapshot
from routewatch.dns.targets import ProbeFailure, Target, Transport
from routewatch.dns.trust import judge_zone


def _zero_failures() -> dict[ProbeFailure, int]:
    return dict.fromkeys(ProbeFailure, 0)


def _transport_snapshot(observation: Observation, now: float) -> TransportSnapshot:
    return TransportSnapshot(
        observation.transport,
        now,
        observation.failure,
        observation.rtt,
        observation.serial,
        observation.authoritative,
        observation.nsid,
        observation.detail,
    )


@dataclass(slots=True)
class TargetState:
    """One target's schedule (per check and transport), last results and failure counters."""

    target: Target
    expires: float
    retained: bool = False
    next_due: dict[tuple[str, Transport], float] = field(default_factory=dict)
    in_flight: set[tuple[str, Transport]] = field(default_factory=set)
    last: dict[Transport, TransportSnapshot] = field(default_factory=dict)
    failures: dict[ProbeFailure, int] = field(default_factory=_zero_failures)
    probes: int = 0
    dnssec: AddressDnssec | None = None
    queries: QueryResults | None = None

    def record(self, observation: CheckOutcome, now: float) -> None:
        """Keep a check's outcome; ``probes`` and ``failures`` count SOA probes."""
        if isinstance(observation, AddressDnssec):
            self.dnssec = observation
            return
        if isinstance(observation, QueryResults):
            self.queries = observation
            return
        self.last[observation.transport] = _transport_snapshot(observation, now)
        self.probes += 1
        if observation.failure is not None:
            self.failures[observation.failure] += 1

    @property
    def up(self) -> bool | None:
        if not self.last:
            return None
        return all(probe.failure is None for probe in self.last.values())

    def snapshot(self) -> TargetSnapshot:
        reason = next((p.failure for t in Transport if (p := self.last.get(t)) and p.failure), None)
        return TargetSnapshot(
            self.target,
            self.up,
            reason,
            self.last.get(Transport.UDP),
            self.last.get(Transport.TCP),
            MappingProxyType(dict(self.failures)),
            self.probes,
            self.retained,
            self.dnssec,
            self.queries,
        )


@dataclass(slots=True)
class ResolverState:
    """The last answer of one recursive resolver for a zone, and its failure counters."""

    resolver: str
    last: ResolverSnapshot | None = None
    failures: dict[ProbeFailure, int] = field(default_factory=_zero_failures)

    def record(self, observation: Observation, now: float) -> None:
        if observation.failure is not None:
            self.failures[observation.failure] += 1
        self.last = ResolverSnapshot(
            self.resolver, now, observation.failure, observation.rtt, MappingProxyType(dict(self.failures))
        )


@dataclass(slots=True)
class ZoneState:
    """One zone's targets, discovery history, serial history and resolver results."""

    watch: ZoneWatch
    pinned: bool = False
    targets: dict[Target, TargetState] = field(default_factory=dict)
    over_cap: int = 0
    last_discovery: Discovery | None = None
    discovery_attempt: float | None = None
    discovery_success: float | None = None
    discovery_failures: int = 0
    disagreeing_since: float | None = None
    resolvers: dict[str, ResolverState] = field(default_factory=dict)
    resolving: bool = False

    @property
    def zone(self) -> str:
        return self.watch.zone

    def note_serials(self, now: float) -> None:
        """Start or clear the clock on a serial disagreement (called after every probe)."""
        agreement = serials_agree(self._serials().values())
        if agreement is Agreement.DISAGREE:
            if self.disagreeing_since is None:
                self.disagreeing_since = now
        else:
            self.disagreeing_since = None

    def _serials(self) -> dict[str, int]:
        serials = {}
        for state in self.targets.values():
            snap = state.snapshot()
            if snap.up and snap.serial is not None:
                serials[state.target.address] = snap.serial
        return serials

    def snapshot(
        self, now: float, grace: float, routes: RouteLookup | None, dnssec_warning: float = 259_200.0
    ) -> ZoneSnapshot:
        targets = [state.snapshot() for state in self.targets.values()]
        names = {t.nameserver for t in targets if t.up is not None}
        names_up = {t.nameserver for t in targets if t.up}
        serials = self._serials()
        states = serial_state(serials_agree(serials.values()), self.disagreeing_since, now, grace)
        discovery = self.last_discovery
        parent = discovery.parent_ns if discovery else None
        child = discovery.child_ns if discovery else None
        ns_sets = ns_set_agreement(parent.names if parent else None, child.names if child else None)
        addresses = [t.address for t in targets]
        route_views = {a: routes.route_for(a) for a in addresses} if routes is not None else {}
        resolvers = tuple(r.last for r in self.resolvers.values() if r.last is not None)
        discovery_ok = True if self.pinned else (discovery.ok if discovery else None)
        # Only addresses with a result count: right after a start every first probe is still
        # pending (they are spread over one interval), and "not probed yet" is not "down".
        probed = [t for t in targets if t.up is not None]
        delegated = self.pinned or discovery is None or not discovery.delegation_gone
        verdict = zone_verdict(
            sum(1 for t in probed if t.up),
            len(probed),
            delegated=delegated,
            ns_sets=ns_sets,
            serials=states,
            discovery_ok=discovery_ok is not False,
            resolvers_failing=sum(1 for r in resolvers if not r.ok),
            queries_failing=sum(t.queries.failing for t in probed if t.queries is not None),
        )
        return ZoneSnapshot(
            zone=self.zone,
            verdict=verdict,
            nameservers_up=len(names_up),
            nameservers_total=len(names),
            addresses_up=sum(1 for t in probed if t.up),
            addresses_total=len(probed),
            addresses_over_cap=self.over_cap,
            serials=states,
            serial_newest=newest_serial(serials.values()),
            lagging=lagging(serials),
            ns_sets=ns_sets,
            parent_ns=tuple(sorted(parent.names)) if parent else (),
            child_ns=tuple(sorted(child.names)) if child else (),
            discovery=DiscoverySnapshot(
                discovery_ok,
                self.discovery_attempt,
                self.discovery_success,
                self.discovery_failures,
                discovery.problems if discovery else (),
                discovery.ttl if discovery else 0,
                discovery.glue_mismatches if discovery else (),
                discovery.parent_answer if discovery else None,
            ),
            diversity=diversity(addresses, route_views),
            resolvers=resolvers,
            serial_disagreeing_since=self.disagreeing_since,
            serial_grace=grace,
            dnssec=judge_zone(self.zone, discovery.ds if discovery else None,
                              {t.address: t.dnssec for t in targets if t.dnssec is not None}, now, dnssec_warning,
                              must_be_signed=self.watch.must_be_signed),
            reason=down_reason(verdict, delegated=delegated),
        )


def merge_targets(
    current: Mapping[Target, float], found: Iterable[Target], *, complete: bool, now: float, keep_until: float
) -> dict[Target, float]:
    """Which targets to keep after a discovery round, each with the time it may be forgotten.

    A complete round is the truth: targets it no longer lists are dropped. An
    incomplete one (the parent or the zone's servers silent, as in an outage)
    only adds: known targets are kept until their expiry, so their series and
    alerts stay while discovery is failing.
    """
    merged = {} if complete else {target: until for target, until in current.items() if until > now}
    for target in found:
        merged[target] = keep_until
    return merged
