"""The core's side of the DNS<->BGP link: which route each nameserver address depends on.

Each address has an :class:`AddressTracker` (``dns_risk``), judged again
whenever a route covering it changes, a peer's standing changes, or a sweep
passes. Its service prefixes are tracked like watched prefixes (exported
only when the zone asks), and those designated without origins take the
origin most peers see. The engine owns the routes and visibility; this
module only decides what to judge and feeds the trackers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from routewatch.core.dns_risk import AddressTracker
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
    exclusion: Exclusion

    def stale(self, peer: int) -> bool: ...

    def track(self, watched: WatchedPrefix, *, from_table: bool = True) -> None: ...

    def relearn(self, tracker: VisibilityTracker) -> None: ...


class Nameservers:
    """Address trackers by address, and those to judge at the next flush."""

    def __init__(self, owner: _Owner) -> None:
        self._owner = owner
        self.trackers: dict[Address, AddressTracker] = {}
        self._dirty: set[Address] = set()

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

    def touch_under(self, prefix: Prefix) -> None:
        """A route for ``prefix`` changed: judge the addresses it covers again."""
        self._dirty.update(a for a in self.trackers if a.version == prefix.version and a in prefix)

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
        lpm = tracker.longest_matches(tracker.covering_in(table), table)
        if tracker.learning:
            learned = tracker.learn_service(lpm, table, owner.settings.anomaly_min_peers, owner.now,
                                            owner.settings.baseline_min_hold)
            if learned is not None:
                owner.track(owner.watch.add_service_prefix(learned, tracker.origins, tracker.zone, tracker.exported))
        for prefix in tracker.service:
            self._learn_origins(prefix)
        members: set[int] = set()
        for prefix in tracker.service:
            vis = owner.visibility.get(prefix)
            if vis is not None:
                members |= vis.members(owner.now, owner.exclusion)
        tracker.update(lpm, members, owner.stale)

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
