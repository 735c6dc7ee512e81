"""Unexpected neighbours: a forged origin or a new upstream left of the origin, a leak right of a watched AS.

A route whose origin is expected but whose AS left of the origin is not a
declared upstream is what a forged origin looks like (``... AS64666 AS32934``,
ARTEMIS' type-1 hijack) and passes every origin check; an AS right of a
watched AS that is not one of its declared downstreams is a leak through an
undeclared customer, or a new customer. The AS that is new is named in the
evidence. Policies: :mod:`routewatch.core.path_policy`.

Each declared upstream also gets its own visibility (holders whose path
reaches the origin through it), so "everything through AS174 is gone" is one
series; only declared upstreams are counted, so the label set is the config's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.core.detection import DetectionKind, sample_paths
from routewatch.core.detectors.flagged import FlaggingDetector
from routewatch.core.detectors.view import CoreView
from routewatch.core.path_policy import new_neighbours, upstream_of
from routewatch.core.settings import CoreSettings
from routewatch.core.visibility import VisibilityTracker
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix


class NeighborDetector(FlaggingDetector):
    """Flags peers whose path has an AS where the declared upstreams or downstreams allow none such."""

    kind: ClassVar[DetectionKind] = DetectionKind.NEIGHBOR

    def __init__(self, settings: CoreSettings) -> None:
        super().__init__(settings)
        self.policies = settings.paths
        self.by_asn = settings.paths.neighbours()
        self.configured = bool(self.by_asn) or any(
            p.upstreams is not None for p in self.policies.by_prefix.values())

    def applies(self, watched: WatchedPrefix, exact: bool) -> bool:
        if not self.policies:
            return False
        policy = self.policies.for_watched(watched)
        return bool(self.by_asn) or (policy is not None and policy.upstreams is not None)

    def _new(self, watched: WatchedPrefix, path: AsPath) -> set[int]:
        return new_neighbours(self.policies.for_watched(watched), watched, path, self.by_asn)

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        return bool(self._new(watched, path))

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        return any(self._new(watched, path) for path in paths)

    def evidence(self, watched: WatchedPrefix, suspect: list[AsPath]) -> dict[str, object]:
        policy = self.policies.for_watched(watched)
        return {
            "neighbors": sorted({asn for path in suspect for asn in self._new(watched, path)}),
            "declared_upstreams": sorted(policy.upstreams) if policy and policy.upstreams is not None else None,
            "expected_origins": sorted(watched.origins),
            "sample_paths": sample_paths(suspect),
        }

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        tracker = view.visibility.get(watched)
        if tracker is None or not self.applies(tracker.watched, True):
            return {}
        found: dict[str, Any] = {"unexpected_neighbor_peers": self.peers(watched)}
        policy = self.policies.for_watched(tracker.watched)
        if policy is not None and policy.upstreams is not None:
            found["visible_peers_by_upstream"] = tuple(self._by_upstream(tracker, policy.upstreams, view).items())
        return found

    @staticmethod
    def _by_upstream(tracker: VisibilityTracker, upstreams: frozenset[int], view: CoreView) -> dict[int, int]:
        """Peers holding the prefix through each declared upstream (prepending collapsed)."""
        counts = dict.fromkeys(sorted(upstreams), 0)
        watched, table, stale = tracker.watched, view.table, view.stale
        for peer in tracker.holders:
            if stale(peer, watched):
                continue
            through = {upstream_of(p) for p in table.peer_unicast_paths(watched.prefix, peer)
                       if watched.path_expected(p)}
            for upstream in through:
                if upstream in counts:
                    counts[upstream] += 1
        return counts
