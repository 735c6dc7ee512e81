"""One file's data time in a replay: monotonic, and not dragged by one record stamped far ahead.

Archive timestamps come from collector and router clocks, and one of them will
be wrong some day: a record stamped in 2106 in the middle of a five-minute
update file. Taken at its word it would move the replay's clock a century
ahead (every hold-down expires at once) and, since files are merged in time
order, hold back the rest of its file until every other file was read. So a
record more than ``gap`` seconds ahead of its file's clock is held until the
next record says what it was: if the data comes back to the file's clock, the
held record was an outlier and is judged at that clock (and counted, for the
summary); if the data stays up there, the file really jumped (a collector
back after an outage) and the held records go through as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from routewatch.model import Event

OUTLIER_GAP = 300.0
"""Seconds ahead of its file's clock beyond which a record is suspected of a wrong timestamp.

A record in the wrong order but within this of its neighbours moves the clock by at most this much.
"""
LONE_GAP = 86_400.0
"""A record this far ahead with nothing after it is an outlier, not the end of a quiet file."""
MAX_HELD = 100_000
"""Suspect items held at most; beyond it the jump is taken as real (bounded memory)."""

Item = Event | float
"""An event, or the bare data time of a record that gave no event."""


def item_time(item: Item) -> float:
    return item if isinstance(item, float) else item.time


def without_outliers(items: Iterable[Item], outliers: list[int], gap: float = OUTLIER_GAP) -> Iterator[Item]:
    """``items`` with every outlier re-timed to the file's clock; ``outliers[0]`` counts them (records)."""
    clock = FileClock(gap)
    for item in items:
        yield from clock.push(item)
    yield from clock.end()
    outliers[0] += clock.outliers


class FileClock:
    """The clock of one file, fed item by item; hands back items once it knows how to time them.

    Events of one record share its time, so a jump is confirmed only by an
    item with another time than the held ones (another record) that is not
    far behind them. An item far behind the clock says nothing about held
    ones: it goes through (the core judges it at its own, later, data time).
    The first record may be the outlier itself: the next two records tell.
    """

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.clock: float | None = None
        self.held: list[Item] = []
        self.start: list[Item] = []
        self.start_times: set[float] = set()
        self.outliers = 0

    def push(self, item: Item) -> list[Item]:
        if self.clock is None:
            self.start.append(item)
            self.start_times.add(item_time(item))
            if len(self.start_times) < 3 and len(self.start) < MAX_HELD:
                return []
            return self._begin()
        return self._next(item)

    def end(self) -> list[Item]:
        out = self._begin() if self.clock is None and self.start else []
        held, self.held = self.held, []
        if held and self.clock is not None and item_time(held[0]) > self.clock + LONE_GAP:
            self.outliers += len({item_time(h) for h in held})
            held = [_at(h, self.clock) for h in held]
        return out + held

    def _begin(self) -> list[Item]:
        """Set the clock from the first records: the first is an outlier when those after it are far behind."""
        start, self.start = self.start, []
        times = sorted(self.start_times)
        first = item_time(start[0])
        later = [t for t in times if t != first]
        out: list[Item] = []
        if len(later) >= 2 and all(t < first - self.gap for t in later[:2]):
            self.outliers += 1
            self.clock = later[0]
            start = [_at(i, later[0]) if item_time(i) == first else i for i in start]
        else:
            self.clock = first
            out.append(start.pop(0))
        for item in start:
            out.extend(self._next(item))
        return out

    def _next(self, item: Item) -> list[Item]:
        clock = self.clock
        assert clock is not None
        t = item_time(item)
        if t < clock - self.gap:
            return [item]  # far behind: it cannot drag the clock, and tells nothing about held records
        out: list[Item] = []
        if self.held:
            first = item_time(self.held[0])
            if t <= clock + self.gap or t < first - self.gap:  # the data stays behind the held records
                self.outliers += len({item_time(h) for h in self.held})
                out.extend(_at(h, clock) for h in self.held)
                self.held.clear()
            elif t != first or len(self.held) >= MAX_HELD:
                clock = self.clock = max(clock, first)
                out.extend(self.held)
                self.held.clear()
        if t > clock + self.gap:
            self.held.append(item)
            return out
        self.clock = max(clock, t)
        out.append(item)
        return out


def _at(item: Item, time: float) -> Item:
    """The item judged at ``time`` instead of its own."""
    if isinstance(item, float):
        return float(time)
    return dataclasses.replace(item, time=float(time))
