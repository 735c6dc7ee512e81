"""A BMP station (RFC 7854): routers connect to routewatch and stream what they and their peers see.

Semantics in the core (DESIGN.md, "Router feeds"):

- each (router, monitored peer) is a peer of the collector named after the
  router (its address), so baselines and visibility work as for RIS peers;
- Peer Down is a session going down, never a withdrawal; Peer Up a session
  coming up (its earlier routes are dropped first: the router re-sends what
  the peer holds, and the peer rejoins the baseline once it has);
- a router's TCP session closing makes its collector stale (its peers count
  for nothing, nothing is withdrawn) until the router is back;
- one stream per peer: the configured ``policy`` picks pre-policy, post-policy
  or Loc-RIB (RFC 9069) messages; the others, and Adj-RIB-Out (RFC 8671), are
  counted and skipped, so pre- and post-policy views of one peer are not two
  peers.

BMP has no authentication: only listed router addresses are accepted (others
are refused and counted). A message over the size cap, a truncated or corrupt
one resets that router's connection, counted, never the process.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter

from routewatch.config.sources import BmpSource
from routewatch.model import FeedState, FsmState, Peer, PeerStateChange, SourceStatus
from routewatch.sources.base import CoreSink, SourceContext
from routewatch.sources.bgpwire.attributes import AttributeDecoder, MalformedRecord
from routewatch.sources.bgpwire.update import UpdateDecoder
from routewatch.sources.bmp.messages import (
    COMMON_HEADER,
    BmpMessage,
    MalformedBmp,
    MessageType,
    OpenCapabilities,
    PeerType,
    PerPeerHeader,
    decode,
    message_length,
)
from routewatch.sources.health import FeedCounters, SourceHealth
from routewatch.sources.mrt.records import MrtStats

log = logging.getLogger(__name__)

STALE_AFTER = 3600.0
"""A connected router that sent nothing for this long is reported stale (routers send statistics regularly)."""


class _Router:
    """One router connection's decoding state: its peers' negotiated UPDATE formats."""

    def __init__(self, collector: str, attributes: AttributeDecoder, stats: MrtStats) -> None:
        self.collector = collector
        self.updates = UpdateDecoder(attributes, None, stats)
        self.formats: dict[tuple[str, int], tuple[int, bool]] = {}  # (peer, asn) -> (AS size, ADD-PATH)
        self.info: dict[str, str] = {}


def _format(sent: OpenCapabilities, received: OpenCapabilities) -> tuple[int, bool]:
    """How the peer's UPDATEs read: 4-byte AS numbers when both OPENs say so; ADD-PATH when the peer sends it."""
    add_path = any(mode & 2 and sent.add_path.get(family, 0) & 1 for family, mode in received.add_path.items())
    return (4 if sent.four_byte_as and received.four_byte_as else 2), add_path


class BmpStation:
    """The ``bmp`` source: listens, accepts listed routers, turns their messages into events."""

    def __init__(self, settings: BmpSource, context: SourceContext) -> None:
        self.settings = settings
        self._clock = context.clock
        self.counters = FeedCounters(settings.name)
        self.allowed = [ipaddress.ip_network(r, strict=False) for r in settings.routers]
        self.refused = 0
        self.skipped: Counter[str] = Counter()
        self.routers: dict[str, _Router] = {}
        self._attributes = AttributeDecoder()
        self._stats = MrtStats()
        self._sink: CoreSink | None = None

    def health(self) -> SourceHealth:
        return self.counters.snapshot(self._clock(), STALE_AFTER)

    async def run(self, sink: CoreSink, stop: asyncio.Event) -> None:
        self._sink = sink
        server = await asyncio.start_server(self._connection, self.settings.listen, self.settings.port,
                                            limit=2 * COMMON_HEADER.size)
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
        router = self.routers[address] = _Router(address, self._attributes, self._stats)
        self._status(address, FeedState.UP)
        log.info("%s: router %s connected", self.settings.name, address)
        try:
            while True:
                try:
                    header = await reader.readexactly(COMMON_HEADER.size)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        raise MalformedBmp("connection closed inside a message header") from None
                    break
                length = message_length(header)
                body = await reader.readexactly(length - COMMON_HEADER.size)
                self._handle(router, decode(header + body))
        except (MalformedBmp, MalformedRecord, asyncio.IncompleteReadError) as exc:
            self.counters.malformed += 1
            log.warning("%s: router %s sent a damaged message (%s): connection reset", self.settings.name,
                        address, exc)
        except ConnectionError:
            pass
        finally:
            writer.close()
            self._status(address, FeedState.STALE)
            log.info("%s: router %s disconnected: its peers are stale until it is back", self.settings.name,
                     address)

    def _status(self, collector: str, state: FeedState) -> None:
        assert self._sink is not None
        now = self._clock()
        self._sink.apply([SourceStatus(max(now, self._sink.data_time), self.settings.name, state,
                                       collector=collector)])
        self._sink.flush()

    def _handle(self, router: _Router, message: BmpMessage) -> None:
        now = self._clock()
        self.counters.message(now, now, router.collector)
        kind, peer = message.kind, message.peer
        if kind == MessageType.INITIATION:
            router.info = {name: message.tlvs[code].decode(errors="replace")
                           for code, name in ((1, "sysDescr"), (2, "sysName")) if code in message.tlvs}
            return
        if peer is None:
            self.skipped[MessageType(kind).name if kind <= MessageType.ROUTE_MIRRORING else f"type {kind}"] += 1
            return
        if not self._wanted(peer, kind == MessageType.ROUTE_MONITORING):
            self.counters.ignored["other policy or RIB"] += 1
            return
        time = peer.timestamp or now
        session = Peer(router.collector, peer.address, peer.asn)
        assert self._sink is not None
        if kind == MessageType.PEER_UP:
            assert message.sent_open is not None and message.received_open is not None
            router.formats[(peer.address, peer.asn)] = _format(message.sent_open, message.received_open)
            self._sink.apply([PeerStateChange(time, session, FsmState.ESTABLISHED, FsmState.IDLE),
                              PeerStateChange(time, session, FsmState.OPENCONFIRM, FsmState.ESTABLISHED)])
        elif kind == MessageType.PEER_DOWN:
            router.formats.pop((peer.address, peer.asn), None)
            self._sink.apply([PeerStateChange(time, session, FsmState.ESTABLISHED, FsmState.IDLE)])
        elif kind == MessageType.ROUTE_MONITORING:
            as_size, add_path = router.formats.get((peer.address, peer.asn), (4, False))
            if peer.two_byte_as_path:
                as_size = 2
            length = int.from_bytes(message.body[16:18], "big")
            events = router.updates.decode(message.body, 19, length, time, session, as_size, add_path)
            if events:
                self._sink.apply(events)
        else:
            self.skipped[MessageType(kind).name] += 1
            return
        self._sink.flush()

    def _wanted(self, peer: PerPeerHeader, routes: bool) -> bool:
        """The one stream per peer the configured policy reads (Adj-RIB-Out never: it is what the router sends).

        Session messages (Peer Up, Peer Down) concern the peer whatever the
        policy; only Loc-RIB's own pseudo-peer is told apart.
        """
        loc_rib = self.settings.policy == "loc-rib"
        if (peer.peer_type == PeerType.LOC_RIB) != loc_rib:
            return False
        if not routes or loc_rib:
            return True
        return not peer.adj_rib_out and peer.post_policy == (self.settings.policy == "post-policy")
