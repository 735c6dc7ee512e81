"""A BMP station (RFC 7854): routers connect to routewatch and stream what they and their peers see.

Semantics in the core (DESIGN.md, "Router feeds"):

- each (router, monitored peer) is a peer of the collector named after the
  router (its address), so baselines and visibility work as for RIS peers;
- Peer Down is a session going down, never a withdrawal; Peer Up a session
  coming up (its earlier routes are dropped first: the router re-sends what
  the peer holds, and the peer rejoins the baseline once it has);
- a router's TCP session closing makes its collector stale (its peers count
  for nothing, nothing is withdrawn) until the router is back; then its
  earlier sessions end (a peer it lost must not keep its routes) and each it
  still has returns with its Peer Up and table;
- after Peer Up the router sends the peer's whole table, then an End-of-RIB
  per address family (RFC 4724): the routes of a family's initial table join
  the baseline at once (they were held before the station saw them, as a RIB
  dump's are), and once every family routewatch reads that the session
  negotiated (the multiprotocol capabilities of both OPENs in the Peer Up;
  IPv4 unicast when an OPEN names none) has had its End-of-RIB, the peer's
  settle time ends (its table is complete, so what it lacks it really lacks;
  before that, a family still being sent would count its routes as missing);
  a router that sends no End-of-RIB leaves its peers settling for
  ``bgp.peer_settle``, as any session reset does;
- only routes of watched prefixes, their more-specifics and prefixes over
  watched addresses are decoded further than their NLRI (all of them when
  ASNs are watched), as the MRT reader does; a Route Monitoring message with
  none of them, most of a full table, is passed over once its headers and
  prefixes are read, counted as if decoded whole;
- one stream per peer: the configured ``policy`` picks pre-policy, post-policy
  or Loc-RIB (RFC 9069) messages; the others, and Adj-RIB-Out (RFC 8671), are
  counted and skipped, so pre- and post-policy views of one peer are not two
  peers.

Per-peer headers are stamped by the router's clock, which will be wrong some
day: a message stamped further ahead of the wall clock than
``clock_skew_tolerance`` is clock skew (counted as malformed) and judged at
the wall clock, so one router cannot move the core's data time for good.

BMP has no authentication: only listed router addresses are accepted (others
are refused and counted), and of those at most ``limits.max_collectors``
distinct routers (a listed network may hold many; those beyond are refused and
counted under ``collector_over_cap``). A router is its address: a new
connection from it replaces the earlier one (a restarted router whose old
connection was never closed), so two routers behind one address cannot both
feed the station. A message over the size cap, a truncated or corrupt one
resets that router's connection, counted, never the process.

What the station keeps per router (its connection's decoding state, the
sessions its per-peer headers name, its health) is in
:mod:`~routewatch.sources.bmp.router`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
from collections import Counter

from routewatch.config.sources import BmpSource
from routewatch.model import FeedState, FsmState, Peer, PeerStateChange, SourceStatus
from routewatch.sources.base import CoreSink, SourceContext
from routewatch.sources.bgpwire.attributes import AttributeDecoder, MalformedRecord
from routewatch.sources.bgpwire.targets import TargetFilter
from routewatch.sources.bmp.messages import (
    BGP_HEADER_SIZE,
    COMMON_HEADER,
    UPDATE_AT,
    BmpMessage,
    MalformedBmp,
    MessageType,
    PerPeerHeader,
    decode,
    message_length,
    route_monitoring_at,
)
from routewatch.sources.bmp.router import (
    DEFAULT_FORMAT,
    RouterCounters,
    RouterState,
    end_of_rib_family,
    of_families,
    peer_format,
    table_families,
)
from routewatch.sources.clock_guard import ClockGuard
from routewatch.sources.collector_cap import CollectorCap
from routewatch.sources.health import FeedCounters, SourceHealth
from routewatch.sources.mrt.records import MrtStats

log = logging.getLogger(__name__)

READ_SIZE = 1 << 16
"""Bytes asked of a router's connection at a time; the messages they complete are applied, then judged together."""

STALE_AFTER = 3600.0
"""A connected router that sent nothing for this long is reported stale (routers send statistics regularly)."""


class BmpStation:
    """The ``bmp`` source: listens, accepts listed routers, turns their messages into events."""

    def __init__(self, settings: BmpSource, context: SourceContext) -> None:
        self.settings = settings
        self._clock = context.clock
        self.counters = FeedCounters(settings.name)
        self.allowed = [ipaddress.ip_network(r, strict=False) for r in settings.routers]
        self.refused = 0
        self.skipped: Counter[str] = Counter()
        self.routers: dict[str, RouterState] = {}
        self.router_counters: dict[str, RouterCounters] = {}
        self._writers: dict[str, asyncio.StreamWriter] = {}  # each router's current connection
        self._attributes = AttributeDecoder()
        self._filter = TargetFilter()
        self._stats = MrtStats()
        self._sink: CoreSink | None = None
        self.guard = ClockGuard(settings.clock_skew_tolerance)
        self.collector_cap = CollectorCap(context.config.limits.max_collectors, self.counters.ignored)

    def health(self) -> SourceHealth:
        """The feed's health; per router: connected, its messages, damage, peers up (routers are those listed)."""
        health = self.counters.snapshot(self._clock(), STALE_AFTER)
        routers = tuple(c.health(name) for name, c in sorted(self.router_counters.items()))
        return dataclasses.replace(health, collectors=routers)

    async def run(self, sink: CoreSink, stop: asyncio.Event) -> None:
        self._sink = sink
        server = await asyncio.start_server(self._connection, self.settings.listen, self.settings.port,
                                            limit=READ_SIZE)
        self.counters.up = True
        log.info("%s: BMP station listening on %s port %d", self.settings.name, self.settings.listen,
                 self.settings.port)
        try:
            await stop.wait()
        finally:
            self.counters.up = False
            server.close()
            await server.wait_closed()

    def _listed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip.version == net.version and ip in net for net in self.allowed)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = str(ipaddress.ip_address(writer.get_extra_info("peername")[0]))
        if not self._listed(address):
            self.refused += 1
            self.counters.ignored["refused router"] += 1
            log.warning("%s: refused BMP connection from %s (not in routers)", self.settings.name, address)
            writer.close()
            return
        if not self.collector_cap.admit(address):
            log.warning("%s: refused BMP connection from %s (beyond limits.max_collectors routers)",
                        self.settings.name, address)
            writer.close()
            return
        earlier = self._writers.get(address)
        if earlier is not None:  # the router restarted before its dead connection was noticed: this one replaces it
            earlier.close()
            log.info("%s: router %s connected again: its earlier connection is closed", self.settings.name, address)
        self._writers[address] = writer
        router = self.routers[address] = RouterState(address, self._attributes, self._filter.accept, self._stats,
                                                    self.settings.policy)
        counters = self.router_counters.setdefault(address, RouterCounters())
        counters.connected = True
        self._forget_sessions(address, counters)
        self._status(address, FeedState.UP)
        log.info("%s: router %s connected", self.settings.name, address)
        try:
            await self._read(reader, writer, router)
        except (MalformedBmp, MalformedRecord) as exc:
            self.counters.malformed += 1
            counters.malformed += 1
            log.warning("%s: router %s sent a damaged message (%s): connection reset", self.settings.name,
                        address, exc)
        except ConnectionError:
            pass
        finally:
            writer.close()
            if self._writers.get(address) is writer:  # not replaced by a newer connection, which owns the state
                del self._writers[address]
                counters.connected = False
                self._status(address, FeedState.STALE)
                log.info("%s: router %s disconnected: its peers are stale until it is back", self.settings.name,
                         address)

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, router: RouterState) -> None:
        """Read the router's messages until it closes; what a chunk brought is judged once, after its last message.

        Buffered per connection: the transport's read-ahead (paused past
        twice ``READ_SIZE``) and here at most one incomplete message
        (``MAX_MESSAGE``) and one chunk. Ownership is checked after each read:
        a newer connection from the router may have replaced this one while
        the read waited, and what this one still had buffered must not be
        applied after the newer one ended its sessions.
        """
        assert self._sink is not None
        buffer = bytearray()
        while True:
            chunk = await reader.read(READ_SIZE)
            if self._writers.get(router.collector) is not writer:  # replaced: the newer connection owns the state
                return
            if not chunk:
                if buffer:
                    raise MalformedBmp(f"connection closed inside a message ({len(buffer)} bytes of it)")
                return
            buffer += chunk
            if self._sink.target_counts() != self._filter.counts:
                self._filter.update(self._sink.targets())
            pos, size = 0, len(buffer)
            while size - pos >= COMMON_HEADER.size:
                pos = self._pass_over(router, buffer, pos, size)
                if size - pos < COMMON_HEADER.size:
                    break
                length = message_length(buffer, pos)
                if size - pos < length:
                    break
                self._handle(router, decode(bytes(buffer[pos:pos + length])))
                pos += length
            del buffer[:pos]
            self._sink.flush()

    def _forget_sessions(self, collector: str, counters: RouterCounters) -> None:
        """A router back (or connecting again) re-sends a Peer Up for every session it has: the earlier ones end.

        Its peers' routes were kept while it was away (stale, not withdrawn);
        a peer it no longer has would otherwise keep them for good.
        """
        if not counters.peers_up:
            return
        assert self._sink is not None
        time = max(self._clock(), self._sink.data_time)
        self._sink.apply([PeerStateChange(time, Peer(collector, address, asn), FsmState.ESTABLISHED, FsmState.IDLE)
                          for address, asn in sorted(counters.peers_up)])
        counters.peers_up.clear()
        self._sink.flush()

    def _status(self, collector: str, state: FeedState) -> None:
        assert self._sink is not None
        now = self._clock()
        self._sink.apply([SourceStatus(max(now, self._sink.data_time), self.settings.name, state,
                                       collector=collector)])
        self._sink.flush()

    def _pass_over(self, router: RouterState, buffer: bytearray, pos: int, end: int) -> int:
        """Pass over the Route Monitoring messages from ``buffer[pos]`` on that have nothing for the core.

        The fast path of a full table, where most messages are a route of a
        prefix nobody watches: it reads their headers and prefixes in place,
        counts what :meth:`_handle` would (the message, the router's clock
        judged, the prefixes filtered, or the message of a stream not read),
        and returns where the first other message starts (another type, a
        prefix kept, End-of-RIB, damage, or not all there yet), counting
        nothing of it: ``message_length``, ``decode`` and ``_handle`` read it.

        One loop over a run of messages, its lookups made once, each
        message's bookkeeping :meth:`_received` and :meth:`_judged` written
        out: with ``route_monitoring_at``'s single unpack, 2.8 us of CPU a
        message where a method called per message took 3.4 us (400,000
        unwatched messages of bench_bmp.py's table, in process, alternating
        runs); the whole station is in bench/RESULTS.md (BMP station).
        """
        clock, counters, seen_by = self._clock, self.counters, router.by_identity
        collector, formats, guard = router.collector, router.formats, self.guard
        router_counters = self.router_counters[collector]
        passes_over = router.updates.passes_over
        while True:
            found = route_monitoring_at(buffer, pos, end)
            if found is None:
                return pos
            length, raw, timestamp, update_length = found
            seen = seen_by.get(raw)
            if seen is None:
                seen = router.session_named(raw)
                if seen is None:
                    return pos
            update = pos + UPDATE_AT
            if seen.routes_read and not passes_over(buffer, update + BGP_HEADER_SIZE, update + update_length,
                                                    formats.get(seen.key, DEFAULT_FORMAT)[1]):
                return pos
            now = clock()
            counters.message(now, now, collector)
            router_counters.messages += 1
            router_counters.last_message = router_counters.received = now
            if not seen.routes_read:
                counters.ignored["other policy or RIB"] += 1
            elif timestamp:  # as _judged
                guard.at_wall_clock(now)
                if timestamp > guard.latest:
                    counters.malformed += 1
                guard.judge(timestamp)
            pos += length

    def _received(self, router: RouterState) -> float:
        """Count one message of ``router``, received now; returns the wall clock."""
        now = self._clock()
        self.counters.message(now, now, router.collector)
        counters = self.router_counters[router.collector]
        counters.messages += 1
        counters.last_message = counters.received = now
        return now

    def _handle(self, router: RouterState, message: BmpMessage) -> None:
        now = self._received(router)
        counters = self.router_counters[router.collector]
        kind, peer = message.kind, message.peer
        if kind == MessageType.INITIATION:
            router.info = {name: message.tlvs[code].decode(errors="replace")
                           for code, name in ((1, "sysDescr"), (2, "sysName")) if code in message.tlvs}
            return
        if peer is None:
            self.skipped[MessageType(kind).name if kind <= MessageType.ROUTE_MIRRORING else f"type {kind}"] += 1
            return
        seen = router.sessions.get(peer)
        if seen is None:
            seen = router.session(peer)
        if not (seen.routes_read if kind == MessageType.ROUTE_MONITORING else seen.session_read):
            self.counters.ignored["other policy or RIB"] += 1
            return
        time = self._judged(message.time, now)
        session, key = seen.peer, seen.key
        assert self._sink is not None
        if kind == MessageType.PEER_UP:
            assert message.sent_open is not None and message.received_open is not None
            router.formats[key] = peer_format(message.sent_open, message.received_open)
            families = table_families(message.sent_open, message.received_open)
            if families:
                router.initial_table[key] = families
            else:  # nothing routewatch reads: no End-of-RIB to wait for, the peer settles as after any reset
                router.initial_table.pop(key, None)
            counters.peers_up.add(key)
            self._sink.apply([PeerStateChange(time, session, FsmState.ESTABLISHED, FsmState.IDLE),
                              PeerStateChange(time, session, FsmState.OPENCONFIRM, FsmState.ESTABLISHED)])
        elif kind == MessageType.PEER_DOWN:
            router.formats.pop(key, None)
            router.initial_table.pop(key, None)
            counters.peers_up.discard(key)
            self._sink.apply([PeerStateChange(time, session, FsmState.ESTABLISHED, FsmState.IDLE)])
        elif kind == MessageType.ROUTE_MONITORING:
            self._route_monitoring(router, message.body, peer, session, time)
        else:
            self.skipped[MessageType(kind).name] += 1

    def _judged(self, timestamp: float, now: float) -> float:
        """The router's timestamp, or the wall clock when it has none or is too far ahead (counted)."""
        if not timestamp:
            return now
        guard = self.guard
        guard.at_wall_clock(now)
        if timestamp > guard.latest:  # judge() counts it as clock skew (a wall clock is set): malformed too
            self.counters.malformed += 1  # not guard.skewed before and after: 0.46 -> 0.20 us a message (timeit)
        return guard.judge(timestamp)

    def _route_monitoring(self, router: RouterState, update: bytes, peer: PerPeerHeader, session: Peer,
                          time: float) -> None:
        """One UPDATE: routes of a family's initial table count at once; the last End-of-RIB completes the table."""
        assert self._sink is not None
        key = (peer.address, peer.asn)
        length = int.from_bytes(update[16:18], "big")
        awaited = router.initial_table.get(key)
        family = end_of_rib_family(update, length)
        if family is not None:
            if awaited is not None and family in awaited:
                awaited.discard(family)
                self.router_counters[router.collector].end_of_ribs += 1
                if not awaited:
                    del router.initial_table[key]
                    self._sink.apply([PeerStateChange(time, session, FsmState.OPENCONFIRM, FsmState.ESTABLISHED,
                                                      table_complete=True)])
            return
        as_size, add_path = router.formats.get(key, DEFAULT_FORMAT)
        if peer.two_byte_as_path:
            as_size = 2
        events = router.updates.decode(update, 19, length, time, session, as_size, add_path)
        if not events:
            return
        if not awaited:
            self._sink.apply(events)
            return
        first = [e for e in events if of_families(e, awaited)]  # of families still sending their first table
        if first:
            self._sink.apply(first, established=True)
        if len(first) < len(events):
            self._sink.apply([e for e in events if not of_families(e, awaited)])
