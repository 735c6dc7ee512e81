"""Origin anomalies (hijacks) and unexpected more-specifics under watched prefixes.

Every announced prefix at or under a watched prefix is judged against the
most specific watched prefix covering it:

- an origin outside the expected set is an origin anomaly, exact or
  sub-prefix (an AS_SET origin is unexpected unless all its members are
  expected);
- a more-specific with an expected origin that is not itself watched is an
  unexpected more-specific, unless the watched prefix says
  ``ignore_more_specifics``.

Counts are kept per watched prefix with per-peer reference counts, so a hostile
peer announcing 100,000 more-specifics costs memory proportional to its routes
but creates no new exported series and no quadratic rescans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .detect import ChangeKind, Detection, DetectionChange, DetectionKind, sample_paths
from .model import AsPath, Prefix, origin_asns
from .watch import WatchedPrefix


@dataclass(slots=True)
class _SubPrefix:
    watched: Prefix
    unexpected: frozenset[int] = frozenset()
    more_specific: frozenset[int] = frozenset()
    origin_detection: Detection | None = None
    more_specific_detection: Detection | None = None


@dataclass(slots=True)
class AnomalyTracker:
    """Per-sub-prefix peer sets and per-watched-prefix peer counts."""

    min_peers: int
    _subs: dict[Prefix, _SubPrefix] = field(default_factory=dict)
    _unexpected: dict[Prefix, Counter[int]] = field(default_factory=dict)
    _more_specific: dict[Prefix, Counter[int]] = field(default_factory=dict)

    def unexpected_peers(self, watched: Prefix) -> int:
        return len(self._unexpected.get(watched, ()))

    def more_specific_peers(self, watched: Prefix) -> int:
        return len(self._more_specific.get(watched, ()))

    def open_detections(self) -> list[Detection]:
        found: list[Detection] = []
        for sub in self._subs.values():
            found.extend(d for d in (sub.origin_detection, sub.more_specific_detection) if d is not None)
        return found

    def restore(self, detections: list[Detection]) -> None:
        """Put back open detections from saved state; routes are re-judged afterwards."""
        for d in detections:
            sub = self._subs.setdefault(d.prefix, _SubPrefix(d.watched))
            if d.kind is DetectionKind.ORIGIN:
                sub.origin_detection = d
            else:
                sub.more_specific_detection = d

    def evaluate(
        self,
        prefix: Prefix,
        watched: WatchedPrefix,
        is_watched: bool,
        paths_by_peer: dict[int, list[AsPath]],
        stale: Callable[[int], bool],
        now: float,
    ) -> list[DetectionChange]:
        """Re-judge one announced prefix after its routes changed."""
        sub = self._subs.get(prefix)
        if sub is None:
            if not paths_by_peer:
                return []
            sub = self._subs[prefix] = _SubPrefix(watched.prefix)
        elif sub.watched != watched.prefix:
            self._move(sub, watched.prefix)
        unexpected: dict[int, list[AsPath]] = {}
        expected_more_specific: dict[int, list[AsPath]] = {}
        check_more_specific = not is_watched and not watched.ignore_more_specifics
        for peer, paths in paths_by_peer.items():
            if stale(peer):
                continue
            for path in paths:
                if not watched.origin_expected(origin_asns(path)):
                    unexpected.setdefault(peer, []).append(path)
                elif check_more_specific:
                    expected_more_specific.setdefault(peer, []).append(path)
        self._replace(self._unexpected, watched.prefix, sub.unexpected, unexpected)
        self._replace(self._more_specific, watched.prefix, sub.more_specific, expected_more_specific)
        sub.unexpected = frozenset(unexpected)
        sub.more_specific = frozenset(expected_more_specific)
        changes = [
            *self._transition(sub, prefix, watched, DetectionKind.ORIGIN, unexpected, now),
            *self._transition(sub, prefix, watched, DetectionKind.MORE_SPECIFIC, expected_more_specific, now),
        ]
        if not paths_by_peer and sub.origin_detection is None and sub.more_specific_detection is None:
            del self._subs[prefix]
        return changes

    def _move(self, sub: _SubPrefix, new_watched: Prefix) -> None:
        """A more specific watch appeared above this sub-prefix: move its counts there."""
        self._replace(self._unexpected, sub.watched, sub.unexpected, {})
        self._replace(self._more_specific, sub.watched, sub.more_specific, {})
        sub.unexpected = sub.more_specific = frozenset()
        sub.watched = new_watched

    @staticmethod
    def _replace(counters: dict[Prefix, Counter[int]], watched: Prefix, old: frozenset[int],
                 new: dict[int, list[AsPath]]) -> None:
        counter = counters.setdefault(watched, Counter())
        for peer in old - new.keys():
            counter[peer] -= 1
            if counter[peer] <= 0:
                del counter[peer]
        for peer in new.keys() - old:
            counter[peer] += 1

    def _transition(self, sub: _SubPrefix, prefix: Prefix, watched: WatchedPrefix, kind: DetectionKind,
                    peers: dict[int, list[AsPath]], now: float) -> list[DetectionChange]:
        attr = "origin_detection" if kind is DetectionKind.ORIGIN else "more_specific_detection"
        current: Detection | None = getattr(sub, attr)
        all_paths = [path for paths in peers.values() for path in paths]
        origins = sorted({asn for path in all_paths for asn in origin_asns(path)})
        evidence = {
            "peers": len(peers),
            "origins": origins,
            "expected_origins": sorted(watched.origins),
            "sample_paths": sample_paths(all_paths),
        }
        if current is None and len(peers) >= self.min_peers:
            opened = Detection(kind, prefix, watched.prefix, start=now, description=watched.description,
                               evidence=evidence)
            setattr(sub, attr, opened)
            return [DetectionChange(ChangeKind.OPENED, opened, now)]
        if current is not None and not peers:
            setattr(sub, attr, None)
            closing = {**current.evidence, "peers": 0}
            return [DetectionChange(ChangeKind.CLOSED, current.closed(now, closing), now)]
        return []
