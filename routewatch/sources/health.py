"""Feed health as values: what every BGP source reports and the exporter reads.

A source keeps a mutable :class:`FeedCounters` while it runs, and hands out
frozen :class:`SourceHealth` snapshots; the Prometheus collector (in the HTTP
server's thread) only ever sees those. ``up`` is None before a source has
tried to connect, so that "not started yet" is never exported as "down".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class CollectorHealth:
    """One route collector within a feed: fresh (``up``) or stale, and how far behind.

    A source that talks to each collector itself (a BMP router's connection)
    also counts its messages, damaged messages and peers up; others leave them
    None.
    """

    collector: str
    up: bool
    last_message: float | None = None
    lag: float | None = None
    messages: int | None = None
    malformed: int | None = None
    peers_up: int | None = None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One feed: connection state, freshness, and counters since the process started.

    ``last_message`` is the data timestamp of the newest message; ``lag`` is
    wall clock minus that timestamp when it was received. ``ignored`` counts
    messages skipped on purpose, by message type.
    """

    source: str
    up: bool | None
    last_message: float | None = None
    lag: float | None = None
    reconnects: int = 0
    messages: int = 0
    malformed: int = 0
    dropped: int = 0
    ignored: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    collectors: tuple[CollectorHealth, ...] = ()
    problem: str = ""
    """Why a connecting source is not connected ("" when it is, or has not tried yet): for the start-up log."""
    connect_failures: int = 0
    """Attempts that never connected (``reconnects`` counts successes only)."""
    path_subscriptions: int | None = None
    """Subscriptions to every path through a watched AS (RIS Live's carriers); None for sources without any."""


@dataclass(slots=True)
class FeedCounters:
    """The mutable side a source updates as messages arrive (one thread: the event loop)."""

    source: str
    up: bool | None = None
    last_message: float | None = None
    lag: float | None = None
    reconnects: int = 0
    connect_failures: int = 0
    messages: int = 0
    malformed: int = 0
    dropped: int = 0
    ignored: Counter[str] = field(default_factory=Counter)
    collector_seen: dict[str, tuple[float, float]] = field(default_factory=dict)

    def message(self, data_time: float, received: float, collector: str | None = None, *, count: int = 1) -> None:
        """Count ``count`` messages, the newest stamped ``data_time``, that arrived at wall-clock ``received``."""
        self.messages += count
        if self.last_message is None or data_time >= self.last_message:
            self.last_message = data_time
            self.lag = max(0.0, received - data_time)
        if collector is not None:
            self.collector_seen[collector] = (data_time, received)

    def snapshot(self, now: float, stale_after: float) -> SourceHealth:
        """Frozen health at wall-clock ``now``; a collector silent for ``stale_after`` seconds is stale."""
        collectors = tuple(
            CollectorHealth(name, now - received <= stale_after, data_time, max(0.0, received - data_time))
            for name, (data_time, received) in sorted(self.collector_seen.items())
        )
        return SourceHealth(
            self.source, self.up, self.last_message, self.lag, self.reconnects, self.messages, self.malformed,
            self.dropped, MappingProxyType(dict(self.ignored)), collectors, connect_failures=self.connect_failures,
        )
