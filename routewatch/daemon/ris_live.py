"""The live BGP path: RIS Live into the core, with bootstrap, reconciliation and feed health.

Entry point for the daemon::

    live = LiveBgp(config, monitor, ripestat=client, on_batch=publish)
    await live.run(stop)          # until stop is set; reconnects by itself
    live.health()                 # a frozen SourceHealth for the exporter, any time

``run`` connects first (live messages are buffered in a bounded inbox from that
moment; if the first attempt fails, it goes on without waiting), loads the
initial state from a snapshot (``bgp.bootstrap.mrt_files``, else RIPEstat's
looking glass when ``ripestat`` is given and ``bgp.bootstrap.ripestat`` is on),
then applies the buffered and live messages.
Construct the Engine with ``bootstrapped=False`` unless its state was
restored: without a snapshot a stable prefix's visibility stays unknown, and
``run`` marks the monitor bootstrapped once a snapshot is in.

After every batch of messages ``on_batch(Batch)`` is called with the detection
changes it caused; the daemon publishes a new ``monitor.snapshot()`` from there.
It runs on the event loop, between batches: keep it short.

When the socket is lost every collector is marked stale (SourceStatus), so the
gap raises no withdrawal; after reconnecting, the state is reconciled from the
looking glass before the collectors count again, and it is reconciled again
every ``reconcile_interval``. Everything touching the monitor runs in this one
coroutine, so the monitor needs no lock.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from routewatch.config.schema import Config, RisLiveSource
from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.daemon.bootstrap import LookingGlass, apply_snapshot, bootstrap_from_mrt, looking_glass_snapshot
from routewatch.errors import ConfigError
from routewatch.model import Address, Prefix, SourceStatus
from routewatch.sources.inbox import Chunk, Inbox
from routewatch.sources.liveness import CollectorHealth, FeedHealth
from routewatch.sources.ris_live.client import DEFAULT_BACKOFF, Backoff, RisLiveClient, initial_subscriptions
from routewatch.sources.ris_live.parse import FrameKind, RisFrame, RisParser

log = logging.getLogger(__name__)

#: After a gap, how often to retry a failed reconcile before trusting the feed without one.
RECONCILE_ATTEMPTS = 3
RECONCILE_RETRY = 60.0

_UPDATE = FrameKind.UPDATE


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of messages applied to the core.

    ``receipts`` holds the ``time.perf_counter()`` at which each message came
    off the socket, so a caller can measure receipt-to-state latency.
    """

    changes: tuple[DetectionChange, ...]
    messages: int
    events: int
    receipts: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A frozen view of one live source for metrics (``routewatch_source_*``)."""

    source: str
    up: bool
    last_message: float | None
    last_data_time: float | None
    connects: int
    reconnects: int
    received: int
    dropped: int
    malformed: int
    malformed_by_reason: Mapping[str, int]
    ignored: Mapping[str, int]
    ris_errors: int
    subscriptions: int
    acknowledged: int
    unacknowledged: int
    bootstrapped: bool
    reconciles: int
    last_reconcile: float | None
    collectors: tuple[CollectorHealth, ...]


class LiveBgp:
    """Drives a Engine from RIS Live; see the module docstring."""

    def __init__(
        self,
        config: Config,
        monitor: Engine,
        *,
        source: RisLiveSource | None = None,
        clock: Callable[[], float] = time.time,
        ripestat: LookingGlass | None = None,
        on_batch: Callable[[Batch], None] | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        tick: float = 1.0,
        max_batch: int = 1024,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.settings = source or _ris_live_source(config)
        self.monitor = monitor
        self.clock = clock
        self.glass = ripestat if self.settings.reconcile == "ripestat" or config.bgp.bootstrap.ripestat else None
        self.on_batch = on_batch
        self.tick = tick
        self.max_batch = max_batch
        self.parser = RisParser()
        self.feed = FeedHealth(self.settings.name, self.settings.collector_stale_after, clock)
        self.inbox = Inbox(self.settings.queue_size)
        self.client = RisLiveClient(
            self.settings, initial_subscriptions(monitor.watch, self.settings.host), self.inbox, clock=clock,
            backoff=backoff, rng=rng, on_connect=self._connected, on_disconnect=self._disconnected,
        )
        self.reconciles = 0
        self.last_reconcile: float | None = None
        self._subscribed: set[Prefix] = {w.prefix for w in monitor.watch}
        self._subscribed_addresses: set[Address] = set(monitor.watch.addresses)
        self._outbox: list[SourceStatus] = []
        self._snapshot_loaded = False
        self._reconcile_reason: str | None = None
        self._reconcile_after = 0.0
        self._reconcile_failures = 0

    # -- the loop -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Bootstrap, then apply messages until ``stop`` is set."""
        client = asyncio.create_task(self.client.run(stop), name=f"{self.settings.name}-socket")
        try:
            await self.client.first_attempt.wait()
            await self._bootstrap()
            self._settle_in()
            self.last_reconcile = self.clock()
            while not stop.is_set():
                if client.done():
                    client.result()  # the socket task ended: raise its error, so the supervisor restarts us
                    return
                pending = self._reconcile_reason is not None and self.clock() >= self._reconcile_after
                if pending or self._reconcile_due():
                    await self._reconcile()
                items = await self._next_items(stop)
                self._apply(items)
                await self._subscribe_discovered()
                await asyncio.sleep(0)  # let the socket reader run between batches
        finally:
            if not client.done():
                client.cancel()
            await asyncio.gather(client, return_exceptions=True)

    async def _next_items(self, stop: asyncio.Event) -> list[Chunk]:
        inbox = self.inbox
        if inbox.empty():
            waiter = asyncio.ensure_future(inbox.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=self.tick, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
        return inbox.take(self.max_batch)

    def _apply(self, chunks: list[Chunk]) -> None:
        """Parse and apply one batch, then the feed-health transitions, then evaluate once."""
        monitor, decode, seen, apply = self.monitor, self.parser.decode, self.feed.seen, self.monitor.apply
        changes: list[DetectionChange] = []
        extend = changes.extend
        events = messages = 0
        for status in self._take_outbox():
            extend(apply(status))
        for chunk in chunks:
            received_at = chunk.wall
            messages += len(chunk.messages)
            for text in chunk.messages:
                frame = decode(text)
                collector = frame.collector
                if collector is not None:
                    for status in seen(collector, frame.timestamp, received_at):
                        extend(apply(status))
                frame_events = frame.events
                if frame_events:
                    events += len(frame_events)
                    for event in frame_events:
                        extend(apply(event))
                elif frame.kind is not _UPDATE:
                    extend(self._control(frame))
        for status in self.feed.check():
            extend(apply(status))
        extend(monitor.flush())
        if self.on_batch is not None and (messages or changes):
            receipts = tuple(chunk.receipt for chunk in chunks for _ in chunk.messages)
            self.on_batch(Batch(tuple(changes), messages, events, receipts))

    def _control(self, frame: RisFrame) -> list[DetectionChange]:
        """A message without events: data time from a keepalive, an acknowledgement, an error."""
        kind = frame.kind
        if kind is FrameKind.KEEPALIVE and frame.timestamp is not None and frame.timestamp > self.monitor.now:
            return self.monitor.advance(frame.timestamp)
        if kind is FrameKind.SUBSCRIBE_OK and frame.subscription is not None:
            self.client.acknowledged(frame.subscription)
        elif kind is FrameKind.ERROR:
            log.warning("%s: server error: %s", self.settings.name, frame.detail)
        elif kind is FrameKind.MALFORMED:
            log.debug("%s: skipping malformed message: %s", self.settings.name, frame.detail)
        return []

    def _take_outbox(self) -> list[SourceStatus]:
        statuses, self._outbox = self._outbox, []
        return statuses

    async def _subscribe_discovered(self) -> None:
        """Prefixes found for a watched ASN, and nameserver addresses found by DNS discovery, get subscribed."""
        watch = self.monitor.watch
        if len(watch) == len(self._subscribed) and len(watch.addresses) == len(self._subscribed_addresses):
            return
        new = [w.prefix for w in watch if w.prefix not in self._subscribed]
        addresses = [a for a in watch.addresses if a not in self._subscribed_addresses]
        self._subscribed.update(new)
        self._subscribed_addresses.update(addresses)
        await self.client.subscribe_prefixes(new, addresses)

    # -- connection events (called from the socket task) --------------------------

    def _connected(self) -> None:
        # A first connection made after a snapshot was loaded missed what happened in between, too.
        if self.client.stats.connects > 1 or self._snapshot_loaded:
            self._reconcile_reason = "reconnected"

    def _disconnected(self, detail: str) -> None:
        self._outbox.extend(self.feed.disconnected(detail))

    # -- snapshots ----------------------------------------------------------------

    async def _bootstrap(self) -> None:
        """Load the initial state, unless the monitor already has one (restored, or kept across a restart).

        A carried-over state missed what happened while this source was not
        running, like a reconnect does: it is reconciled instead of reloaded,
        because reloading a snapshot would bring back routes withdrawn since.
        Archive files are replayed on the event loop, not in a thread: the
        daemon's other parts read the same monitor.
        """
        if self.monitor.bootstrapped:
            self._bootstrapped(self.monitor.sessions.known_collectors)
            self._reconcile_reason = "restarted"
            return
        files = self.config.bgp.bootstrap.mrt_files
        if files:
            report = bootstrap_from_mrt(self.monitor, files)
            log.info("%s: bootstrapped from %d MRT files (%d events)", self.settings.name, len(files), report.events)
            self._bootstrapped(self.monitor.sessions.known_collectors)
        elif self.glass is not None and self.config.bgp.bootstrap.ripestat:
            snapshot = await looking_glass_snapshot(self.glass, self.monitor.watch, frozenset(), self.monitor.now)
            if snapshot.failed and not snapshot.routes:
                log.warning("%s: no bootstrap snapshot: the looking glass failed", self.settings.name)
                return
            apply_snapshot(self.monitor, snapshot)
            self._bootstrapped(snapshot.collectors)
        else:
            log.warning("%s: no bootstrap snapshot configured: stable prefixes stay unknown until they change",
                        self.settings.name)

    def _settle_in(self) -> None:
        """Do the start-up work before the first live message, so it does not stall that message.

        Every watched prefix is evaluated once now; then the long-lived state
        (route table, baselines, interned prefixes and paths) is moved out of
        the garbage collector's reach: a full collection over millions of such
        objects otherwise pauses the event loop for 100 ms or more.
        """
        self.monitor.flush()
        gc.unfreeze()  # a restarted source: let what the previous state left behind be collected
        gc.collect()
        gc.freeze()

    def _bootstrapped(self, collectors: frozenset[str] | set[str]) -> None:
        self.monitor.bootstrapped = True
        self._snapshot_loaded = True
        self.monitor.flush()
        self.feed.expect(collectors)

    def _reconcile_due(self) -> bool:
        return (self.glass is not None and self.settings.reconcile == "ripestat" and self.last_reconcile is not None
                and self.clock() - self.last_reconcile >= self.settings.reconcile_interval)

    async def _reconcile(self) -> None:
        """Bring the state in line with a snapshot; live messages wait in the inbox meanwhile."""
        reason, self._reconcile_reason = self._reconcile_reason or "scheduled", None
        self.last_reconcile = self.clock()
        changes: list[DetectionChange] = []
        if self.glass is not None and self.settings.reconcile == "ripestat":
            if reason == "reconnected":
                self.feed.hold()
            snapshot = await looking_glass_snapshot(self.glass, self.monitor.watch, self.feed.names(),
                                                    self.monitor.now)
            if snapshot.failed and not snapshot.routes and reason != "scheduled" \
                    and self._reconcile_failures < RECONCILE_ATTEMPTS:
                # Nothing to reconcile with: keep the gap's collectors untrusted and ask again later.
                self._reconcile_failures += 1
                self._reconcile_reason = reason
                self._reconcile_after = self.clock() + RECONCILE_RETRY
                log.warning("%s: reconcile (%s) failed, attempt %d of %d; retrying in %.0f s", self.settings.name,
                            reason, self._reconcile_failures, RECONCILE_ATTEMPTS, RECONCILE_RETRY)
                return
            self._reconcile_failures = 0
            changes.extend(apply_snapshot(self.monitor, snapshot))
            self.reconciles += 1
            log.info("%s: reconciled (%s) with %d routes, %d questions failed", self.settings.name, reason,
                     len(snapshot.routes), snapshot.failed)
        elif reason == "reconnected":
            log.warning("%s: reconnected without a snapshot to reconcile with: changes during the gap are missed",
                        self.settings.name)
        for status in self.feed.release():
            changes.extend(self.monitor.apply(status))
        changes.extend(self.monitor.flush())
        if self.on_batch is not None and changes:
            self.on_batch(Batch(tuple(changes), 0, 0, ()))

    # -- health -------------------------------------------------------------------

    def health(self) -> SourceHealth:
        stats, tally = self.client.stats, self.parser.tally
        return SourceHealth(
            source=self.settings.name,
            up=stats.up,
            last_message=stats.last_message,
            last_data_time=self.feed.data_time,
            connects=stats.connects,
            reconnects=stats.reconnects,
            received=stats.received,
            dropped=stats.dropped,
            malformed=tally.malformed_total + stats.oversize,
            malformed_by_reason=dict(tally.malformed) | ({"oversize": stats.oversize} if stats.oversize else {}),
            ignored=dict(tally.ignored),
            ris_errors=tally.errors,
            subscriptions=self.client.subscription_count,
            acknowledged=stats.acknowledged,
            unacknowledged=self.client.unacknowledged,
            bootstrapped=self.monitor.bootstrapped,
            reconciles=self.reconciles,
            last_reconcile=self.last_reconcile,
            collectors=self.feed.collectors(),
        )


def _ris_live_source(config: Config) -> RisLiveSource:
    for source in config.sources:
        if isinstance(source, RisLiveSource):
            return source
    raise ConfigError(["sources: no source of type ris-live is configured"])
