"""Replay archives through the same core the daemon runs.

Files are merged in data-time order across files and collectors, so a RIB dump
plus the update files after it, from several collectors, is one story. RIB
entries are routes held long before the dump and join the baseline at once;
update files build it as they go.

A damaged file does not stop the others: its good records are applied, the
damage (file and byte offset) is reported and counted, and the caller exits
1 ("finished with damaged input") or 2 ("could not read anything").
"""

from __future__ import annotations

import heapq
import os
import time as _time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.core.watch import WatchSet
from routewatch.errors import MrtDecodeError, SourceError
from routewatch.model import Event
from routewatch.rpki.validation import VrpIndex
from routewatch.sources.clock_guard import ClockGuard
from routewatch.sources.mrt.framing import first_header, open_mrt
from routewatch.sources.mrt.reader import DeferredRoute, DiscoveryFilter, MrtStats, PrefixFilter, read_mrt_timed
from routewatch.sources.mrt.records import TABLE_DUMP, TABLE_DUMP_V2
from routewatch.tools.timeline import Item, item_time, not_ahead_of, without_outliers

Sample = tuple[float, dict[str, tuple[int, int]]]


@dataclass(slots=True)
class ReplayReport:
    """What a replay did: detections, element counts, damage, timing."""

    changes: list[DetectionChange] = field(default_factory=list)
    stats: dict[str, MrtStats] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)
    outliers: dict[str, int] = field(default_factory=dict)
    """Per file: records stamped far ahead of their neighbours, judged at the neighbours' time."""
    skewed: int = 0
    """Elements stamped ahead of the wall clock a live daemon replays at, judged at it (``replay_files``)."""
    events: int = 0
    seconds: float = 0.0
    first_time: float | None = None
    last_time: float | None = None
    samples: list[Sample] = field(default_factory=list)

    @property
    def elements(self) -> int:
        return sum(s.elements for s in self.stats.values())

    @property
    def malformed(self) -> int:
        """Records skipped as malformed, over every file."""
        return sum(s.malformed for s in self.stats.values())

    def unreadable(self) -> list[str]:
        """Files that gave no good record at all (empty, or damaged from their first byte)."""
        return [path for path, s in self.stats.items() if s.records - s.malformed <= 0]

    @property
    def damaged(self) -> bool:
        return bool(self.errors or self.malformed or self.unreadable() or self.skewed)

    def exit_code(self) -> int:
        """0: every file read whole; 1: finished, but with damaged input; 2: nothing could be read."""
        if self.stats and len(self.unreadable()) == len(self.stats):
            return 2
        return 1 if self.damaged else 0

    def damage_summary(self) -> str:
        """One line of counts for a run that met damaged input."""
        damaged = {p for p, s in self.stats.items() if s.malformed or any(p in str(e) for e in self.errors)}
        return (f"damaged input: {len(damaged)} of {len(self.stats)} file(s) damaged, "
                f"{len(self.unreadable())} unreadable, {len(self.errors)} framing or decompression error(s), "
                f"{self.malformed:,} malformed record(s) skipped"
                + (f", {self.skewed:,} element(s) stamped ahead of the wall clock judged at it" if self.skewed else ""))


def is_rib_file(path: str | os.PathLike[str]) -> bool:
    """Does the file start with a TABLE_DUMP record (a RIB dump rather than updates)?

    A file whose first record cannot be read is not a RIB; reading it then
    reports the damage with its offset.
    """
    with open_mrt(path) as stream:
        header = first_header(stream)
    return header is not None and header[1] in (TABLE_DUMP, TABLE_DUMP_V2)


Reader = Callable[[str, bool, MrtStats], Iterator[Event | DeferredRoute]]
Timed = tuple[Item, bool]
"""(event or bare data time, from a RIB dump): what a replay reads, in data-time order."""


def merged_events(
    paths: Iterable[str],
    report: ReplayReport,
    *,
    prefix_filter: PrefixFilter | None = None,
    discovery: DiscoveryFilter | None = None,
    collector: str | None = None,
    reader: Reader | None = None,
    guard: ClockGuard | None = None,
) -> Iterator[Timed]:
    """(event, from a RIB dump) of every file, merged in data-time order, RIBs first within a second.

    ``reader(path, is_rib, stats)`` reads one file (default: the MRT reader with
    ``prefix_filter``, or ``discovery`` instead, which also gives the bare data
    time of records without a watched element, so that data time moves with
    every record; with ``discovery`` it defers routes the caller must judge:
    see :func:`replay_events`); a file that fails is recorded in ``report.errors``
    after its good records, and the other files go on. A record stamped far
    ahead of its file's neighbours is judged at their time and counted in
    ``report.outliers``; with a ``guard`` (a live daemon's wall clock), one
    still ahead of the wall clock is judged at it (``guard.skewed``).
    """

    def read(path: str, rib: bool, stats: MrtStats) -> Iterable[Item]:
        if reader is not None:
            return reader(path, rib, stats)
        return read_mrt_timed(path, collector=collector, prefix_filter=prefix_filter, discovery=discovery,
                              stats=stats)

    def one(path: str) -> Iterator[tuple[float, int, int, Item, bool]]:
        stats = report.stats.setdefault(path, MrtStats())
        outliers = [0]
        try:
            rib = is_rib_file(path)
            items = without_outliers(read(path, rib, stats), outliers)
            for seq, item in enumerate(items if guard is None else not_ahead_of(items, guard)):
                yield item_time(item), 0 if rib else 1, seq, item, rib
        except SourceError as exc:
            report.errors.append(exc)
        except (OSError, EOFError) as exc:
            report.errors.append(MrtDecodeError(path, stats.bytes_read, f"cannot read: {exc}"))
        finally:
            if outliers[0]:
                report.outliers[path] = outliers[0]

    streams = [one(os.fspath(p)) for p in paths]
    for _, _, _, event, rib in heapq.merge(*streams, key=lambda item: item[:3]):
        yield event, rib


def discovery_filter(watch: WatchSet) -> DiscoveryFilter | None:
    """With watched ASNs, a route also matters when its path may make the core watch its prefix."""
    return DiscoveryFilter(watch) if watch.asn_caps else None


def replay_events(
    monitor: Engine,
    events: Iterable[Timed],
    report: ReplayReport,
    *,
    on_change: Callable[[DetectionChange], None] | None = None,
    on_tick: Callable[[float], None] | None = None,
    sample_every: float | None = None,
    vrps: VrpIndex | None = None,
) -> ReplayReport:
    """Drive ``monitor`` with (event, from_rib) pairs already in time order.

    ``vrps`` (loaded once, before) is handed to the core at the first record's
    data time, so what it finds is stamped with the data's time, not 1970.
    A deferred route is judged where an event would be applied: once the core
    has moved to its time, it is applied if its prefix is relevant to the watch
    set as it stands then, and otherwise only its time passes, as it would in
    the core.
    """
    started = _time.perf_counter()
    next_sample = None
    watch = monitor.watch

    def emit(changes: list[DetectionChange]) -> None:
        for change in changes:
            report.changes.append(change)
            if on_change is not None:
                on_change(change)

    for item, established in events:
        time = item_time(item)
        if report.first_time is None:
            report.first_time = time
            if vrps is not None:
                emit(monitor.advance(time))
                emit(monitor.set_vrps(vrps))
        report.last_time = time
        if sample_every is not None:
            if next_sample is None:
                next_sample = time
            while time >= next_sample:
                emit(monitor.advance(next_sample))
                report.samples.append(_sample(monitor, next_sample))
                next_sample += sample_every
        if isinstance(item, float):  # a record with nothing watched: its time passes all the same
            if time > monitor.now:
                emit(monitor.advance(time))
            continue
        if isinstance(item, DeferredRoute):
            if time > monitor.now:
                emit(monitor.advance(time))
            event = item.resolve(watch)
            if event is None:
                continue
            item = event
        report.events += 1
        emit(monitor.apply(item, established=established))
        if on_tick is not None and report.events % 4096 == 0:
            on_tick(time)
    emit(monitor.flush())
    if sample_every is not None and report.last_time is not None:
        report.samples.append(_sample(monitor, report.last_time))
    report.seconds += _time.perf_counter() - started
    return report


def _sample(monitor: Engine, at: float) -> Sample:
    snap = monitor.snapshot()
    return at, {str(s.prefix): (s.visible_peers, s.baseline_peers) for s in snap.prefixes if s.exported}


def replay_files(
    monitor: Engine,
    paths: Iterable[str],
    *,
    collector: str | None = None,
    on_change: Callable[[DetectionChange], None] | None = None,
    on_tick: Callable[[float], None] | None = None,
    sample_every: float | None = None,
    vrps: VrpIndex | None = None,
    wall_clock: float | None = None,
) -> ReplayReport:
    """Replay MRT files merged in time order through ``monitor`` (validating against ``vrps`` when given).

    ``wall_clock`` (a live daemon's bootstrap): elements stamped further ahead of
    it than the clock-skew tolerance are judged at it and counted in ``report.skewed``.
    """
    report = ReplayReport()
    watch = monitor.watch
    guard = None
    if wall_clock is not None:
        guard = ClockGuard()
        guard.at_wall_clock(wall_clock)
    events = merged_events(paths, report, prefix_filter=watch.relevant, discovery=discovery_filter(watch),
                           collector=collector, guard=guard)
    replay_events(monitor, events, report, on_change=on_change, on_tick=on_tick, sample_every=sample_every,
                  vrps=vrps)
    report.skewed = guard.skewed if guard is not None else 0
    return report
