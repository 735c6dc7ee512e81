"""Data-time timers of the core: hold-down ends and settle times on a heap, and the baseline sweep.

Nothing in the core reads a clock: a timer fires when data time (an event's
timestamp, or the daemon's ``advance``) passes it. Baselines also change with
time alone (a young holder matures, a past holder expires); rather than a
timer per peer, the prefixes where that is pending are kept and swept every
``sweep_interval`` of data time.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from routewatch.core.visibility import VisibilityTracker
from routewatch.model import Prefix


class Timers:
    """A heap of (due, sequence, prefix or None for "everything") and the set of prefixes to sweep."""

    def __init__(self, sweep_interval: float) -> None:
        self.sweep_interval = sweep_interval
        self._heap: list[tuple[float, int, Prefix | None]] = []
        self._seq = 0
        self._next_sweep = 0.0
        self.waiting: set[Prefix] = set()  # prefixes whose baseline time alone will change

    def schedule(self, due: float, prefix: Prefix | None) -> None:
        """Fire ``prefix`` (None: everything) at data time ``due``."""
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, prefix))

    def next_due(self) -> float:
        """When the next timer or sweep is due (the engine asks on every tick: one call, then nothing to do)."""
        return min(self._heap[0][0], self._next_sweep) if self._heap else self._next_sweep

    def pop_due(self, now: float) -> tuple[float, Prefix | None] | None:
        """The earliest timer due by ``now`` (removed), or None."""
        if self._heap and self._heap[0][0] <= now:
            due, _, prefix = heapq.heappop(self._heap)
            return due, prefix
        return None

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
