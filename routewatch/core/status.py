"""Each watched prefix's status, rebuilt only where something changed since the last snapshot.

The daemon takes a snapshot every second: only the statuses of prefixes
judged since the last one are rebuilt (all of them when the feed's trust or
the bootstrap changed), so a quiet minute with 10,000 watched prefixes costs
almost nothing. An equal status keeps its object, so the exporter keeps its
formatted lines while it lives. :func:`take_snapshot` puts them together
with the rest of the engine's state into the frozen snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from routewatch.core.detection import Detection
from routewatch.core.detectors.base import Detector
from routewatch.core.detectors.view import CoreView
from routewatch.core.dns_risk import AddressTracker
from routewatch.core.sessions import PeerSessions
from routewatch.core.snapshot import CoreSnapshot, PrefixStatus
from routewatch.core.visibility import VisibilityTracker
from routewatch.core.watch import WatchSet
from routewatch.model import Address, Prefix, prefix_key

StatusOf = Callable[[Prefix, VisibilityTracker], PrefixStatus]


class StatusCache:
    """The last status of every watched prefix, in prefix order, and which ones to rebuild."""

    def __init__(self) -> None:
        self._statuses: dict[Prefix, PrefixStatus] = {}
        self._stale: set[Prefix] = set()
        self._order: list[Prefix] | None = None
        self._basis: object = None
        #: ``touch(prefix)``: it was judged, rebuild its status at the next snapshot. The set's own
        #: ``add``, bound once: called for every judged prefix, it saves a Python call each time.
        self.touch = self._stale.add

    def touch_all(self, prefixes: Iterable[Prefix]) -> None:
        self._stale.update(prefixes)

    def reorder(self) -> None:
        """A watched prefix was added: the order is built again at the next snapshot."""
        self._order = None

    def statuses(self, visibility: Mapping[Prefix, VisibilityTracker], basis: object,
                 status_of: StatusOf) -> tuple[PrefixStatus, ...]:
        """Every watched prefix's status, rebuilding the touched ones (all of them when ``basis`` changed)."""
        if basis != self._basis:
            self._basis = basis
            self._stale.update(visibility)
        stale = self._stale.copy()  # copied, not swapped: ``touch`` stays bound to this set
        self._stale.clear()
        for prefix in stale:
            tracker = visibility.get(prefix)
            if tracker is not None:
                status = status_of(prefix, tracker)
                if status != self._statuses.get(prefix):
                    self._statuses[prefix] = status
        if self._order is None or len(self._order) != len(visibility):
            for prefix in visibility.keys() - self._statuses.keys():
                self._statuses[prefix] = status_of(prefix, visibility[prefix])
            self._order = sorted(visibility, key=prefix_key)
        return tuple(self._statuses[p] for p in self._order)


def prefix_status(prefix: Prefix, tracker: VisibilityTracker, unknown: bool, detectors: Iterable[Detector],
                  view: CoreView, *, more_specifics_refused: int = 0) -> PrefixStatus:
    """A watched prefix's status: its visibility counts, plus what each detector adds."""
    counts, _ = tracker.observed(view.now, view.exclusion)
    watched = tracker.watched
    found: dict[str, Any] = {}
    for detector in detectors:
        found.update(detector.status(prefix, view))
    return PrefixStatus(
        prefix=prefix, description=watched.description, group=watched.group, source=watched.source,
        exported=watched.exported, origins=tuple(sorted(watched.origins)), state=tracker.state(counts, unknown),
        visible_peers=counts.visible, visible_peer_asns=counts.visible_asns, baseline_peers=counts.baseline,
        ratio=counts.ratio, thresholds=watched.thresholds, more_specifics_refused=more_specifics_refused, **found,
    )


def unknown_now(tracker: VisibilityTracker, all_stale: bool, bootstrapped: bool) -> bool:
    """No trustworthy collector left, or no snapshot loaded and the prefix never seen: unknown, not zero."""
    return all_stale or (not bootstrapped and not tracker.ever_seen)


class _Snapshotted(CoreView, Protocol):
    """What a snapshot reads from the engine, beyond what a detector may."""

    bootstrapped: bool
    sessions: PeerSessions
    statuses: StatusCache
    watch: WatchSet
    updates: Counter[str]

    @property
    def detectors(self) -> dict[str, Detector]: ...

    @property
    def addresses(self) -> dict[Address, AddressTracker]: ...

    def open_detections(self) -> list[Detection]: ...


def take_snapshot(engine: _Snapshotted) -> CoreSnapshot:
    """A frozen view of the engine's state for exporters and the CLI (statuses rebuilt only where they changed)."""
    all_stale = engine.sessions.all_stale()
    bootstrapped = engine.bootstrapped
    prefixes = engine.statuses.statuses(engine.visibility, (all_stale, bootstrapped), lambda prefix, tracker: (
        prefix_status(prefix, tracker, unknown_now(tracker, all_stale, bootstrapped), engine.detectors.values(),
                      engine, more_specifics_refused=engine.more_specifics.refused[prefix])))
    sessions = engine.sessions
    return CoreSnapshot(
        time=engine.now, prefixes=prefixes, addresses={a: t.risk() for a, t in engine.addresses.items()},
        open_detections=tuple(engine.open_detections()), stale_collectors=frozenset(sessions.stale_collectors),
        known_collectors=frozenset(sessions.known_collectors), tracked_routes=engine.table.route_count(),
        asn_over_cap=dict(engine.watch.asn_over_cap), updates=dict(engine.updates),
    )
