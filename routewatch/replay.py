"""Replay archives through the same core the daemon runs.

Files are merged in data-time order across files and collectors, so a RIB dump
plus the update files after it, from several collectors, is one story. RIB
entries are routes held long before the dump and join the baseline at once;
update files build it as they go.

A damaged file does not stop the others: its good records are applied, the
damage (file and byte offset) is reported, and the caller exits non-zero.
"""

from __future__ import annotations

import heapq
import os
import time as _time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .detect import DetectionChange
from .errors import MrtDecodeError, SourceError
from .model import Event
from .monitor import Monitor
from .sources.mrt import MrtStats, read_mrt
from .sources.mrt_framing import HEADER, open_mrt
from .sources.mrt_records import TABLE_DUMP, TABLE_DUMP_V2

Sample = tuple[float, dict[str, tuple[int, int]]]


@dataclass(slots=True)
class ReplayReport:
    """What a replay did: detections, element counts, damage, timing."""

    changes: list[DetectionChange] = field(default_factory=list)
    stats: dict[str, MrtStats] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)
    events: int = 0
    seconds: float = 0.0
    first_time: float | None = None
    last_time: float | None = None
    samples: list[Sample] = field(default_factory=list)

    @property
    def elements(self) -> int:
        return sum(s.elements for s in self.stats.values())


def is_rib_file(path: str | os.PathLike[str]) -> bool:
    """Does the file start with a TABLE_DUMP record (a RIB dump rather than updates)?"""
    with open_mrt(path) as stream:
        header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return False
    _, mrt_type, _, _ = HEADER.unpack(header)
    return mrt_type in (TABLE_DUMP, TABLE_DUMP_V2)


def _file_events(path: str, monitor: Monitor, report: ReplayReport, collector: str | None
                 ) -> Iterator[tuple[float, int, Event, bool]]:
    stats = report.stats.setdefault(path, MrtStats())
    try:
        rib = is_rib_file(path)
        for seq, event in enumerate(read_mrt(path, collector=collector, prefix_filter=monitor.watch.relevant,
                                             stats=stats)):
            yield event.time, seq, event, rib
    except (MrtDecodeError, SourceError) as exc:
        report.errors.append(exc)
    except (OSError, EOFError) as exc:
        report.errors.append(SourceError("mrt", f"{path}: {exc}"))


def replay_events(
    monitor: Monitor,
    events: Iterable[tuple[Event, bool]],
    report: ReplayReport,
    *,
    on_change: Callable[[DetectionChange], None] | None = None,
    on_tick: Callable[[float], None] | None = None,
    sample_every: float | None = None,
) -> ReplayReport:
    """Drive ``monitor`` with (event, from_rib) pairs already in time order."""
    started = _time.perf_counter()
    next_sample = None

    def emit(changes: list[DetectionChange]) -> None:
        for change in changes:
            report.changes.append(change)
            if on_change is not None:
                on_change(change)

    for event, established in events:
        report.events += 1
        if report.first_time is None:
            report.first_time = event.time
        report.last_time = event.time
        if sample_every is not None:
            if next_sample is None:
                next_sample = event.time
            while event.time >= next_sample:
                emit(monitor.advance(next_sample))
                report.samples.append(_sample(monitor, next_sample))
                next_sample += sample_every
        emit(monitor.apply(event, established=established))
        if on_tick is not None and report.events % 4096 == 0:
            on_tick(event.time)
    emit(monitor.flush())
    if sample_every is not None and report.last_time is not None:
        report.samples.append(_sample(monitor, report.last_time))
    report.seconds += _time.perf_counter() - started
    return report


def _sample(monitor: Monitor, at: float) -> Sample:
    snap = monitor.snapshot()
    return at, {str(s.prefix): (s.visible_peers, s.baseline_peers) for s in snap.prefixes if s.exported}


def replay_files(
    monitor: Monitor,
    paths: Iterable[str],
    *,
    collector: str | None = None,
    on_change: Callable[[DetectionChange], None] | None = None,
    on_tick: Callable[[float], None] | None = None,
    sample_every: float | None = None,
) -> ReplayReport:
    """Replay MRT files merged in time order through ``monitor``."""
    report = ReplayReport()
    streams = [_file_events(os.fspath(p), monitor, report, collector) for p in paths]
    merged = ((event, rib) for _, _, event, rib in heapq.merge(*streams, key=lambda item: (item[0], item[1])))
    return replay_events(monitor, merged, report, on_change=on_change, on_tick=on_tick,
                         sample_every=sample_every)
