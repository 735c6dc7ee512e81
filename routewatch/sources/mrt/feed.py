"""MRT files as a feed of the daemon: replay them through the core, and optionally follow a dump directory.

Collectors (and GoBGP or BIRD) write MRT update files every few minutes; with
``follow`` the source keeps looking for new files matching its patterns and
replays each once, in name order (dump names sort by time). Decoding runs in a
worker thread chunk by chunk, so a large file never stalls the event loop, and
events reach the core's owner in file order, a chunk at a time. A followed
directory is live data: a record stamped further ahead of the wall clock than
``clock_skew_tolerance`` is judged at the wall clock (:mod:`~routewatch.sources.clock_guard`), and
files naming more collectors than ``limits.max_collectors`` have the extra ones' records counted and ignored
(:mod:`~routewatch.sources.collector_cap`).
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import logging
import os
import time
from collections.abc import Iterator, Sequence

from routewatch.config.schema import MrtSource
from routewatch.errors import MrtDecodeError
from routewatch.model import Event
from routewatch.sources.base import CoreSink, SourceContext
from routewatch.sources.clock_guard import ClockGuard
from routewatch.sources.collector_cap import CollectorCap
from routewatch.sources.health import FeedCounters, SourceHealth
from routewatch.sources.mrt.reader import MrtStats, read_mrt

log = logging.getLogger(__name__)

CHUNK = 5_000
STALE_AFTER_FOLLOWING = 900.0
"""A followed collector that wrote no new data for this long is reported stale."""


class MrtFeed:
    """One configured ``mrt`` source; ``run`` may be restarted and never replays a file twice."""

    def __init__(self, settings: MrtSource, context: SourceContext) -> None:
        self.settings = settings
        self._clock = context.clock
        self.counters = FeedCounters(settings.name)
        self.guard = ClockGuard(settings.clock_skew_tolerance)
        self.collector_cap = CollectorCap(context.config.limits.max_collectors, self.counters.ignored)
        self.done: set[str] = context.replayed
        """Files already replayed; shared across reloads so that a reload replays nothing twice."""

    def health(self) -> SourceHealth:
        stale_after = STALE_AFTER_FOLLOWING if self.settings.follow else float("inf")
        return self.counters.snapshot(self._clock(), stale_after)

    def pending(self) -> list[str]:
        """Files matching the patterns that were not replayed yet, in name order."""
        found: set[str] = set()
        for pattern in self.settings.files:
            matches = glob.glob(pattern) if glob.has_magic(pattern) else [pattern]
            found.update(os.path.abspath(m) for m in matches)
        return sorted(found - self.done, key=os.path.basename)

    async def run(self, sink: CoreSink, stop: asyncio.Event) -> None:
        self.counters.up = True
        while not stop.is_set():
            for path in self.pending():
                if stop.is_set():
                    return
                if self.settings.follow and not self._complete(path):
                    continue
                await self._replay(path, sink)
            if not self.settings.follow:
                return
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_interval)
            except TimeoutError:
                pass

    def _complete(self, path: str) -> bool:
        """A followed file is read once it has stopped changing for a poll interval.

        Collectors write a dump, then it is copied or renamed into place: a
        file still growing would be read truncated and never read again.
        """
        try:
            age = time.time() - os.stat(path).st_mtime
        except OSError:
            return False
        return age >= self.settings.poll_interval

    async def _replay(self, path: str, sink: CoreSink) -> None:
        """Replay one file; damage is logged and counted, and what came before it is kept."""
        stats = MrtStats()
        events = read_mrt(path, collector=self.settings.collector, stats=stats)
        self.done.add(path)
        log.info("%s: replaying %s", self.settings.name, path)
        skewed = self.guard.skewed
        try:
            while True:
                chunk = await asyncio.to_thread(_take, events)
                if not chunk:
                    break
                if self.settings.follow:
                    self.guard.at_wall_clock(self._clock())
                    chunk = self.guard.events(chunk)
                chunk = self.collector_cap.events(chunk)
                self._count(chunk)
                sink.apply(chunk)
                sink.flush()
        except MrtDecodeError as exc:
            self.counters.malformed += 1
            log.error("%s: %s (the records before it were replayed)", self.settings.name, exc)
        except OSError as exc:
            self.counters.malformed += 1
            log.error("%s: cannot read %s: %s", self.settings.name, path, exc)
        finally:
            if self.guard.skewed > skewed:
                log.warning("%s: %d events of %s stamped beyond the wall clock, judged at it", self.settings.name,
                            self.guard.skewed - skewed, path)
            self.counters.malformed += stats.malformed + self.guard.skewed - skewed
            self.counters.messages += stats.records

    def _count(self, chunk: Sequence[Event]) -> None:
        now = self._clock()
        latest: dict[str, float] = {}
        for event in chunk:
            collector = getattr(getattr(event, "peer", None), "collector", None)
            if collector is not None:
                latest[collector] = max(latest.get(collector, event.time), event.time)
        for collector, data_time in latest.items():
            self.counters.message(data_time, now, collector, count=0)  # records come from the reader's stats


def _take(events: Iterator[Event]) -> list[Event]:
    return list(itertools.islice(events, CHUNK))
