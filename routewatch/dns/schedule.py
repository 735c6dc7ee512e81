"""When each piece of DNS work falls due: a heap, so each step costs only what is due.

Scanning every target on every wake-up is quadratic in practice (2,000 targets
at 10 s means 200 wake-ups a second); popping due entries off a heap is not.
Entries are never removed early: an entry whose target was dropped, or that a
newer entry superseded, is recognised as stale when it is popped and skipped.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from enum import StrEnum

from routewatch.dns.targets import Target, Transport


class Work(StrEnum):
    DISCOVER = "discover"
    RESOLVE = "resolve"
    PROBE = "probe"


@dataclass(frozen=True, slots=True, order=True)
class Due:
    """One piece of work for ``zone`` at ``time`` (a probe also names its check, target and transport)."""

    time: float
    seq: int
    work: Work = field(compare=False)
    zone: str = field(compare=False)
    target: Target | None = field(default=None, compare=False)
    transport: Transport | None = field(default=None, compare=False)
    check: str | None = field(default=None, compare=False)


class Agenda:
    """A min-heap of :class:`Due` entries ordered by time, then by insertion."""

    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._seq = itertools.count()

    def add(
        self,
        time: float,
        work: Work,
        zone: str,
        target: Target | None = None,
        transport: Transport | None = None,
        check: str | None = None,
    ) -> Due:
        entry = Due(time, next(self._seq), work, zone, target, transport, check)
        heapq.heappush(self._heap, entry)
        return entry

    def pop_due(self, now: float) -> list[Due]:
        """Every entry due at or before ``now``, earliest first."""
        due = []
        while self._heap and self._heap[0].time <= now:
            due.append(heapq.heappop(self._heap))
        return due

    def next_time(self) -> float | None:
        return self._heap[0].time if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
