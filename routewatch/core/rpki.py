"""The VRP set the core validates against, and which watched prefixes each change of it touched.

The core takes VRP sets as values (``Engine.set_vrps``): the daemon hands it
the merged set of its sources on every change, replay the set loaded at
start. Before the first set every route's RPKI state is ``unknown``, never
invalid. A change is compared by VRP identity (prefix, max length, AS): a
renewed ROA whose ``expires`` moved is not a ROA change, only a new expiry.

Routes are validated on every update at or under a watched prefix, so
outcomes are cached per (prefix, origin) until the next set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pytricia

from routewatch.core.watch import WatchSet
from routewatch.model import AsPath, Prefix
from routewatch.rpki.validation import UNKNOWN_OUTCOME, RpkiOutcome, RpkiState, VrpIndex, path_origin
from routewatch.rpki.vrp import Vrp, packed_asn, packed_max_length

#: Most cached outcomes; past it the cache starts again (a hostile feed cannot grow it).
_CACHE_LIMIT = 1 << 18


@dataclass(frozen=True, slots=True)
class VrpDelta:
    """The VRPs at, above or under one watched prefix that a new set added or removed (by identity)."""

    added: tuple[Vrp, ...]
    removed: tuple[Vrp, ...]


class VrpTracker:
    """The current VRP index (None before the first set), the previous one, and what the last change touched."""

    def __init__(self) -> None:
        self.index: VrpIndex | None = None
        self.previous: VrpIndex | None = None
        self.generation = 0
        self.touched: dict[Prefix, VrpDelta] = {}
        self._cache: dict[tuple[Prefix, int | None], RpkiOutcome] = {}

    def update(self, vrps: Iterable[Vrp] | VrpIndex, watch: WatchSet) -> None:
        """Take a new set; the first one touches nothing (there is nothing to compare it with)."""
        index = vrps if isinstance(vrps, VrpIndex) else VrpIndex(vrps)
        self.previous, self.index = self.index, index
        self.generation += 1
        self._cache.clear()
        self.touched = {} if self.previous is None else touched_prefixes(self.previous, index, watch)

    def validate(self, prefix: Prefix, path: AsPath) -> RpkiOutcome:
        """The route's outcome against the current set; ``unknown`` before the first one."""
        index = self.index
        if index is None:
            return UNKNOWN_OUTCOME
        key = (prefix, path_origin(path))
        outcome = self._cache.get(key)
        if outcome is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            outcome = self._cache[key] = index.validate(*key)
        return outcome

    def invalid(self, prefix: Prefix, path: AsPath) -> bool:
        return self.validate(prefix, path).state is RpkiState.INVALID

    def watched_state(self, prefix: Prefix, origins: Iterable[int]) -> RpkiOutcome:
        """The watched prefix as its expected origins would announce it: valid if any of them is."""
        index = self.index
        if index is None:
            return UNKNOWN_OUTCOME
        outcomes = [index.validate(prefix, origin) for origin in sorted(origins)] or [index.validate(prefix, None)]
        order = (RpkiState.VALID, RpkiState.INVALID, RpkiState.NOT_FOUND)
        return min(outcomes, key=lambda outcome: order.index(outcome.state))

    def expires(self, prefix: Prefix, origins: Iterable[int]) -> tuple[float | None, tuple[Vrp, ...]]:
        """The earliest ``expires`` of the VRPs keeping ``prefix`` valid for an expected origin, and those VRPs."""
        if self.index is None:
            return None, ()
        wanted, length = frozenset(origins), prefix.prefixlen
        keeping = tuple(map(Vrp.unpack, (packed for packed in self.index.packed_covering(prefix)
                                         if packed_asn(packed) in wanted and length <= packed_max_length(packed))))
        dated = [vrp.expires for vrp in keeping if vrp.expires is not None]
        return (min(dated) if dated else None), keeping


def touched_prefixes(before: VrpIndex, after: VrpIndex, watch: WatchSet) -> dict[Prefix, VrpDelta]:
    """Each watched prefix with a VRP added or removed at, above or under it (the diff is small: a lookup each)."""
    gone, new = before.vrps - after.vrps, after.vrps - before.vrps
    gone_ids, new_ids = {v.identity for v in gone}, {v.identity for v in new}
    removed = [v for v in gone if v.identity not in new_ids]
    added = [v for v in new if v.identity not in gone_ids]
    if not removed and not added:
        return {}
    changed = {4: pytricia.PyTricia(32), 6: pytricia.PyTricia(128)}
    for vrp in (*added, *removed):
        trie = changed[vrp.prefix.version]
        if not trie.has_key(vrp.prefix):
            trie[vrp.prefix] = []
        trie[vrp.prefix].append(vrp)
    found: dict[Prefix, list[Vrp]] = {}
    for vrp in (*added, *removed):  # under a watched prefix: the most specific one covering it
        watched = watch.covering_prefix(vrp.prefix)
        if watched is not None:
            found.setdefault(watched.prefix, []).append(vrp)
    for watched in watch:  # at or above a watched prefix
        trie = changed[watched.prefix.version]
        key = trie.get_key(watched.prefix)
        while key is not None:
            found.setdefault(watched.prefix, []).extend(trie[key])
            key = trie.parent(key)
    added_set = set(added)
    return {prefix: VrpDelta(tuple(sorted({v for v in vrps if v in added_set}, key=str)),
                             tuple(sorted({v for v in vrps if v not in added_set}, key=str)))
            for prefix, vrps in found.items()}
