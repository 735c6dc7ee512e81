"""Each watched prefix's status, rebuilt only where something changed since the last snapshot.

The daemon takes a snapshot every second: only the statuses of prefixes
judged since the last one are rebuilt (all of them when the feed's trust or
the bootstrap changed), so a quiet minute with 10,000 watched prefixes costs
almost nothing. An equal status keeps its object, so the exporter keeps its
formatted lines while it lives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from routewatch.core.detectors.base import Detector
from routewatch.core.detectors.view import CoreView
from routewatch.core.snapshot import PrefixStatus
from routewatch.core.visibility import VisibilityTracker
from routewatch.model import Prefix, prefix_key

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
