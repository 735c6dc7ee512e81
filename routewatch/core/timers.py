"""Data-time timers of the core: hold-down ends and settle times on a heap, and the baseline sweep.

Nothing in the core reads a clock: a timer fires when data time (an event's
timestamp, or the daemon's ``advance``) passes it. Baselines also change with
time alone (a young holder matures, a past holder expires); rather than a
timer per peer, the prefixes where that is pending are kept and swept every
``sweep_interval`` of data time.

A timer scheduled under a key replaces the one scheduled before under the
same key (an expiry warning moved by a new VRP set). A heap cannot remove
from its middle, so the replaced entry stays, marked stale: it is dropped
when it comes to the top, and the heap is rebuilt without the stale entries
whenever they outnumber the live ones, so the heap holds at most about twice
the live timers however often they move.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Mapping

from routewatch.core.visibility import VisibilityTracker
from routewatch.model import Prefix


class Timers:
    """A heap of (due, sequence, prefix or None for "everything", key or None) and the set of prefixes to sweep."""

    def __init__(self, sweep_interval: float) -> None:
        self.sweep_interval = sweep_interval
        self._heap: list[tuple[float, int, Prefix | None, Hashable | None]] = []
        self._seq = 0
        self._keyed: dict[Hashable, int] = {}  # key -> sequence of its live entry
        self._stale = 0  # entries in the heap replaced under their key
        self._next_sweep = 0.0
        self.waiting: set[Prefix] = set()  # prefixes whose baseline time alone will change

    def __len__(self) -> int:
        """Entries in the heap, stale ones included (what it costs, not what will fire)."""
        return len(self._heap)

    def schedule(self, due: float, prefix: Prefix | None, key: Hashable | None = None) -> None:
        """Fire ``prefix`` (None: everything) at data time ``due``, instead of what was scheduled under ``key``."""
        self._seq += 1
        if key is not None:
            if key in self._keyed:
                self._stale += 1
            self._keyed[key] = self._seq
        heapq.heappush(self._heap, (due, self._seq, prefix, key))
        if self._stale > len(self._heap) // 2:
            self._heap = [entry for entry in self._heap if self._live(entry)]
            heapq.heapify(self._heap)
            self._stale = 0

    def next_due(self) -> float:
        """When the next timer or sweep is due (the engine asks on every tick: one call, then nothing to do)."""
        return min(self._heap[0][0], self._next_sweep) if self._heap else self._next_sweep

    def pop_due(self, now: float) -> tuple[float, Prefix | None] | None:
        """The earliest live timer due by ``now`` (removed), or None; stale ones on the way are dropped."""
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            due, _, prefix, key = entry
            if not self._live(entry):
                self._stale -= 1
                continue
            if key is not None:
                del self._keyed[key]
            return due, prefix
        return None

    def _live(self, entry: tuple[float, int, Prefix | None, Hashable | None]) -> bool:
        """Not replaced by a later timer under its key."""
        key = entry[3]
        return key is None or self._keyed.get(key) == entry[1]

    def sweep_due(self, now: float) -> bool:
        """Is a sweep due at ``now``? If so the next one is ``sweep_interval`` later."""
        if now < self._next_sweep:
            return False
        self._next_sweep = now + self.sweep_interval
        return True

    def swept(self, visibility: Mapping[Prefix, VisibilityTracker], now: float) -> list[Prefix]:
        """The waiting prefixes whose baseline time alone has changed by ``now``; those no longer waiting leave."""
        due: list[Prefix] = []
        for prefix in list(self.waiting):
            tracker = visibility[prefix]
            if not tracker.waiting():
                self.waiting.discard(prefix)
            elif tracker.due(now):
                due.append(prefix)
        return due
