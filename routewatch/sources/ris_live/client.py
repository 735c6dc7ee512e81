"""The RIS Live websocket client: connected, subscribed, and never blocking.

One ``ris_subscribe`` is sent per watched prefix (``moreSpecific: true``), per
nameserver address (``lessSpecific: true``: every route covering it), plus one
for ``RIS_PEER_STATE`` and one for ``KEEPALIVE`` (per-collector liveness). A
watched ASN gets a ``path: "<asn>$"`` subscription, but only to *discover* its
prefixes: a withdrawal carries no AS path, so a path filter can never show the
ASN's prefix being withdrawn or taken over. Each discovered prefix gets its own
prefix subscription (:meth:`RisLiveClient.subscribe`). A watched ASN with
declared downstreams (a carrier) also gets ``path: "<asn>"``: every route
through it, so that a customer's route leaked through an undeclared customer is
seen though nobody watches the customer's prefix. That is the costly one (a
transit AS is in a large share of all paths; see docs/configuration.md), so
their number is capped by ``limits.max_path_subscriptions``. Every subscription asks
for ``acknowledge`` and is counted as confirmed when ``ris_subscribe_ok`` echoes
it (the driver feeds those back through :meth:`RisLiveClient.acknowledged`).

RIS closes consumers that fall behind, so the socket reader never waits for the
core: every socket read goes into a bounded :class:`Inbox` as raw messages, and
what does not fit is counted. Parsing happens on the consumer side.
Reconnection uses exponential backoff with jitter and resubscribes everything.

An open socket is not a live feed: a server can answer websocket pings and
send nothing. So the feed is ``up`` only once a connection has delivered a
message, and RIS Live's own ``ping`` is sent every ``ping_interval``; a ping
interval that brings nothing at all (not even the ``pong``) closes the
connection as silent, and the client reconnects with backoff. A connection
that ends within ``STABLE_AFTER`` seconds counts as a failed attempt even if
it delivered something, so a server that sends one message and hangs up is
backed off like one that refuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from routewatch.config.schema import RisLiveSource
from routewatch.model import Address, Prefix, parse_prefix
from routewatch.sources.base import WatchTargets
from routewatch.sources.inbox import Inbox
from routewatch.sources.ris_live.frame import normalise_host
from routewatch.sources.ris_live.websocket import BatchingConnection

log = logging.getLogger(__name__)

#: Largest message accepted; RIS messages are a few kB (a BGP UPDATE is at most 64 kB).
MAX_MESSAGE_BYTES = 1 << 20
#: Close codes counted by number; anything else is "other" (the peer chooses them).
_KNOWN_CLOSE_CODES = frozenset({1000, 1001, 1006, 1008, 1009, 1011, 1012, 1013})

SubscriptionKey = tuple[str | None, str | None, str | None]
STABLE_AFTER = 60.0
"""Seconds a connection must last to reset the backoff: a shorter one is a failed attempt."""
SILENT_CLOSE_CODE = 4000
"""Close code sent when the feed delivered nothing for a whole ping interval (the private-use range)."""


@dataclass(frozen=True, slots=True)
class ReconnectBackoff:
    """Reconnection delays: ``initial * factor**attempt`` capped at ``maximum``, jittered by half."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.maximum, self.initial * self.factor ** min(attempt, 32))
        return base * rng.uniform(0.5, 1.0)


DEFAULT_BACKOFF = ReconnectBackoff()


def subscription_key(data: Mapping[str, Any]) -> SubscriptionKey:
    """What identifies a subscription in its ``ris_subscribe_ok`` echo: (prefix, path, type)."""
    prefix = data.get("prefix")
    if isinstance(prefix, str):
        try:
            prefix = str(parse_prefix(prefix))
        except ValueError:
            pass
    path, kind = data.get("path"), data.get("type")
    return (prefix if isinstance(prefix, str) else None, path if isinstance(path, str) else None,
            kind if isinstance(kind, str) else None)


def prefix_subscription(prefix: Prefix, host: str | None) -> dict[str, Any]:
    return _with_host({"type": "UPDATE", "prefix": str(prefix), "moreSpecific": True}, host)


def address_subscription(address: Address, host: str | None) -> dict[str, Any]:
    bits = 32 if address.version == 4 else 128
    return _with_host({"type": "UPDATE", "prefix": f"{address}/{bits}", "moreSpecific": False,
                       "lessSpecific": True}, host)


def initial_subscriptions(targets: WatchTargets, host: str | None) -> list[dict[str, Any]]:
    """Everything to subscribe to for what is watched, feed-health subscriptions first."""
    subs = [_with_host({"type": "KEEPALIVE"}, host), _with_host({"type": "RIS_PEER_STATE"}, host)]
    subs.extend(prefix_subscription(p, host) for p in targets.prefixes)
    subs.extend(address_subscription(a, host) for a in sorted(targets.addresses, key=lambda a: (a.version, a)))
    subs.extend(_with_host({"type": "UPDATE", "path": f"{asn}$"}, host) for asn in sorted(targets.asns))
    subs.extend(path_subscription(asn, host) for asn in sorted(targets.carriers))
    return subs


def path_subscription(asn: int, host: str | None) -> dict[str, Any]:
    """Every route whose path contains ``asn`` anywhere (RIS Live's unanchored ``path`` filter)."""
    return _with_host({"type": "UPDATE", "path": str(asn)}, host)


def is_path_subscription(subscription: Mapping[str, Any]) -> bool:
    """A carrier's subscription (``path: "<asn>"``), not an origin's (``"<asn>$"``)."""
    path = subscription.get("path")
    return isinstance(path, str) and path.isdigit()


def _with_host(data: dict[str, Any], host: str | None) -> dict[str, Any]:
    if host:
        data["host"] = host
    return data


@dataclass(slots=True)
class ClientStats:
    """Socket-level counters (message-level ones are the parser's)."""

    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    received: int = 0
    dropped: int = 0
    oversize: int = 0
    up: bool = False
    """Connected and delivering: set by the first message of a connection, cleared when it ends or falls silent."""
    connected: bool = False
    silent: int = 0
    """Connections closed because a whole ping interval brought nothing."""
    last_message: float | None = None
    closes: Counter[str] = field(default_factory=Counter)
    acknowledged: int = 0
    problem: str = ""
    """Why the last connection attempt failed or ended; cleared on connecting."""
    failing: int = 0
    """Attempts that failed or ended since the last connection: only the first of a run is a warning."""


class RisLiveClient:
    """Keeps one RIS Live websocket open and its messages flowing into ``inbox``.

    ``on_connect`` and ``on_disconnect(detail)`` are called on every
    connection and loss, so the driver can mark collectors stale and reconcile.
    """

    def __init__(
        self,
        settings: RisLiveSource,
        subscriptions: Iterable[dict[str, Any]],
        inbox: Inbox,
        *,
        clock: Callable[[], float] = time.time,
        backoff: ReconnectBackoff = DEFAULT_BACKOFF,
        rng: random.Random | None = None,
        on_connect: Callable[[], None] = lambda: None,
        on_disconnect: Callable[[str], None] = lambda detail: None,
    ) -> None:
        self.settings = settings
        self.host = normalise_host(settings.host) if settings.host else None
        self.inbox = inbox
        self.clock = clock
        self.backoff = backoff
        self.rng = rng or random.Random()
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.stats = ClientStats()
        self._subscriptions: dict[SubscriptionKey, dict[str, Any]] = {}
        self._pending: set[SubscriptionKey] = set()
        self._ws: BatchingConnection | None = None
        #: Connections in a row that failed or did not last STABLE_AFTER: the backoff exponent.
        self.failed_attempts = 0
        #: Set once the first connection attempt has subscribed or failed: a snapshot
        #: taken after it misses nothing, because messages are buffered from then on.
        self.first_attempt = asyncio.Event()
        for sub in subscriptions:
            self._subscriptions[subscription_key(sub)] = sub

    def add_subscriptions(self, subscriptions: Iterable[dict[str, Any]]) -> None:
        """Subscriptions to send on every connection (before ``run``; later ones go through ``subscribe_prefixes``)."""
        for sub in subscriptions:
            self._subscriptions.setdefault(subscription_key(sub), sub)

    @property
    def subscription_count(self) -> int:
        return len(self._subscriptions)

    @property
    def path_subscription_count(self) -> int:
        """Carriers' subscriptions (every path through an AS): the costly kind, capped by the config."""
        return sum(1 for sub in self._subscriptions.values() if is_path_subscription(sub))

    async def subscribe_prefixes(self, prefixes: Iterable[Prefix], addresses: Iterable[Address] = ()) -> None:
        """Add subscriptions found while running (a watched ASN's prefixes, nameserver addresses).

        Sent at once when connected; kept for resubscribing after a reconnect.
        """
        new = []
        wanted = [prefix_subscription(p, self.host) for p in prefixes]
        wanted += [address_subscription(a, self.host) for a in addresses]
        for sub in wanted:
            key = subscription_key(sub)
            if key not in self._subscriptions:
                self._subscriptions[key] = sub
                new.append(sub)
        ws = self._ws
        if ws is not None and new:
            try:
                await self._send_subscriptions(ws, new)
            except ConnectionClosed:
                pass  # resubscribed with everything else on reconnection

    def acknowledged(self, subscription: Mapping[str, Any]) -> None:
        """The server confirmed a subscription (``ris_subscribe_ok``)."""
        key = subscription_key(subscription)
        if key in self._pending:
            self._pending.discard(key)
            self.stats.acknowledged += 1

    @property
    def unacknowledged(self) -> int:
        return len(self._pending)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, read, reconnect with backoff, until ``stop`` is set."""
        while not stop.is_set():
            started = asyncio.get_running_loop().time()
            detail, productive = await self._connection(stop)
            if stop.is_set():
                break
            stable = asyncio.get_running_loop().time() - started >= STABLE_AFTER
            self.failed_attempts = 0 if productive and stable else self.failed_attempts + 1
            delay = self.backoff.delay(self.failed_attempts, self.rng)
            self.stats.problem = detail
            self.stats.failing += 1
            if self.stats.failing == 1:
                log.warning("%s: %s; reconnecting in %.1fs (further attempts logged at debug level until connected)",
                            self.settings.name, detail, delay)
            else:
                log.debug("%s: %s; reconnecting in %.1fs (attempt %d)", self.settings.name, detail, delay,
                          self.stats.failing)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _connection(self, stop: asyncio.Event) -> tuple[str, bool]:
        """One connection's life; returns why it ended and whether it delivered anything."""
        received_before = self.stats.received
        try:
            async with connect(
                self.settings.url,
                create_connection=BatchingConnection,
                max_size=MAX_MESSAGE_BYTES,
                ping_interval=self.settings.ping_interval,
                ping_timeout=self.settings.ping_interval,
                open_timeout=max(5.0, self.settings.ping_interval),
                close_timeout=2.0,
                compression=None,
            ) as ws:
                await self._serve(cast(BatchingConnection, ws), stop)
                return "closed on request", True
        except ConnectionClosed as exc:
            return self._closed(exc), self.stats.received > received_before
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self.stats.connect_failures += 1
            return f"cannot connect to {self.settings.url}: {exc or type(exc).__name__}", False
        finally:
            self.first_attempt.set()
            self.stats.up = False
            if self.stats.connected:
                self.stats.connected = False
                self._ws = None
                self.on_disconnect("disconnected")

    async def _serve(self, ws: BatchingConnection, stop: asyncio.Event) -> None:
        """Subscribe, then read until the connection closes (raises ConnectionClosed) or ``stop``."""
        self._ws = ws
        self.stats.connected = True
        self.stats.connects += 1
        if self.stats.failing:
            log.info("%s: connected to %s after %d failed or ended attempt(s)", self.settings.name,
                     self.settings.url, self.stats.failing)
        self.stats.problem, self.stats.failing = "", 0
        if self.stats.connects > 1:
            self.stats.reconnects += 1
        self._pending.clear()
        self.on_connect()
        ws.deliver_to(self._received)
        await self._send_subscriptions(ws, list(self._subscriptions.values()))
        self.first_attempt.set()
        pinger = asyncio.create_task(self._ping(ws))
        stopper = asyncio.create_task(stop.wait())
        closed = asyncio.create_task(ws.wait_closed())
        try:
            await asyncio.wait({closed, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pinger.cancel()
            stopper.cancel()
            closed.cancel()
        if not stop.is_set():
            raise ws.close_exc

    async def _send_subscriptions(self, ws: BatchingConnection, subs: list[dict[str, Any]]) -> None:
        for sub in subs:
            self._pending.add(subscription_key(sub))
            await ws.send(json.dumps({"type": "ris_subscribe",
                                      "data": {**sub, "socketOptions": {"acknowledge": True}}}))

    def _received(self, messages: list[bytes]) -> None:
        """Everything one socket read brought: into the inbox at once; what does not fit is counted."""
        stats = self.stats
        now = self.clock()
        stats.received += len(messages)
        stats.last_message = now
        stats.up = stats.connected
        stats.dropped += self.inbox.put(time.perf_counter(), now, messages)

    async def _ping(self, ws: BatchingConnection) -> None:
        """RIS Live's own ping (answered by ``pong``), and the end of a connection that falls silent.

        The websocket layer pings too, but only proves the TCP connection: a
        server can answer those and deliver nothing. A ping interval in which
        not one message arrived (the previous ``pong`` included) closes the
        connection, so that the feed is reported down and reconnected.
        """
        received = self.stats.received
        while True:
            try:
                await ws.send('{"type": "ping"}')
            except ConnectionClosed:
                return
            await asyncio.sleep(self.settings.ping_interval)
            if self.stats.received == received:
                self.stats.up = False
                self.stats.silent += 1
                log.warning("%s: nothing received for %.0fs, not even the answer to a ping; reconnecting",
                            self.settings.name, self.settings.ping_interval)
                await ws.close(SILENT_CLOSE_CODE, "silent")
                return
            received = self.stats.received

    def _closed(self, exc: ConnectionClosed) -> str:
        code = exc.rcvd.code if exc.rcvd is not None else 1006
        if code == 1009 or (exc.sent is not None and exc.sent.code == 1009):
            self.stats.oversize += 1
            code = 1009
        self.stats.closes[str(code) if code in _KNOWN_CLOSE_CODES else "other"] += 1
        reason = exc.rcvd.reason if exc.rcvd is not None else "connection lost without a close frame"
        return f"connection closed ({code}{': ' + reason if reason else ''})"
