"""The DNS side's state at one instant, as immutable values the exporter reads.

Metric mapping (the exporter owns the names; these fields carry the values):

- ``routewatch_dns_nameserver_up{zone,nameserver,address}``: ``TargetSnapshot.up``
  (None until the first probe: export nothing rather than a fake 0).
- ``routewatch_dns_query_duration_seconds{...,transport}``: ``TargetSnapshot.rtt(transport)``.
- ``routewatch_dns_soa_serial{...}``: ``TargetSnapshot.serial``.
- ``routewatch_dns_probe_failures_total{...,reason}``: ``TargetSnapshot.failures``
  (monotonic counters since start; every reason key is always present, at 0).
- ``routewatch_dns_zone_nameservers_up`` / ``routewatch_dns_zone_nameservers{zone}``:
  ``ZoneSnapshot.addresses_up`` / ``addresses_total`` (addresses with a probe
  result; the ``nameservers_*`` fields count names, for ``check zone``).
- discovery success / last success timestamp: ``ZoneSnapshot.discovery``.
- serial agreement: ``ZoneSnapshot.serials`` (a state); NS set agreement:
  ``ZoneSnapshot.ns_sets`` (a state).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routewatch.dns.answers import QueryResults
from routewatch.dns.health import Agreement, Diversity, SerialState, ZoneVerdict
from routewatch.dns.signatures import AddressDnssec
from routewatch.dns.targets import ProbeFailure, Target, Transport
from routewatch.dns.trust import ZoneDnssec


@dataclass(frozen=True, slots=True)
class TransportSnapshot:
    """The last probe of a target over one transport.

    ``time`` is when it finished (clock seconds); ``rtt`` is in seconds (None
    when nothing answered); ``serial``/``authoritative``/``nsid`` come from
    the answer; ``detail`` explains the outcome in words.
    """

    transport: Transport
    time: float
    failure: ProbeFailure | None
    rtt: float | None
    serial: int | None
    authoritative: bool
    nsid: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class TargetSnapshot:
    """One (zone, nameserver, address) target.

    ``up`` is True when the latest probe over every transport tried so far was
    healthy, False when one was not, None before the first probe. ``reason``
    is the failure behind ``up`` being False (UDP's first, then TCP's).
    ``failures`` counts failed probes by reason since start (all transports).
    ``retained`` is True when the last complete discovery no longer listed the
    target but it is kept because discovery has been failing (see DESIGN:
    series must not vanish during an outage).
    """

    target: Target
    up: bool | None
    reason: ProbeFailure | None
    udp: TransportSnapshot | None
    tcp: TransportSnapshot | None
    failures: Mapping[ProbeFailure, int]
    probes: int
    retained: bool = False
    dnssec: AddressDnssec | None = None
    queries: QueryResults | None = None

    @property
    def zone(self) -> str:
        return self.target.zone

    @property
    def nameserver(self) -> str:
        return self.target.nameserver

    @property
    def address(self) -> str:
        return self.target.address

    def rtt(self, transport: Transport) -> float | None:
        """Round-trip time of the last probe over ``transport``, in seconds."""
        last = self.udp if transport == Transport.UDP else self.tcp
        return None if last is None else last.rtt

    @property
    def latest(self) -> TransportSnapshot | None:
        """The most recent probe over any transport."""
        probes = [p for p in (self.udp, self.tcp) if p is not None]
        return max(probes, key=lambda p: p.time) if probes else None

    @property
    def serial(self) -> int | None:
        """SOA serial from the latest answer that carried one."""
        answered = [p for p in (self.udp, self.tcp) if p is not None and p.serial is not None]
        return max(answered, key=lambda p: p.time).serial if answered else None

    @property
    def nsid(self) -> str | None:
        latest = self.latest
        return None if latest is None else latest.nsid

    @property
    def authoritative(self) -> bool | None:
        latest = self.latest
        return None if latest is None else latest.authoritative

    def last_probe_time(self) -> float | None:
        latest = self.latest
        return None if latest is None else latest.time


@dataclass(frozen=True, slots=True)
class DiscoverySnapshot:
    """How finding the zone's nameservers went.

    ``ok`` is the last round's outcome (None before the first round, True for
    zones whose servers are pinned rather than discovered); ``last_success``
    and ``last_attempt`` are clock seconds; ``failures`` counts failed rounds;
    ``problems`` says what the last round could not find; ``glue_mismatches``
    the nameservers whose parent glue differs from what the zone serves;
    ``parent_answer`` the parent's rcode when it gave no delegation.
    """

    ok: bool | None
    last_attempt: float | None
    last_success: float | None
    failures: int
    problems: tuple[str, ...] = ()
    ttl: int = 0
    glue_mismatches: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    parent_answer: str | None = None

    @property
    def delegation_gone(self) -> bool:
        """The parent answered NXDOMAIN for the zone (see :attr:`Discovery.delegation_gone`)."""
        return self.parent_answer == "NXDOMAIN"


@dataclass(frozen=True, slots=True)
class ResolverSnapshot:
    """The zone's SOA as a recursive resolver returned it: what users see."""

    resolver: str
    time: float
    failure: ProbeFailure | None
    rtt: float | None
    failures: Mapping[ProbeFailure, int]

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True, slots=True)
class ZoneSnapshot:
    """One zone: counts, agreement states, discovery, diversity, resolvers and the verdict.

    ``addresses_over_cap`` counts addresses discovery found beyond
    ``limits.max_nameserver_addresses`` (counted, not probed or exported).
    ``serial_newest`` is the RFC 1982 newest serial among answering servers;
    ``lagging`` lists the addresses whose serial is behind it;
    ``serial_disagreeing_since`` is when the current disagreement began;
    ``reason`` says in words why the verdict is ``down`` (empty otherwise).
    """

    zone: str
    verdict: ZoneVerdict
    nameservers_up: int
    nameservers_total: int
    addresses_up: int
    addresses_total: int
    addresses_over_cap: int
    serials: SerialState
    serial_newest: int | None
    lagging: tuple[str, ...]
    ns_sets: Agreement
    parent_ns: tuple[str, ...]
    child_ns: tuple[str, ...]
    discovery: DiscoverySnapshot
    diversity: Diversity
    resolvers: tuple[ResolverSnapshot, ...] = ()
    serial_disagreeing_since: float | None = None
    serial_grace: float = 0.0  # dns.serial_grace: how long serials may disagree before it counts
    dnssec: ZoneDnssec = ZoneDnssec()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DnsSnapshot:
    """Every zone and target at ``time`` (clock seconds)."""

    time: float
    zones: tuple[ZoneSnapshot, ...]
    targets: tuple[TargetSnapshot, ...]

    def zone(self, name: str) -> ZoneSnapshot:
        for zone in self.zones:
            if zone.zone == name:
                return zone
        raise KeyError(name)

    def targets_of(self, zone: str) -> tuple[TargetSnapshot, ...]:
        return tuple(t for t in self.targets if t.zone == zone)
