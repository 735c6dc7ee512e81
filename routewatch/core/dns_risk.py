"""Which route each nameserver address depends on, per collector peer.

For every nameserver address, each peer's longest-prefix match (LPM) is
computed. A peer is *at risk* for the address when its match is not one of the
address's service prefixes: the ones the operator designated, or, when none
were, the ones that were the LPM of enough peers when routewatch first saw the
address. Falling back to a covering aggregate is risk: on 2021-10-04
129.134.0.0/17 stayed announced while the /24 and /23 serving a.ns.facebook.com
were gone, so "is some route covering it?" said yes while DNS was dead. A
hijacker's more-specific over the address changes the LPM and is caught the
same way.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from routewatch.core.routes import RouteView
from routewatch.core.table import RouteTable
from routewatch.model import Address, AsSet, Prefix, intern_prefix


@dataclass(frozen=True, slots=True)
class AddressRisk:
    """What the exporter and ``check zone`` show for one nameserver address."""

    address: Address
    service_prefixes: tuple[Prefix, ...]
    baseline_peers: int
    peers_at_risk: int
    peers_on_service: int
    common_match: Prefix | None
    matches: dict[str, int]


@dataclass(slots=True)
class AddressTracker:
    address: Address
    zone: str = ""
    exported: bool = False
    service: set[Prefix] = field(default_factory=set)
    learning: bool = True
    origins: AsSet = frozenset()
    _pending: tuple[Prefix, float] | None = None
    _covering: list[Prefix] = field(default_factory=list)
    _risk: AddressRisk | None = None

    def __post_init__(self) -> None:
        bits = self.address.max_prefixlen
        value = int(self.address)
        self._covering = [
            intern_prefix(ipaddress.ip_network((value >> (bits - n) << (bits - n) if n else 0, n)))
            for n in range(bits, -1, -1)
        ]

    def covering_in(self, table: RouteTable) -> list[Prefix]:
        """Prefixes with routes that cover the address, most specific first."""
        return [p for p in self._covering if p in table]

    @staticmethod
    def longest_matches(covering: list[Prefix], table: RouteTable) -> dict[int, Prefix]:
        """Peer index -> its longest matching unicast prefix for the address."""
        lpm: dict[int, Prefix] = {}
        for prefix in covering:
            for peer in table.unicast_paths_by_peer(prefix):
                lpm.setdefault(peer, prefix)
        return lpm

    def learn_service(self, lpm: dict[int, Prefix], table: RouteTable, min_peers: int, now: float,
                      min_hold: float) -> Prefix | None:
        """With nothing designated, the LPM most peers use, once stable for ``min_hold``, serves the address.

        Only a more specific prefix from the same origin may join later: a
        fall-back to an aggregate, or a hijacker's more-specific, never does.
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
            self._pending = (candidate, now)
            return None
        if now - self._pending[1] < min_hold:
            return None
        self.service.add(candidate)
        self.origins = origin
        self._pending = None
        return candidate

    def update(self, lpm: dict[int, Prefix], members: set[int], stale: Callable[[int], bool]) -> None:
        counted = [p for p in members if not stale(p)]
        at_risk = [p for p in counted if lpm.get(p) not in self.service]
        matches = Counter(str(lpm[p]) if p in lpm else "none" for p in counted)
        common = Counter(lpm[p] for p in counted if p in lpm).most_common(1)
        self._risk = AddressRisk(
            address=self.address,
            service_prefixes=tuple(sorted(self.service, key=lambda p: (p.prefixlen, p))),
            baseline_peers=len(counted),
            peers_at_risk=len(at_risk),
            peers_on_service=len(counted) - len(at_risk),
            common_match=common[0][0] if common else None,
            matches=dict(matches),
        )

    def risk(self) -> AddressRisk:
        return self._risk or AddressRisk(self.address, tuple(sorted(self.service, key=lambda p: (p.prefixlen, p))),
                                         0, 0, 0, None, {})


class TableRoutes:
    """Route lookup for one-off checks over archives: each address's most common longest match.

    The daemon reads the core's snapshot instead (another thread serves it);
    a one-off check owns its route table, so it asks the table directly and
    needs no learned service prefixes or baseline.
    """

    def __init__(self, table: RouteTable, trackers: dict[Address, AddressTracker]) -> None:
        self._table = table
        self._trackers = trackers

    def route_for(self, address: str) -> RouteView | None:
        tracker = self._trackers.get(ipaddress.ip_address(address))
        if tracker is None:
            return None
        lpm = tracker.longest_matches(tracker.covering_in(self._table), self._table)
        if not lpm:
            return None
        prefix, peers = Counter(lpm.values()).most_common(1)[0]
        origins = self._table.origin_counts(prefix)
        origin = origins.most_common(1)[0][0] if origins else None
        return RouteView(prefix, visible=peers > 0, origin=origin, peers=peers)
