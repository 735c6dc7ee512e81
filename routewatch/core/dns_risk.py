"""The routes under a nameserver address: one definition for the daemon, the replay and ``check zone``.

For every nameserver address, each peer's longest-prefix match (LPM) is
computed. A peer is *at risk* for the address when its match is not one of the
address's service prefixes: the ones the operator designated, or, when none
were, the most specific covering prefixes that have a baseline of peers (see
:func:`service_from_baselines`; until one has, the LPM most peers use once it
has been stable a while). Falling back to a covering aggregate is risk: on
2021-10-04 129.134.0.0/17 stayed announced while the /24 and /23 serving
a.ns.facebook.com were gone, so "is some route covering it?" said yes while DNS
was dead. A hijacker's more-specific over the address changes the LPM and is
caught the same way. :func:`assess` says, for the baseline peers of the service
prefixes, which are at risk and what each fell back to: an aggregate, a
more-specific, or nothing.
"""

from __future__ import annotations

import enum
import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from routewatch.core.routes import RouteView
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.table import RouteTable
from routewatch.model import Address, AsSet, Prefix, intern_prefix, origin_asns


class FallbackKind(enum.StrEnum):
    """What a baseline peer's longest match for an address is, when it is no service prefix."""

    AGGREGATE = "aggregate"  # a covering prefix less specific than the service prefixes (2021-10-04)
    MORE_SPECIFIC = "more-specific"  # a prefix more specific than them: a hijack, or an unknown deaggregation
    NOTHING = "nothing"  # no route covering the address at all


@dataclass(frozen=True, slots=True)
class Fallback:
    """The baseline peers at risk that fell back to one prefix (or to nothing), with the origins they see."""

    kind: FallbackKind
    prefix: Prefix | None
    peers: int
    origins: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AddressRisk:
    """The routes under one nameserver address, as the exporter and ``check zone`` show them.

    ``baseline_peers`` are the counted baseline peers of the service prefixes;
    ``peers_at_risk`` those of them whose longest match is no service prefix,
    broken down in ``fallbacks``. ``at_risk`` is the judgement: the share still
    on a service prefix is below the service prefix's withdrawn ratio, with at
    least its minimum baseline.
    """

    address: Address
    service_prefixes: tuple[Prefix, ...]
    baseline_peers: int
    peers_at_risk: int
    peers_on_service: int
    common_match: Prefix | None
    matches: dict[str, int]
    fallbacks: tuple[Fallback, ...] = ()
    at_risk: bool = False
    common_origin: int | None = None

    @property
    def on_service_ratio(self) -> float | None:
        return self.peers_on_service / self.baseline_peers if self.baseline_peers else None

    def route_view(self) -> RouteView | None:
        """The route most peers use for the address, for the DNS side (diversity, a zone's prefix column)."""
        if self.common_match is None:
            return None
        visible = self.peers_on_service > 0 or self.common_match not in self.service_prefixes
        return RouteView(self.common_match, visible, self.common_origin, self.peers_on_service)


def covering_prefixes(address: Address) -> list[Prefix]:
    """Every prefix that covers ``address``, most specific first."""
    bits = address.max_prefixlen
    value = int(address)
    return [intern_prefix(ipaddress.ip_network((value >> (bits - n) << (bits - n) if n else 0, n)))
            for n in range(bits, -1, -1)]


def longest_matches(covering: Iterable[Prefix], table: RouteTable) -> dict[int, Prefix]:
    """Peer index -> its longest matching unicast prefix, from ``covering`` (most specific first)."""
    lpm: dict[int, Prefix] = {}
    for prefix in covering:
        for peer in table.unicast_paths_by_peer(prefix):
            lpm.setdefault(peer, prefix)
    return lpm


def service_from_baselines(baselines: Iterable[tuple[Prefix, int]], min_peers: int,
                           deaggregated: Callable[[Prefix], bool] = lambda _: False) -> Prefix | None:
    """The prefix that serves an address nobody designated a service prefix for, from baselines as they stand.

    ``baselines`` are (covering prefix, baseline peers), most specific first;
    the first with at least ``min_peers`` serves the address. This is what lets
    an address registered after the routes (late discovery, a bootstrap before
    discovery, a restart, a new address found during an outage) see a
    withdrawal that had already happened: the baseline remembers the peers
    that have lost the prefix, the route table alone does not.

    ``deaggregated(prefix)`` says that most peers now reach the address through
    a more specific prefix of the same origin: then ``prefix`` is only the
    aggregate, and the more specific one is left to be learned.
    """
    found = next((prefix for prefix, peers in baselines if peers >= min_peers), None)
    return None if found is None or deaggregated(found) else found


def _origins(table: RouteTable, prefix: Prefix, peers: Iterable[int]) -> tuple[int, ...]:
    found: set[int] = set()
    for peer in peers:
        for path in table.peer_unicast_paths(prefix, peer):
            found |= origin_asns(path)
    return tuple(sorted(found))


def _fallback_kind(prefix: Prefix | None, service: Iterable[Prefix]) -> FallbackKind:
    if prefix is None:
        return FallbackKind.NOTHING
    longest = max((p.prefixlen for p in service), default=-1)
    return FallbackKind.MORE_SPECIFIC if prefix.prefixlen > longest else FallbackKind.AGGREGATE


def assess(address: Address, table: RouteTable, lpm: dict[int, Prefix], service: Iterable[Prefix],
           baseline: Iterable[int], thresholds: WithdrawalThresholds) -> AddressRisk:
    """The one definition: of the ``baseline`` peers, who still reaches the address through a service prefix.

    ``baseline`` holds the baseline peers that count now (the caller has
    removed those whose session is down or whose collector is stale);
    ``thresholds`` are the service prefix's (its withdrawn ratio and minimum
    baseline judge ``at_risk``).
    """
    serving = frozenset(service)
    counted = sorted(set(baseline))
    at_risk = [p for p in counted if lpm.get(p) not in serving]
    by_fallback: dict[Prefix | None, list[int]] = {}
    for peer in at_risk:
        by_fallback.setdefault(lpm.get(peer), []).append(peer)
    fallbacks = tuple(
        Fallback(_fallback_kind(prefix, serving), prefix, len(peers), _origins(table, prefix, peers) if prefix else ())
        for prefix, peers in sorted(by_fallback.items(), key=lambda item: (-len(item[1]), str(item[0])))
    )
    common = Counter(lpm[p] for p in counted if p in lpm).most_common(1)
    common_match = common[0][0] if common else None
    origins = table.origin_counts(common_match) if common_match is not None else Counter()
    on_service = len(counted) - len(at_risk)
    ratio = on_service / len(counted) if counted else None
    return AddressRisk(
        address=address,
        service_prefixes=tuple(sorted(serving, key=lambda p: (p.prefixlen, p))),
        baseline_peers=len(counted),
        peers_at_risk=len(at_risk),
        peers_on_service=on_service,
        common_match=common_match,
        matches=dict(Counter(str(lpm[p]) if p in lpm else "none" for p in counted)),
        fallbacks=fallbacks,
        at_risk=(len(counted) >= thresholds.min_baseline_peers and ratio is not None
                 and ratio < thresholds.withdrawn_ratio),
        common_origin=origins.most_common(1)[0][0] if origins else None,
    )


@dataclass(slots=True)
class AddressTracker:
    """One nameserver address inside the core: its service prefixes (designated or learned) and last risk."""

    address: Address
    zone: str = ""
    exported: bool = False
    service: set[Prefix] = field(default_factory=set)
    learning: bool = True
    origins: AsSet = frozenset()
    from_snapshot: bool = False  # the latest route under it came from a snapshot (RIB dump, looking glass)
    _pending: tuple[Prefix, float] | None = None
    _covering: list[Prefix] = field(default_factory=list)
    _risk: AddressRisk | None = None

    def __post_init__(self) -> None:
        self._covering = covering_prefixes(self.address)

    @property
    def covering(self) -> list[Prefix]:
        """Every prefix covering the address, most specific first."""
        return self._covering

    def covering_in(self, table: RouteTable) -> list[Prefix]:
        """Prefixes with routes that cover the address, most specific first."""
        return [p for p in self._covering if p in table]

    def adopt(self, prefix: Prefix, origins: AsSet) -> None:
        """Take ``prefix`` as the service prefix (found from baselines as they stand)."""
        self.service.add(prefix)
        self.origins = origins
        self._pending = None

    def learn_service(self, lpm: dict[int, Prefix], table: RouteTable, min_peers: int, now: float,
                      min_hold: float) -> Prefix | None:
        """With nothing designated, the LPM most peers use, once stable for ``min_hold``, serves the address.

        Only a more specific prefix from the same origin may join later: a
        fall-back to an aggregate, or a hijacker's more-specific, never does.
        Routes from a snapshot were held long before it, so a longest match
        read from one is stable already.
        """
        counts = Counter(lpm.values())
        if not counts:
            return None
        candidate, peers = counts.most_common(1)[0]
        origins = table.origin_counts(candidate)
        if peers < min_peers or not origins or candidate in self.service:
            self._pending = None
            return None
        origin = frozenset((origins.most_common(1)[0][0],))
        if self.service and (origin != self.origins
                             or any(candidate.prefixlen <= p.prefixlen for p in self.service)):
            self._pending = None
            return None
        if self._pending is None or self._pending[0] != candidate:
            self._pending = (candidate, now - min_hold if self.from_snapshot else now)
        if now - self._pending[1] < min_hold:
            return None
        self.service.add(candidate)
        self.origins = origin
        self._pending = None
        return candidate

    def learned_at(self, min_hold: float) -> float | None:
        """When the longest match waiting to be learned will have been stable ``min_hold`` (None: none waits)."""
        return self._pending[1] + min_hold if self._pending is not None else None

    def update(self, risk: AddressRisk) -> None:
        self._risk = risk

    def risk(self) -> AddressRisk:
        return self._risk or AddressRisk(self.address, tuple(sorted(self.service, key=lambda p: (p.prefixlen, p))),
                                         0, 0, 0, None, {})
