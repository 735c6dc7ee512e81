"""The bookkeeping shared by detectors that flag peers one at a time under a watched prefix.

Origin anomalies and unexpected more-specifics differ only in which of a
peer's paths are suspect; everything else is the same, and lives here once:
every announced prefix at or under a watched prefix is judged against the
most specific watched prefix covering it, peers are judged one at a time as
their routes change, and flagged peers are counted per watched prefix with
per-peer reference counts. An update then costs a few lookups however many
peers carry the prefix, and a hostile peer announcing 100,000 more-specifics
costs memory proportional to its routes but creates no new exported series
and no quadratic rescans.

A detection opens once ``min_peers`` peers are flagged at a prefix and closes
when none is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from routewatch.core.detection import ChangeKind, Detection, DetectionChange, DetectionKind, sample_paths
from routewatch.core.detectors.view import CoreView, Scope
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix, origin_asns


@dataclass(slots=True)
class _Flagged:
    """The flagged peers of one announced prefix, and its open detection."""

    watched: Prefix
    peers: set[int] = field(default_factory=set)
    detection: Detection | None = None


class FlaggingDetector:
    """Per-prefix flagged-peer sets and per-watched-prefix peer counts; subclasses say what is suspect."""

    scope: ClassVar[Scope] = Scope.ROUTES
    kind: ClassVar[DetectionKind]

    def __init__(self, settings: CoreSettings) -> None:
        self.min_peers = settings.anomaly_min_peers
        self._subs: dict[Prefix, _Flagged] = {}
        self._counts: dict[Prefix, Counter[int]] = {}

    # -- what a subclass says -------------------------------------------------------

    def applies(self, watched: WatchedPrefix, exact: bool) -> bool:
        """Can any peer be flagged at a prefix placed so? (False skips the path lookups.)"""
        return True

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        """Is this one path suspect? (Its evidence lists the suspect paths.)"""
        raise NotImplementedError

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        """Is a peer with these unicast paths flagged?"""
        raise NotImplementedError

    def evidence(self, watched: WatchedPrefix, suspect: list[AsPath]) -> dict[str, object]:
        """What an opened detection says, from the suspect paths of the flagged peers."""
        return {
            "origins": sorted({asn for path in suspect for asn in origin_asns(path)}),
            "expected_origins": sorted(watched.origins),
            "sample_paths": sample_paths(suspect),
        }

    def counted(self, flagged: set[int], prefix: Prefix, watched: WatchedPrefix, view: CoreView) -> set[int]:
        """The flagged peers that open and keep a detection (all of them unless a subclass narrows it)."""
        return flagged

    def context(self, prefix: Prefix, suspect: list[AsPath], view: CoreView) -> dict[str, object]:
        """Evidence that needs the announced prefix or the engine (none unless a subclass adds some)."""
        return {}

    # -- the detector ---------------------------------------------------------------

    @property
    def kinds(self) -> frozenset[DetectionKind]:
        return frozenset({self.kind})

    def peers(self, watched: Prefix) -> int:
        """Peers flagged anywhere at or under ``watched``."""
        return len(self._counts.get(watched, ()))

    def open_detections(self, view: CoreView) -> Iterable[Detection]:
        return [sub.detection for sub in self._subs.values() if sub.detection is not None]

    def restore(self, detections: Iterable[Detection]) -> None:
        """Put back open detections from saved state; routes are judged again afterwards."""
        for d in detections:
            if d.kind is self.kind:
                self._subs.setdefault(d.prefix, _Flagged(d.watched)).detection = d

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[DetectionChange]:
        """Judge ``peers`` (None: every peer) at ``prefix`` again after their routes changed."""
        sub = self._subs.get(prefix)
        applies = self.applies(watched, exact)
        if sub is None and not applies:
            return []
        if sub is not None and sub.watched != watched.prefix:
            self._move(sub, watched.prefix)
            peers = None  # a different watched prefix judges differently: everyone again
        stale, flagged = view.stale, self.flagged
        if peers is None:
            everyone = view.table.unicast_paths_by_peer(prefix)
            judged = set(everyone) | (sub.peers if sub else set())
            verdicts = [(peer, applies and not stale(peer) and flagged(watched, everyone.get(peer, [])))
                        for peer in judged]
        else:
            paths_of = view.table.peer_unicast_paths
            verdicts = [(peer, applies and not stale(peer) and flagged(watched, paths_of(prefix, peer)))
                        for peer in peers]
        if sub is None:
            if not any(flag for _, flag in verdicts):
                return []  # the common case: nothing unusual here, nothing to keep
            sub = self._subs[prefix] = _Flagged(watched.prefix)
        counter = self._counter(watched.prefix)
        for peer, flag in verdicts:
            _mark(sub.peers, counter, peer, flag)
        changes = self._transition(sub, prefix, watched, view)
        if not sub.peers and sub.detection is None:
            del self._subs[prefix]
        return changes

    def _counter(self, watched: Prefix) -> Counter[int]:
        counter = self._counts.get(watched)
        if counter is None:
            counter = self._counts[watched] = Counter()
        return counter

    def _move(self, sub: _Flagged, new_watched: Prefix) -> None:
        """A more specific watch appeared above this prefix: its counts move there."""
        counter = self._counter(sub.watched)
        for peer in list(sub.peers):
            _mark(sub.peers, counter, peer, False)
        sub.watched = new_watched

    def _transition(self, sub: _Flagged, prefix: Prefix, watched: WatchedPrefix,
                    view: CoreView) -> list[DetectionChange]:
        now, current = view.now, sub.detection
        counted = self.counted(sub.peers, prefix, watched, view)
        if current is None and len(counted) >= self.min_peers:
            everyone = view.table.unicast_paths_by_peer(prefix)
            paths = [path for peer in counted for path in everyone.get(peer, []) if self.suspect(watched, path)]
            evidence = {"peers": len(counted), **self.evidence(watched, paths), **self.context(prefix, paths, view)}
            sub.detection = Detection(self.kind, prefix, watched.prefix, start=now, description=watched.description,
                                      evidence=evidence)
            return [DetectionChange(ChangeKind.OPENED, sub.detection, now)]
        if current is not None and not counted:
            sub.detection = None
            closing = {**current.evidence, "peers": 0}
            return [DetectionChange(ChangeKind.CLOSED, current.closed(now, closing), now)]
        return []


def _mark(members: set[int], counter: Counter[int], peer: int, flagged: bool) -> None:
    """Keep ``peer``'s membership of one prefix's set and its watched prefix's count in step."""
    if flagged and peer not in members:
        members.add(peer)
        counter[peer] += 1
    elif not flagged and peer in members:
        members.discard(peer)
        counter[peer] -= 1
        if counter[peer] <= 0:
            del counter[peer]
