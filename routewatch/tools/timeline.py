"""One file's data time in a replay: monotonic, and not dragged by one record stamped far ahead.

Archive timestamps come from collector and router clocks, and one of them will
be wrong some day: a record stamped in 2106 in the middle of a five-minute
update file. Taken at its word it would move the replay's clock a century
ahead (every hold-down expires at once) and, since files are merged in time
order, hold back the rest of its file until every other file was read. So a
record more than ``gap`` seconds ahead of its file's clock is held until the
records after it say what it was: if the data comes back to the file's clock
(two records at two other times say so: one record could be wrong itself),
the held record was an outlier and is judged at that clock (and counted, for
the summary); if the data stays up there, the file really jumped (a collector
back after an outage) and the held records go through as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from routewatch.model import Event
from routewatch.sources.clock_guard import ClockGuard
from routewatch.sources.mrt.deferred import DeferredRoute

OUTLIER_GAP = 300.0
"""Seconds ahead of its file's clock beyond which a record is suspected of a wrong timestamp.

A record in the wrong order but within this of its neighbours moves the clock by at most this much.
"""
LONE_GAP = 86_400.0
"""A record this far ahead with nothing after it is an outlier, not the end of a quiet file."""
MAX_HELD = 100_000
"""Suspect items held at most; beyond it the jump is taken as real (bounded memory)."""

Item = Event | DeferredRoute | float
"""An event, a route the replay judges when it gets there, or the bare data time of a record that gave no event."""


def item_time(item: Item) -> float:
    return item if isinstance(item, float) else item.time


def not_ahead_of(items: Iterable[Item], guard: ClockGuard) -> Iterator[Item]:
    """``items`` with those stamped beyond the guard's wall clock (plus its tolerance) judged at it, counted.

    For a live daemon's own archives (a bootstrap): nothing it reads can honestly
    be later than now, and a file whose collector's clock is years ahead, or
    that ends with a jump no later record can call an outlier, must not move
    the core's clock ahead of the live feed's.
    """
    latest = guard.latest
    for item in items:
        t = item_time(item)
        yield item if t <= latest else _at(item, guard.judge(t))


def without_outliers(items: Iterable[Item], outliers: list[int], gap: float = OUTLIER_GAP) -> Iterator[Item]:
    """``items`` with every outlier re-timed to the file's clock; ``outliers[0]`` counts them (records)."""
    clock = FileClock(gap)
    for item in items:
        yield from clock.push(item)
    yield from clock.end()
    outliers[0] += clock.outliers


class FileClock:
    """The clock of one file, fed item by item; hands back items once it knows how to time them.

    Events of one record share its time, so the held items (one time: one
    record, as far as times tell) are settled by items at other times. An item
    not far behind them (or one more at their time, after something came back
    behind them) confirms a jump: the file really moved on. Items back behind
    them say the held record was an outlier, but only once two other times
    say so: a record stamped in the past, right after a real jump, is as wrong
    as one stamped ahead, and must not pull the jump back to the old clock.
    An item far behind the clock says nothing about held ones: it goes through
    (the core judges it at its own, later, data time). The first record may be
    the outlier itself: the next two records tell.
    """

    def __init__(self, gap: float) -> None:
        self.gap = gap
        self.clock: float | None = None
        self.held: list[Item] = []
        self.behind: list[Item] = []
        """Items that came back behind the held ones, waiting for a second witness."""
        self.behind_times: set[float] = set()
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
        """What is still held: an outlier when far enough ahead to not be a quiet file's last record."""
        out = self._begin() if self.clock is None and self.start else []
        while self.held:  # settling them may hold what came behind them
            assert self.clock is not None
            lone = item_time(self.held[0]) > self.clock + LONE_GAP
            out.extend(self._outliers() if lone else self._jumped())
        return out

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
        if self.held:
            return self._settle(item, t)
        if t > clock + self.gap:
            self.held.append(item)
            return []
        self.clock = max(clock, t)
        return [item]

    def _settle(self, item: Item, t: float) -> list[Item]:
        """``item`` while records are held: another suspect, a witness against them, or what settles them."""
        clock = self.clock
        assert clock is not None
        first = item_time(self.held[0])
        if t <= clock + self.gap or t < first - self.gap:  # back behind the held records
            self.behind.append(item)
            self.behind_times.add(t)
            if len(self.behind_times) < 2 and len(self.behind) < MAX_HELD:
                return []
            return self._outliers()
        if t == first and not self.behind and len(self.held) < MAX_HELD:
            self.held.append(item)
            return []
        return self._jumped() + self._next(item)

    def _outliers(self) -> list[Item]:
        """The held record was an outlier: judged at the file's clock; what came behind it is read again."""
        clock = self.clock
        assert clock is not None
        self.outliers += 1  # the held items share one time: one record, as far as times tell
        out = [_at(h, clock) for h in self.held]
        behind = self._release()
        for item in behind:
            out.extend(self._next(item))
        return out

    def _jumped(self) -> list[Item]:
        """The file jumped: what came back behind the held records goes first, so the items stay in time order."""
        clock = self.clock
        assert clock is not None
        held = self.held
        self.clock = max(clock, item_time(held[0]))
        return self._release() + held

    def _release(self) -> list[Item]:
        """Forget the held records and their witnesses; the witnesses are returned."""
        behind = self.behind
        self.held, self.behind, self.behind_times = [], [], set()
        return behind


def _at(item: Item, time: float) -> Item:
    """The item judged at ``time`` instead of its own."""
    if isinstance(item, float):
        return float(time)
    return dataclasses.replace(item, time=float(time))
