"""RIS Live as a source: the socket, the parser and the live session, handing events to the core's owner.

Use::

    feed = RisLiveFeed(settings, SourceContext(config, looking_glass=open_ripestat), on_batch=publish)
    await feed.run(sink, stop)    # until stop is set; reconnects by itself
    feed.health()                 # the exporter's view, any time; feed.details() has RIS Live's own counters

``run`` connects first (live messages are buffered in a bounded inbox from that
moment; if the first attempt fails, it goes on without waiting), loads the
initial state from a snapshot (``bgp.bootstrap.mrt_files``, else the looking
glass when one is given and ``bgp.bootstrap.ripestat`` is on), then hands the
buffered and live messages to the sink. The decisions (when to buffer, where
the initial state comes from, when to reconcile and what goes stale) are
:class:`~routewatch.sources.session.LiveSession`'s; this module does the I/O.

After every batch of messages ``on_batch(Batch)`` is called; it runs on the
event loop, between batches: keep it short. Everything touching the sink runs
in this one coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from routewatch.config.schema import RisLiveSource
from routewatch.model import Address, Event, FeedState, Prefix
from routewatch.sources.base import CoreSink, LookingGlass, SourceContext
from routewatch.sources.health import CollectorHealth, SourceHealth
from routewatch.sources.inbox import Chunk, Inbox
from routewatch.sources.liveness import CollectorLiveness
from routewatch.sources.looking_glass import looking_glass_snapshot
from routewatch.sources.ris_live.client import (
    DEFAULT_BACKOFF,
    ReconnectBackoff,
    RisLiveClient,
    initial_subscriptions,
)
from routewatch.sources.ris_live.frame import FrameKind, RisFrame
from routewatch.sources.ris_live.parse import RisParser
from routewatch.sources.session import (
    RECONCILE_ATTEMPTS,
    RECONCILE_RETRY,
    BootstrapStep,
    LiveSession,
    ReconcileReason,
)

log = logging.getLogger(__name__)

_UPDATE = FrameKind.UPDATE
_KEEPALIVE = FrameKind.KEEPALIVE


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch of messages handed to the core's owner.

    ``receipts`` holds the ``time.perf_counter()`` at which each message came
    off the socket, so a caller can measure receipt-to-state latency.
    """

    messages: int
    events: int
    receipts: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RisLiveHealth:
    """RIS Live's own view of the feed: the exporter's counters and more (subscriptions, reconciliation)."""

    source: str
    up: bool
    last_message: float | None
    last_data_time: float | None
    connects: int
    reconnects: int
    connect_failures: int
    received: int
    dropped: int
    malformed: int
    malformed_by_reason: Mapping[str, int]
    ignored: Mapping[str, int]
    ris_errors: int
    subscriptions: int
    path_subscriptions: int
    acknowledged: int
    unacknowledged: int
    bootstrapped: bool
    reconciles: int
    last_reconcile: float | None
    collectors: tuple[CollectorLiveness, ...]


class RisLiveFeed:
    """One configured ``ris-live`` source; see the module docstring."""

    def __init__(self, settings: RisLiveSource, context: SourceContext, *,
                 on_batch: Callable[[Batch], None] | None = None, backoff: ReconnectBackoff = DEFAULT_BACKOFF,
                 tick: float = 1.0, max_batch: int = 1024, rng: random.Random | None = None) -> None:
        bootstrap = context.config.bgp.bootstrap
        self.settings = settings
        self.clock = context.clock
        self.on_batch = on_batch
        self.tick = tick
        self.max_batch = max_batch
        self._files = tuple(bootstrap.mrt_files)
        self._max_collectors = context.config.limits.max_collectors
        self._glass_bootstrap = bootstrap.ripestat
        self._open_glass = context.looking_glass if settings.reconcile == "ripestat" or bootstrap.ripestat else None
        self._reconcile_interval = (settings.reconcile_interval
                                    if self._open_glass is not None and settings.reconcile == "ripestat" else None)
        self._backoff = backoff
        self._rng = rng
        self._bootstrapped = False
        self._runs = 0
        self._fresh()

    def _fresh(self) -> None:
        """The parts one run uses: a restarted source starts from a new socket, inbox and session."""
        self.parser = RisParser(tolerance=self.settings.clock_skew_tolerance, max_collectors=self._max_collectors)
        self.session = LiveSession(self.settings.name, stale_after=self.settings.collector_stale_after,
                                   clock=self.clock, reconcile_interval=self._reconcile_interval)
        self.inbox = Inbox(self.settings.queue_size)
        self.client = RisLiveClient(
            self.settings, (), self.inbox, clock=self.clock, backoff=self._backoff, rng=self._rng,
            on_connect=lambda: self.session.connected(self.client.stats.connects),
            on_disconnect=self.session.disconnected,
        )
        self._subscribed: set[Prefix] = set()
        self._subscribed_addresses: set[Address] = set()

    # -- the loop -----------------------------------------------------------------

    async def run(self, sink: CoreSink, stop: asyncio.Event) -> None:
        """Bootstrap, then hand messages to ``sink`` until ``stop`` is set."""
        if self._runs:
            self._fresh()
        self._runs += 1
        self._bootstrapped = sink.bootstrapped
        targets = sink.targets()
        self._subscribed.update(targets.prefixes)
        self._subscribed_addresses.update(targets.addresses)
        self.client.add_subscriptions(initial_subscriptions(targets, self.settings.host))
        client = asyncio.create_task(self.client.run(stop), name=f"{self.settings.name}-socket")
        try:
            await self.client.first_attempt.wait()
            opened = self._open_glass() if self._open_glass is not None else contextlib.nullcontext(None)
            async with opened as glass:
                await self._bootstrap(sink, glass)
                self._bootstrapped = sink.bootstrapped
                self._settle_in(sink)
                await self._follow(sink, glass, client, stop)
        finally:
            if not client.done():
                client.cancel()
            await asyncio.gather(client, return_exceptions=True)

    async def _follow(self, sink: CoreSink, glass: LookingGlass | None, client: asyncio.Task[None],
                      stop: asyncio.Event) -> None:
        session = self.session
        while not stop.is_set():
            if client.done():
                client.result()  # the socket task ended: raise its error, so the supervisor restarts us
                return
            reason = session.reconcile_due()
            if reason is not None:
                await self._reconcile(sink, glass, reason)
            self._apply(sink, await self._next_items(stop))
            await self._subscribe_discovered(sink)
            await asyncio.sleep(0)  # let the socket reader run between batches

    async def _next_items(self, stop: asyncio.Event) -> list[Chunk]:
        inbox = self.inbox
        if inbox.empty():
            waiter = asyncio.ensure_future(inbox.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=self.tick, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
        return inbox.take(self.max_batch)

    def _apply(self, sink: CoreSink, chunks: list[Chunk]) -> None:
        """Parse one batch and hand it over in order: transitions, events, feed-health checks; then evaluate once.

        A keepalive moves data time: what came before it is handed over first.
        """
        decode, seen = self.parser.decode, self.session.feed.seen
        events: list[Event] = []
        events.extend(self.session.take_statuses())
        count = messages = 0
        for chunk in chunks:
            received_at = chunk.wall
            self.parser.at_wall_clock(received_at)  # a message stamped far ahead must not move the core's clock
            messages += len(chunk.messages)
            for text in chunk.messages:
                frame = decode(text)
                collector = frame.collector
                if collector is not None:
                    events.extend(seen(collector, frame.timestamp, received_at))
                frame_events = frame.events
                if frame_events:
                    count += len(frame_events)
                    events.extend(frame_events)
                elif frame.kind is _KEEPALIVE and frame.timestamp is not None:
                    sink.apply(events)
                    events = []
                    if frame.timestamp > sink.data_time:
                        sink.advance(frame.timestamp)
                elif frame.kind is not _UPDATE:
                    self._control(frame)
        events.extend(self.session.feed.check())
        sink.apply(events)
        sink.flush()
        if self.on_batch is not None and messages:
            receipts = tuple(chunk.receipt for chunk in chunks for _ in chunk.messages)
            self.on_batch(Batch(messages, count, receipts))

    def _control(self, frame: RisFrame) -> None:
        """A message without events or data time: an acknowledgement, an error."""
        kind = frame.kind
        if kind is FrameKind.SUBSCRIBE_OK and frame.subscription is not None:
            self.client.acknowledged(frame.subscription)
        elif kind is FrameKind.ERROR:
            log.warning("%s: server error: %s", self.settings.name, frame.detail)
        elif kind is FrameKind.MALFORMED:
            log.debug("%s: skipping malformed message: %s", self.settings.name, frame.detail)

    async def _subscribe_discovered(self, sink: CoreSink) -> None:
        """Prefixes found for a watched ASN, and nameserver addresses found by DNS discovery, get subscribed."""
        if sink.target_counts() == (len(self._subscribed), len(self._subscribed_addresses)):
            return
        targets = sink.targets()
        new = [p for p in targets.prefixes if p not in self._subscribed]
        addresses = [a for a in targets.addresses if a not in self._subscribed_addresses]
        self._subscribed.update(new)
        self._subscribed_addresses.update(addresses)
        await self.client.subscribe_prefixes(new, addresses)

    # -- snapshots ----------------------------------------------------------------

    async def _bootstrap(self, sink: CoreSink, glass: LookingGlass | None) -> None:
        """Load the initial state, unless the core already has one (restored, or kept across a restart).

        Archive files are replayed on the event loop, not in a thread: the
        daemon's other parts read the same core.
        """
        name, session = self.settings.name, self.session
        step = session.bootstrap_step(core_bootstrapped=sink.bootstrapped, files=bool(self._files),
                                      looking_glass=glass is not None and self._glass_bootstrap)
        if step is BootstrapStep.CARRIED_OVER:
            sink.flush()
            session.bootstrapped(sink.known_collectors(), step)
        elif step is BootstrapStep.FILES:
            events = sink.replay(self._files, self.clock())
            log.info("%s: bootstrapped from %d MRT files (%d events)", name, len(self._files), events)
            self._loaded(sink)
            session.bootstrapped(sink.known_collectors(), step)
        elif step is BootstrapStep.LOOKING_GLASS:
            assert glass is not None
            snapshot = await looking_glass_snapshot(glass, sink.targets(), frozenset(), sink.data_time)
            if snapshot.failed and not snapshot.routes:
                log.warning("%s: no bootstrap snapshot: the looking glass failed", name)
                return
            sink.load_snapshot(snapshot)
            self._loaded(sink)
            session.bootstrapped(snapshot.collectors, step)
        else:
            log.warning("%s: no bootstrap snapshot configured: stable prefixes stay unknown until they change", name)

    @staticmethod
    def _loaded(sink: CoreSink) -> None:
        sink.mark_bootstrapped()
        sink.flush()

    def _settle_in(self, sink: CoreSink) -> None:
        """Do the start-up work before the first live message, so it does not stall that message.

        Every watched prefix is evaluated once now; then the long-lived state
        (route table, baselines, interned prefixes and paths) is moved out of
        the garbage collector's reach: a full collection over millions of such
        objects otherwise pauses the event loop for 100 ms or more.
        """
        sink.flush()
        gc.unfreeze()  # a restarted source: let what the previous state left behind be collected
        gc.collect()
        gc.freeze()
        self.session.start()

    async def _reconcile(self, sink: CoreSink, glass: LookingGlass | None, reason: ReconcileReason) -> None:
        """Bring the state in line with a snapshot; live messages wait in the inbox meanwhile."""
        name, session = self.settings.name, self.session
        if glass is not None and session.can_reconcile:
            snapshot = await looking_glass_snapshot(glass, sink.targets(), session.feed.names(), sink.data_time)
            if snapshot.failed and not snapshot.routes and session.retry_later(reason):
                # Nothing to reconcile with: keep the gap's collectors untrusted and ask again later.
                log.warning("%s: reconcile (%s) failed, attempt %d of %d; retrying in %.0f s", name, reason,
                            session.failures, RECONCILE_ATTEMPTS, RECONCILE_RETRY)
                return
            sink.load_snapshot(snapshot)
            session.reconciled()
            log.info("%s: reconciled (%s) with %d routes, %d questions failed", name, reason,
                     len(snapshot.routes), snapshot.failed)
        elif reason is ReconcileReason.RECONNECTED:
            log.warning("%s: reconnected without a snapshot to reconcile with: changes during the gap are missed",
                        name)
        sink.apply(session.release())
        sink.flush()

    # -- health -------------------------------------------------------------------

    def details(self) -> RisLiveHealth:
        stats, tally, session = self.client.stats, self.parser.tally, self.session
        return RisLiveHealth(
            source=self.settings.name,
            up=stats.up,
            last_message=stats.last_message,
            last_data_time=session.feed.data_time,
            connects=stats.connects,
            reconnects=stats.reconnects,
            connect_failures=stats.connect_failures,
            received=stats.received,
            dropped=stats.dropped,
            malformed=tally.malformed_total + stats.oversize,
            malformed_by_reason=dict(tally.malformed) | ({"oversize": stats.oversize} if stats.oversize else {}),
            ignored=dict(tally.ignored),
            ris_errors=tally.errors,
            subscriptions=self.client.subscription_count,
            path_subscriptions=self.client.path_subscription_count,
            acknowledged=stats.acknowledged,
            unacknowledged=self.client.unacknowledged,
            bootstrapped=self._bootstrapped,
            reconciles=session.reconciles,
            last_reconcile=session.last_reconcile,
            collectors=session.feed.collectors(),
        )

    def health(self) -> SourceHealth:
        """The feed in the exporter's terms (data times, lag, fresh collectors); ``up`` is None until it runs.

        The lag is the wall clock now minus the newest data time, so that a feed
        which stops delivering shows a lag growing with the wall clock rather
        than the last message's lag frozen in place.
        """
        if not self._runs:
            return SourceHealth(self.settings.name, None)
        details = self.details()
        lag = None
        if details.last_data_time is not None:
            lag = max(0.0, self.clock() - details.last_data_time)
        collectors = tuple(
            CollectorHealth(c.name, c.state == FeedState.UP, c.last_data_time,
                            max(0.0, c.lag) if c.lag is not None else None)
            for c in details.collectors
        )
        return SourceHealth(details.source, details.up, details.last_data_time, lag, details.reconnects,
                            details.received, details.malformed, details.dropped,
                            MappingProxyType(dict(details.ignored)), collectors, self.client.stats.problem,
                            details.connect_failures, details.path_subscriptions)
