"""Origin anomalies (hijacks) and unexpected more-specifics under watched prefixes.

Every announced prefix at or under a watched prefix is judged against the
most specific watched prefix covering it:

- an origin outside the expected set is an origin anomaly, exact or
  sub-prefix (an AS_SET origin is unexpected unless all its members are
  expected);
- a more-specific with an expected origin that is not itself watched is an
  unexpected more-specific, unless the watched prefix says
  ``ignore_more_specifics``.

Peers are judged one at a time as their routes change, and counted per watched
prefix with per-peer reference counts, so an update costs a few lookups however
many peers carry the prefix, and a hostile peer announcing 100,000
more-specifics costs memory proportional to its routes but creates no new
exported series and no quadratic rescans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from routewatch.core.detection import ChangeKind, Detection, DetectionChange, DetectionKind, sample_paths
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix, origin_asns

PathsByPeer = dict[int, list[AsPath]]


@dataclass(slots=True)
class _SubPrefix:
    watched: Prefix
    unexpected: set[int] = field(default_factory=set)
    more_specific: set[int] = field(default_factory=set)
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
        paths_by_peer: Callable[[], PathsByPeer],
        stale: Callable[[int], bool],
        now: float,
        peers: Iterable[int] | None = None,
        paths_of: Callable[[int], list[AsPath]] | None = None,
    ) -> list[DetectionChange]:
        """Re-judge an announced prefix after routes changed: only ``peers``' (with ``paths_of``), or all."""
        sub = self._subs.get(prefix)
        if sub is not None and sub.watched != watched.prefix:
            self._move(sub, watched.prefix)
            peers = None  # a different watched prefix judges differently: everyone again
        if peers is None or paths_of is None:
            everyone = paths_by_peer()
            judged: Iterable[int] = set(everyone) | (sub.unexpected | sub.more_specific if sub else set())
            paths_of = lambda peer: everyone.get(peer, [])  # noqa: E731
        else:
            judged = peers
        check_more_specific = not is_watched and not watched.ignore_more_specifics
        verdicts = []
        for peer in judged:
            paths = () if stale(peer) else paths_of(peer)
            expected = [watched.path_expected(path) for path in paths]
            verdicts.append((peer, not all(expected), check_more_specific and any(expected)))
        if sub is None:
            if not any(u or m for _, u, m in verdicts):
                return []  # the common case: nothing unusual here, nothing to keep
            sub = self._subs[prefix] = _SubPrefix(watched.prefix)
        unexpected = self._counter(self._unexpected, watched.prefix)
        more_specific = self._counter(self._more_specific, watched.prefix)
        for peer, is_unexpected, is_more_specific in verdicts:
            _mark(sub.unexpected, unexpected, peer, is_unexpected)
            _mark(sub.more_specific, more_specific, peer, is_more_specific)
        changes = [
            *self._transition(sub, prefix, watched, DetectionKind.ORIGIN, sub.unexpected, paths_by_peer, now),
            *self._transition(sub, prefix, watched, DetectionKind.MORE_SPECIFIC, sub.more_specific,
                              paths_by_peer, now),
        ]
        if (not sub.unexpected and not sub.more_specific and sub.origin_detection is None
                and sub.more_specific_detection is None):
            del self._subs[prefix]
        return changes

    @staticmethod
    def _counter(counters: dict[Prefix, Counter[int]], watched: Prefix) -> Counter[int]:
        counter = counters.get(watched)
        if counter is None:
            counter = counters[watched] = Counter()
        return counter

    def _move(self, sub: _SubPrefix, new_watched: Prefix) -> None:
        """A more specific watch appeared above this sub-prefix: its counts move there."""
        for peers, counters in ((sub.unexpected, self._unexpected), (sub.more_specific, self._more_specific)):
            counter = self._counter(counters, sub.watched)
            for peer in list(peers):
                _mark(peers, counter, peer, False)
        sub.watched = new_watched

    def _transition(self, sub: _SubPrefix, prefix: Prefix, watched: WatchedPrefix, kind: DetectionKind,
                    peers: set[int], paths_by_peer: Callable[[], PathsByPeer], now: float) -> list[DetectionChange]:
        attr = "origin_detection" if kind is DetectionKind.ORIGIN else "more_specific_detection"
        current: Detection | None = getattr(sub, attr)
        if current is None and len(peers) >= self.min_peers:
            everyone = paths_by_peer()
            paths = [path for peer in peers for path in everyone.get(peer, [])
                     if watched.path_expected(path) == (kind is DetectionKind.MORE_SPECIFIC)]
            evidence = {
                "peers": len(peers),
                "origins": sorted({asn for path in paths for asn in origin_asns(path)}),
                "expected_origins": sorted(watched.origins),
                "sample_paths": sample_paths(paths),
            }
            opened = Detection(kind, prefix, watched.prefix, start=now, description=watched.description,
                               evidence=evidence)
            setattr(sub, attr, opened)
            return [DetectionChange(ChangeKind.OPENED, opened, now)]
        if current is not None and not peers:
            setattr(sub, attr, None)
            closing = {**current.evidence, "peers": 0}
            return [DetectionChange(ChangeKind.CLOSED, current.closed(now, closing), now)]
        return []


def _mark(members: set[int], counter: Counter[int], peer: int, flagged: bool) -> None:
    """Keep ``peer``'s membership of one sub-prefix's set and its watched prefix's count in step."""
    if flagged and peer not in members:
        members.add(peer)
        counter[peer] += 1
    elif not flagged and peer in members:
        members.discard(peer)
        counter[peer] -= 1
        if counter[peer] <= 0:
            del counter[peer]
