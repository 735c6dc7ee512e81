"""Which prefixes and peers the detectors must judge, and asking them in registry order.

Route changes mark (prefix, peer) pairs as they are applied; at the end of a
data-time tick every marked prefix is judged once by each ``Scope.ROUTES``
detector, with only the peers whose routes changed (or all of them after a
change that affects everyone). ``Scope.VISIBILITY`` detectors are asked per
watched prefix whose counts may have changed.

Only engaged detectors are asked. A detector not engaged holds nothing, so
only two things can engage it: a VRP set and restored detections; the
engine calls :meth:`Judging.reengage` after each, and the engaged lists are
made again when next needed (a detector once engaged stays asked until then,
which costs time, never a detection). The detectors added for RPKI and path
policies cost the core a quarter of its update rate when asked about every
update while unconfigured (bench/RESULTS.md, "The house"); skipped, they cost
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routewatch.core.detection import DetectionChange
from routewatch.core.detectors.base import Detector
from routewatch.core.detectors.view import CoreView, Scope
from routewatch.core.places import PlaceCache
from routewatch.core.status import StatusCache
from routewatch.core.watch import WatchedPrefix
from routewatch.model import Prefix


class Judging:
    """The registered detectors split by scope, and the prefixes (with their changed peers) to judge."""

    def __init__(self, detectors: Mapping[str, Detector]) -> None:
        self.route_judges = [d for d in detectors.values() if d.scope is Scope.ROUTES]
        self.visibility_judges = [d for d in detectors.values() if d.scope is Scope.VISIBILITY]
        self._engaged: tuple[list[Detector], list[Detector]] | None = None  # (routes, visibility), when known
        self._pending: dict[Prefix, set[int] | None] = {}  # None: judge every peer

    def reengage(self) -> None:
        """Something may have engaged a detector (a VRP set, restored detections): ask each again."""
        self._engaged = None

    def _engaged_judges(self, view: CoreView) -> tuple[list[Detector], list[Detector]]:
        if self._engaged is None:
            self._engaged = ([d for d in self.route_judges if d.engaged(view)],
                             [d for d in self.visibility_judges if d.engaged(view)])
        return self._engaged

    def mark(self, prefix: Prefix, peer: int | None) -> None:
        """Judge ``peer`` (None: every peer) at ``prefix`` at the next flush."""
        if peer is None:
            self._pending[prefix] = None
            return
        peers = self._pending.setdefault(prefix, set())
        if peers is not None:
            peers.add(peer)

    def mark_all(self, prefixes: Iterable[Prefix]) -> None:
        for prefix in prefixes:
            self._pending[prefix] = None

    def judge_routes(self, places: PlaceCache, statuses: StatusCache, view: CoreView) -> list[DetectionChange]:
        # The pending map is swapped for a fresh one rather than popped empty: a map that once held
        # every watched prefix keeps its large table, and popping scans it from the start.
        changes: list[DetectionChange] = []
        while self._pending:
            pending, self._pending = self._pending, {}
            judges = self._engaged_judges(view)[0]
            for prefix, peers in pending.items():
                place = places.of(prefix)
                watched = place.watched
                if watched is not None:
                    statuses.touch(watched.prefix)
                    for detector in judges:
                        changes.extend(detector.judge(prefix, watched, place.exact, peers, view))
                    if not place.exact and prefix not in view.table:
                        places.forget(prefix)  # no route left: a flood of withdrawn more-specifics keeps nothing
        return changes

    def judge_visibility(self, watched: WatchedPrefix, view: CoreView) -> list[DetectionChange]:
        changes: list[DetectionChange] = []
        for detector in self._engaged_judges(view)[1]:
            changes.extend(detector.judge(watched.prefix, watched, True, None, view))
        return changes
