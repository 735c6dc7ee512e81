"""How many distinct more-specifics of one watched prefix the core keeps routes for: at most a cap.

Every route under a watched prefix is kept, since any of them may be a
hijack; so a hostile peer announcing 400,000 distinct /32s and /128s under
one watched prefix would cost 400,000 table entries, places and flagged-peer
sets. The first ``cap`` distinct more-specifics are tracked; an announcement
of another is refused and counted under the watched prefix (exported), and
whatever detection the tracked ones opened stays open. Once some are
withdrawn, room is made again.

A watched prefix's tracked set is pruned of prefixes the table no longer
holds only when the table has dropped some prefix since the last pruning, so
a flood of new announcements costs one set lookup each, not a scan.
"""

from __future__ import annotations

from collections import Counter

from routewatch.core.places import Place
from routewatch.core.table import RouteTable
from routewatch.model import Prefix

MAX_MORE_SPECIFICS = 1_000
"""Default cap on distinct more-specifics tracked per watched prefix."""


class MoreSpecificCap:
    """Admits more-specifics per watched prefix up to ``cap``; ``refused`` counts announcements beyond it."""

    def __init__(self, cap: int = MAX_MORE_SPECIFICS) -> None:
        self.cap = cap
        self.refused: Counter[Prefix] = Counter()
        self._tracked: dict[Prefix, set[Prefix]] = {}
        self._pruned_at: dict[Prefix, int] = {}

    def admit(self, watched: Prefix, prefix: Prefix, table: RouteTable, routes: int = 1) -> bool:
        """May a route for ``prefix`` (strictly under ``watched``) be kept? If not, ``routes`` are counted."""
        tracked = self._tracked.get(watched)
        if tracked is None:
            tracked = self._tracked[watched] = set()
        if prefix in tracked:
            return True
        if len(tracked) >= self.cap and self._pruned_at.get(watched) != table.dropped_prefixes:
            tracked.intersection_update([p for p in tracked if p in table])
            self._pruned_at[watched] = table.dropped_prefixes
        if len(tracked) >= self.cap:
            self.refused[watched] += routes
            return False
        tracked.add(prefix)
        return True

    def admit_restored(self, place: Place, prefix: Prefix, table: RouteTable, routes: int) -> bool:
        """May a state file's ``routes`` for ``prefix`` be restored? A state saved under a higher cap (or before
        there was one) must not bring back more than the cap, nor leave the cap blind to what it restored.

        Nor routes nothing watches any more (a reload dropped the prefix above them, or the address under
        them): the live core would never have kept them, and no withdrawal reaches them, so they would stay
        in the table and every saved state for good, and count as holders again if the prefix came back.
        """
        watched = place.watched
        if place.covers_address or (watched is not None and place.exact):
            return True
        if watched is None:
            return False
        return self.admit(watched.prefix, prefix, table, routes)

    def tracked(self, watched: Prefix) -> int:
        """More-specifics of ``watched`` counted against the cap (some may have been withdrawn since)."""
        return len(self._tracked.get(watched, ()))
