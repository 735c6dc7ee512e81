"""Per-collector liveness of a live feed, judged on an injected wall clock.

A socket that is open says nothing about the collectors behind it: one RIS
collector can stop exporting while the others carry on, and a filtered feed is
silent for a stable prefix. So liveness is per collector, from every message
it sends (KEEPALIVEs included: RIS beacons cycle every few hours, too slowly to
be the only canary). A collector that sent nothing for ``stale_after`` seconds
of wall clock is stale: the core stops counting its peers (``SourceStatus``
with ``collector=``) rather than reading their silence as withdrawals.

While the feed is disconnected every collector is stale. After a reconnection
the core's state may be out of date (the gap cannot be replayed), so the feed
can be *held*: collectors that speak again stay stale until ``release()``,
which the driver calls once the state has been reconciled from a snapshot.

Lag is wall clock at receipt minus the data timestamp of the message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from routewatch.model import FeedState, SourceStatus


@dataclass(slots=True)
class _Collector:
    last_receipt: float
    last_data: float | None = None
    lag: float | None = None
    stale: bool = False
    messages: int = 0


@dataclass(frozen=True, slots=True)
class CollectorLiveness:
    """One collector as the exporter shows it."""

    name: str
    state: FeedState
    last_message: float
    last_data_time: float | None
    lag: float | None
    messages: int


class FeedHealth:
    """Tracks collectors; every method returns the SourceStatus transitions it caused."""

    def __init__(self, source: str, stale_after: float, clock: Callable[[], float]) -> None:
        self.source = source
        self.stale_after = stale_after
        self.clock = clock
        self.data_time: float | None = None
        self._collectors: dict[str, _Collector] = {}
        self._held_since: float | None = None
        #: Wall time of the last staleness check (tests wait on it instead of sleeping).
        self.last_check: float | None = None

    @property
    def held(self) -> bool:
        return self._held_since is not None

    def expect(self, collectors: Iterable[str]) -> None:
        """Collectors known from a snapshot must speak within ``stale_after`` from now, or go stale."""
        now = self.clock()
        for name in collectors:
            self._collectors.setdefault(name, _Collector(last_receipt=now))

    def seen(self, collector: str, timestamp: float | None, receipt: float) -> Sequence[SourceStatus]:
        """A message from ``collector`` (data time ``timestamp``) was received at wall time ``receipt``.

        Called for every message: it allocates nothing unless the collector comes back.
        """
        state = self._collectors.get(collector)
        if state is None:
            state = self._collectors[collector] = _Collector(last_receipt=receipt)
        if receipt > state.last_receipt:
            state.last_receipt = receipt
        state.messages += 1
        if timestamp is not None:
            if state.last_data is None or timestamp > state.last_data:
                state.last_data = timestamp
            state.lag = receipt - timestamp
            if self.data_time is None or timestamp > self.data_time:
                self.data_time = timestamp
        if state.stale and self._held_since is None:
            state.stale = False
            return [self._status(collector, FeedState.UP, "messages flow again")]
        return ()

    def check(self) -> list[SourceStatus]:
        """Mark collectors silent for longer than ``stale_after`` stale."""
        now = self.clock()
        self.last_check = now
        changes = []
        for name, state in self._collectors.items():
            if not state.stale and now - state.last_receipt > self.stale_after:
                state.stale = True
                changes.append(self._status(name, FeedState.STALE, f"no message for {now - state.last_receipt:.0f}s"))
        return changes

    def disconnected(self, detail: str) -> list[SourceStatus]:
        """The socket is gone: every collector is stale, and stays so until ``release()``."""
        if self._held_since is None:
            self._held_since = self.clock()
        changes = []
        for name, state in self._collectors.items():
            if not state.stale:
                state.stale = True
                changes.append(self._status(name, FeedState.STALE, detail))
        return changes

    def hold(self) -> None:
        """Keep collectors stale until ``release()`` (the state is being rebuilt)."""
        if self._held_since is None:
            self._held_since = self.clock()

    def release(self) -> list[SourceStatus]:
        """The state is trustworthy again: collectors heard from since the hold are fresh."""
        since, self._held_since = self._held_since, None
        if since is None:
            return []
        changes = []
        for name, state in self._collectors.items():
            if state.stale and state.last_receipt > since and self.clock() - state.last_receipt <= self.stale_after:
                state.stale = False
                changes.append(self._status(name, FeedState.UP, "reconciled"))
        return changes

    def collectors(self) -> tuple[CollectorLiveness, ...]:
        return tuple(
            CollectorLiveness(name, FeedState.STALE if s.stale else FeedState.UP, s.last_receipt, s.last_data, s.lag,
                            s.messages)
            for name, s in sorted(self._collectors.items())
        )

    def names(self) -> frozenset[str]:
        return frozenset(self._collectors)

    def _status(self, collector: str, state: FeedState, detail: str) -> SourceStatus:
        return SourceStatus(self.data_time or 0.0, self.source, state, collector=collector, detail=detail)
