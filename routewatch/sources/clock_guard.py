"""The one guard every live source puts between a data timestamp and the core's clock.

The core's data time only moves forward, so one message stamped ahead (a
KEEPALIVE from a router whose clock says 2036, an MRT record stamped 2106)
would move it for good: hold-downs would never end and every withdrawal would
stay ``visible``. A source that follows the present knows the wall clock, and
nothing it receives can honestly be later than that: a timestamp further ahead
than a tolerance is clock skew, counted and judged at the wall clock instead.
RIS Live, a followed MRT directory, a live BGPStream and the BMP station (router
clocks) all use this guard.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

from routewatch.model import Event

MAX_TIMESTAMP = 2**32
"""No BGP source stamps beyond 2^32 s (MRT and BMP headers are 32-bit): a later timestamp is malformed."""
CLOCK_SKEW_TOLERANCE = 300.0
"""Seconds a live message may be stamped ahead of the wall clock before it counts as clock skew."""
CLOCK_SKEW = "clock_skew"
"""The counter key (a reason of malformed) of a message judged at the wall clock."""


@dataclass(slots=True)
class ClockGuard:
    """Judges timestamps against the wall clock last given; counts the skewed ones in ``counts[CLOCK_SKEW]``.

    Before the first :meth:`at_wall_clock` nothing is judged (a replay of
    old files has no wall clock to compare with), only 2^32 bounds ``latest``.
    """

    tolerance: float = CLOCK_SKEW_TOLERANCE
    counts: Counter[str] = field(default_factory=Counter)
    wall: float | None = None
    latest: float = float(MAX_TIMESTAMP)
    """The latest timestamp taken at its word; read directly by hot loops."""

    @property
    def skewed(self) -> int:
        """Timestamps judged at the wall clock so far."""
        return self.counts[CLOCK_SKEW]

    def at_wall_clock(self, now: float) -> None:
        """From now on, timestamps beyond ``now`` plus the tolerance are clock skew judged at ``now``."""
        self.wall = now
        self.latest = min(now + self.tolerance, float(MAX_TIMESTAMP))

    def judge(self, timestamp: float) -> float:
        """``timestamp``, or the wall clock (counted) when it is too far ahead of it."""
        if timestamp > self.latest and self.wall is not None:
            self.counts[CLOCK_SKEW] += 1
            return self.wall
        return timestamp

    def events(self, events: list[Event]) -> list[Event]:
        """``events`` with those stamped too far ahead judged at the wall clock (each one counted)."""
        latest = self.latest
        if self.wall is None or all(event.time <= latest for event in events):
            return events
        return [event if event.time <= latest else dataclasses.replace(event, time=self.judge(event.time))
                for event in events]
