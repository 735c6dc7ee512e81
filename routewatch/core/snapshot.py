"""Frozen views of the core's state, for exporters and the CLI.

The daemon swaps a new snapshot in atomically after each batch of events; the
Prometheus collector (running in the HTTP server's thread) and the CLI only
ever read one, so they never see half-applied state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from routewatch.core.detection import Detection
from routewatch.core.dns_risk import AddressRisk
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.visibility import PrefixState
from routewatch.model import Address, Prefix
from routewatch.rpki.validation import RpkiState


@dataclass(frozen=True, slots=True)
class PrefixStatus:
    prefix: Prefix
    description: str
    group: str
    source: str
    exported: bool
    origins: tuple[int, ...]
    state: PrefixState
    visible_peers: int
    visible_peer_asns: int
    baseline_peers: int
    ratio: float | None
    thresholds: WithdrawalThresholds
    # what the detectors add (see Detector.status): a detector left out of the registry leaves its default
    unexpected_origin_peers: int = 0
    more_specific_peers: int = 0
    unexpected_neighbor_peers: int | None = None  # None: no neighbour policy applies (not exported)
    path_rule_peers: int | None = None  # None: no path rule applies (not exported)
    unlisted_peers: int | None = None  # None: not a prefix found for a watched AS that alerts on new ones
    visible_peers_by_upstream: tuple[tuple[int, int], ...] = ()  # (declared upstream, peers through it)
    withdrawn_since: float | None = None
    more_specifics_refused: int = 0  # announcements of more-specifics beyond the cap (``core/more_specifics.py``)
    rpki_state: RpkiState | None = None  # None: no VRP source configured (not exported)
    rpki_invalid_peers: int | None = None  # None: no VRP set yet (not exported)
    rpki_expires: float | None = None  # the earliest expiry of the VRPs keeping it valid, where known
    rpki_roa_invalidations: int = 0  # VRP changes that made routes seen at or under it invalid (a counter)

    @property
    def withdrawn(self) -> bool:
        return self.state is PrefixState.WITHDRAWN


@dataclass(frozen=True)
class CoreSnapshot:
    time: float
    prefixes: tuple[PrefixStatus, ...] = ()
    addresses: dict[Address, AddressRisk] = field(default_factory=dict)
    open_detections: tuple[Detection, ...] = ()
    stale_collectors: frozenset[str] = frozenset()
    known_collectors: frozenset[str] = frozenset()
    tracked_routes: int = 0
    asn_over_cap: dict[int, int] = field(default_factory=dict)
    updates: dict[str, int] = field(default_factory=dict)

    @cached_property
    def _by_prefix(self) -> dict[Prefix, PrefixStatus]:
        return {status.prefix: status for status in self.prefixes}

    def status(self, prefix: Prefix) -> PrefixStatus | None:
        """The status of one watched prefix (an index built on first use: no slots, for the cache)."""
        return self._by_prefix.get(prefix)
