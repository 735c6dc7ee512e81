"""The core as sources see it: their events and requests, applied to the daemon's core.

Sources never hold the core (``routewatch.sources.base.CoreSink``); the daemon
gives each generation's sources one :class:`CoreDriver` over its core. The
daemon's core is a ``TappedEngine``, which writes every detection change to
the detection log itself; ``on_changes`` is for callers that want the changes
too (tests record them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.core.watch import WatchSet
from routewatch.daemon.bootstrap import apply_snapshot, bootstrap_from_mrt
from routewatch.model import Event
from routewatch.sources.base import RouteSnapshot, WatchTargets

ChangesSink = Callable[[list[DetectionChange]], None]


def watch_targets(watch: WatchSet) -> WatchTargets:
    """What a watch set asks sources to follow, as plain values."""
    return WatchTargets(tuple(w.prefix for w in watch), tuple(watch.addresses), tuple(sorted(watch.asn_caps)),
                        tuple(sorted(watch.carriers)))


class CoreDriver:
    """Applies what sources hand over to ``core``, in the order they hand it."""

    def __init__(self, core: Engine, on_changes: ChangesSink | None = None) -> None:
        self.core = core
        self._on_changes = on_changes

    @property
    def data_time(self) -> float:
        return self.core.now

    @property
    def bootstrapped(self) -> bool:
        return self.core.bootstrapped

    def known_collectors(self) -> frozenset[str]:
        return frozenset(self.core.sessions.known_collectors)

    def targets(self) -> WatchTargets:
        return watch_targets(self.core.watch)

    def target_counts(self) -> tuple[int, int]:
        watch = self.core.watch
        return len(watch), len(watch.addresses)

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        apply, record = self.core.apply, self._on_changes
        if record is None:
            for event in events:
                apply(event, established=established)
            return
        for event in events:
            changes = apply(event, established=established)
            if changes:
                record(changes)

    def advance(self, data_time: float) -> None:
        if data_time > self.core.now:
            self._record(self.core.advance(data_time))

    def flush(self) -> None:
        self._record(self.core.flush())

    def replay(self, files: Sequence[str], wall_clock: float | None = None) -> int:
        return bootstrap_from_mrt(self.core, files, wall_clock).events

    def load_snapshot(self, snapshot: RouteSnapshot) -> None:
        self._record(apply_snapshot(self.core, snapshot))

    def mark_bootstrapped(self) -> None:
        self.core.bootstrapped = True

    def _record(self, changes: list[DetectionChange]) -> None:
        if changes and self._on_changes is not None:
            self._on_changes(changes)
