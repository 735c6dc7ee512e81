"""The core's side of the DNS<->BGP link: which route each nameserver address depends on.

Each address has an :class:`AddressTracker` (``dns_risk``), judged again
whenever a route covering it changes, a peer's standing changes, or a sweep
passes. Its service prefixes (designated, else taken from the baselines
as they stand, the past holders of untracked more-specifics included, else
learned) are tracked like watched prefixes (exported
only when the zone asks), and those designated without origins take the
origin most peers see; :func:`~routewatch.core.dns_risk.assess` judges it.
The engine owns the routes and visibility; this module only decides what to
judge and feeds the trackers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from routewatch.core.dns_risk import AddressTracker, assess, longest_matches, service_from_baselines
from routewatch.core.past_holders import PastHolders
from routewatch.core.settings import CoreSettings
from routewatch.core.table import RouteTable
from routewatch.core.visibility import Exclusion, VisibilityTracker
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import Address, Prefix


class _Owner(Protocol):
    """What the nameserver side reads from the engine, and the two things it asks of it."""

    now: float
    settings: CoreSettings
    table: RouteTable
    watch: WatchSet
    visibility: dict[Prefix, VisibilityTracker]
    past: PastHolders
    exclusion: Exclusion

    def stale(self, peer: int) -> bool: ...

    def track(self, watched: WatchedPrefix, *, from_table: bool = True) -> None: ...

    def relearn(self, tracker: VisibilityTracker) -> None: ...

    def schedule(self, due: float, prefix: Prefix | None) -> None: ...


class Nameservers:
    """Address trackers by address, and those to judge at the next flush."""

    def __init__(self, owner: _Owner) -> None:
        self._owner = owner
        self.trackers: dict[Address, AddressTracker] = {}
        self._dirty: set[Address] = set()
        self._wake: dict[Address, float] = {}  # the data time each address waiting to learn is judged again

    def add(self, address: Address, service_prefixes: Iterable[Prefix], zone: str, exported: bool) -> None:
        """Follow the routes under a nameserver address (found by DNS discovery or configured)."""
        owner = self._owner
        owner.watch.add_address(address)
        tracker = self.trackers.get(address)
        if tracker is None:
            tracker = self.trackers[address] = AddressTracker(address, zone, exported)
        for prefix in service_prefixes:
            tracker.service.add(prefix)
            tracker.learning = False
            owner.track(owner.watch.add_service_prefix(prefix, frozenset(), zone, exported))
        self._dirty.add(address)

    def touch_under(self, prefix: Prefix, established: bool = False) -> None:
        """A route for ``prefix`` changed (from a snapshot when ``established``): judge the addresses it covers."""
        for address, tracker in self.trackers.items():
            if address.version == prefix.version and address in prefix:
                self._dirty.add(address)
                tracker.from_snapshot = established

    def touch_all(self) -> None:
        self._dirty.update(self.trackers)

    def flush(self) -> None:
        while self._dirty:
            addresses, self._dirty = self._dirty, set()
            for address in addresses:
                self._evaluate(address)

    def _evaluate(self, address: Address) -> None:
        owner = self._owner
        tracker, table = self.trackers[address], owner.table
        lpm = longest_matches(tracker.covering_in(table), table)
        if tracker.learning:
            self._find_service(tracker, lpm)
        for prefix in tracker.service:
            self._learn_origins(prefix)
        members: set[int] = set()
        thresholds = owner.watch.default_thresholds
        for prefix in sorted(tracker.service, key=lambda p: p.prefixlen):
            vis = owner.visibility.get(prefix)
            if vis is not None:
                members |= vis.observed(owner.now, owner.exclusion)[1]
                thresholds = vis.thresholds  # the most specific service prefix's
        counted = [p for p in members if not owner.stale(p)]
        tracker.update(assess(address, table, lpm, tracker.service, counted, thresholds))

    def _find_service(self, tracker: AddressTracker, lpm: dict[int, Prefix]) -> None:
        """Service prefixes from the baselines as they stand, else learned from a stable longest match.

        The baselines are those of the tracked prefixes covering the address
        and of the untracked more-specifics held under a watched prefix (their
        past holders): an address registered after its service prefix was
        withdrawn still finds it, with the peers that lost it.
        """
        owner = self._owner
        if not tracker.service:
            common = Counter(lpm.values()).most_common(1)
            known = {p: vis for p in tracker.covering
                     if (vis := owner.visibility.get(p) or owner.past.get(p)) is not None}

            def baseline(prefix: Prefix) -> int:
                if prefix in owner.visibility:
                    return len(owner.visibility[prefix].observed(owner.now, owner.exclusion)[1])
                return len(owner.past.members(prefix, owner.now, owner.exclusion))

            def deaggregated(found: Prefix) -> bool:
                more = common[0][0] if common else None
                return (more is not None and more.prefixlen > found.prefixlen
                        and bool(owner.table.origin_counts(more).keys() & known[found].watched.origins))

            adopted = service_from_baselines(((p, baseline(p)) for p in known), owner.settings.anomaly_min_peers,
                                             deaggregated)
            if adopted is not None:
                origins = known[adopted].watched.origins
                if adopted not in owner.visibility:  # a more-specific remembered by its past holders
                    owner.track(owner.watch.add_service_prefix(adopted, origins, tracker.zone, tracker.exported))
                tracker.adopt(adopted, origins)
                return
        learned = tracker.learn_service(lpm, owner.table, owner.settings.anomaly_min_peers, owner.now,
                                        owner.settings.baseline_min_hold)
        if learned is not None:
            owner.track(owner.watch.add_service_prefix(learned, tracker.origins, tracker.zone, tracker.exported))
        self._wake_when_stable(tracker)

    def _wake_when_stable(self, tracker: AddressTracker) -> None:
        """Judge the address again when its waiting longest match is stable, even if no route changes by then."""
        due = tracker.learned_at(self._owner.settings.baseline_min_hold)
        if due is None:
            self._wake.pop(tracker.address, None)
        elif self._wake.get(tracker.address) != due:
            self._wake[tracker.address] = due
            self._owner.schedule(due, None)

    def _learn_origins(self, prefix: Prefix) -> None:
        """A service prefix designated without origins takes the origin most peers see."""
        owner = self._owner
        vis = owner.visibility.get(prefix)
        if vis is None or vis.watched.origins:
            return
        origins = owner.table.origin_counts(prefix)
        if origins:
            vis.watched = replace(vis.watched, origins=frozenset((origins.most_common(1)[0][0],)))
            owner.watch.add(vis.watched)
            owner.relearn(vis)
