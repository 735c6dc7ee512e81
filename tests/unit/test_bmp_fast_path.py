"""The station's fast path for routes nobody watches changes nothing but the time it takes.

A Route Monitoring message whose prefixes the filter rejects, every one, is
passed over after its headers and prefixes are read (``_passed_over``); any
other message is decoded whole and handled (``decode``, ``_handle``). These
tests read random streams, damaged ones too, both ways: through the station's
reader, and message by message through ``decode`` and ``_handle`` alone. The
events, every counter and how the stream ended must be the same. The UPDATEs
are written here from RFC 4271, RFC 4760 and RFC 7911 (ADD-PATH) layouts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import itertools
import struct
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.config.schema import parse_config
from routewatch.model import Event, parse_prefix
from routewatch.sources.base import SourceContext, WatchTargets
from routewatch.sources.bmp.messages import MalformedBmp, decode, message_length
from routewatch.sources.bmp.router import RouterCounters, RouterState
from routewatch.sources.bmp.station import BmpStation
from tests.support.bmp_writer import end_of_rib, message, open_message, peer_down, per_peer, statistics

ROUTER = "192.0.2.254"
CONFIG = parse_config({"sources": [{"type": "bmp", "port": 11019, "routers": [ROUTER]}]})
TARGETS = WatchTargets((parse_prefix("198.51.100.0/24"), parse_prefix("2001:db8::/32")),
                       (ipaddress.ip_address("192.0.2.53"),))
KEPT4 = ("198.51.100.0/24", "198.51.100.128/25", "192.0.2.0/24", "192.0.0.0/8", "0.0.0.0/0")  # watched, over 192.0.2.53
OTHER4 = ("10.0.0.0/8", "203.0.113.0/24", "203.0.113.7/32", "100.64.0.0/10", "8.8.8.0/24", "1.0.0.0/31")
KEPT6 = ("2001:db8::/32", "2001:db8:1::/48")
OTHER6 = ("2001:db9::/32", "2001::/16", "2a00::/12", "::/0", "2a00:1::1/128")
IPV4 = st.one_of(st.sampled_from(OTHER4), st.sampled_from(OTHER4), st.sampled_from(OTHER4), st.sampled_from(KEPT4))
IPV6 = st.one_of(st.sampled_from(OTHER6), st.sampled_from(OTHER6), st.sampled_from(KEPT6))
PEERS = {"192.0.2.1": 64501, "192.0.2.2": 64502, "2001:db8::3": 64503}
ADD_PATH_PEER = "192.0.2.2"  # its Peer Up negotiates ADD-PATH for both unicast families
FAMILIES = [(2, 1), (2, 2), (1, 1), (2, 128), (25, 65)]  # the last two are read by no source


def attribute(code: int, value: bytes, flags: int = 0x40) -> bytes:
    if flags & 0x10:
        return struct.pack(">BBH", flags, code, len(value)) + value
    return struct.pack(">BBB", flags, code, len(value)) + value


def nlri(prefixes: Sequence[str], add_path: bool) -> bytes:
    out = b""
    for number, text in enumerate(prefixes, 1):
        network = ipaddress.ip_network(text)
        out += struct.pack(">I", number) if add_path else b""
        out += bytes([network.prefixlen]) + network.network_address.packed[:(network.prefixlen + 7) // 8]
    return out


@st.composite
def route_monitoring(draw: st.DrawFn) -> bytes:
    """A Route Monitoring message: IPv4 and multiprotocol routes, any flags, any timestamp, the UPDATE cut short."""
    address = draw(st.sampled_from(sorted(PEERS)))
    add_path = address == ADD_PATH_PEER and draw(st.booleans())  # also the peer sending without, wrongly
    ipv4, ipv6 = (st.sampled_from(OTHER4), st.sampled_from(OTHER6)) if draw(st.booleans()) else (IPV4, IPV6)
    family = st.one_of(st.just((2, 1)), st.sampled_from(FAMILIES))
    withdrawn, announced = draw(st.lists(ipv4, max_size=3)), draw(st.lists(ipv4, max_size=3))
    attributes = attribute(1, b"\0", draw(st.sampled_from([0x40, 0x50])))
    attributes += attribute(2, struct.pack(">BBII", 2, 2, PEERS[address], 64500), 0x50)
    if announced:
        attributes += attribute(3, bytes([192, 0, 2, 1]))
    if draw(st.booleans()):
        afi, safi = draw(family)
        gone = nlri(draw(st.lists(ipv6, max_size=3)), add_path)
        attributes += attribute(15, struct.pack(">HB", afi, safi) + gone, draw(st.sampled_from([0x80, 0x90])))
    if draw(st.booleans()):
        afi, safi = draw(family)
        snpa = b"\x01\x02\xab" if draw(st.booleans()) else b"\x00"
        value = struct.pack(">HBB", afi, safi, 16) + bytes(16) + snpa
        attributes += attribute(14, value + nlri(draw(st.lists(ipv6, max_size=3)), add_path), 0x90)
    if draw(st.booleans()):
        attributes += attribute(6, b"")  # ATOMIC_AGGREGATE: empty, last
    body = struct.pack(">H", len(nlri(withdrawn, add_path))) + nlri(withdrawn, add_path)
    body += struct.pack(">H", len(attributes)) + attributes + nlri(announced, add_path)
    if draw(st.integers(0, 4)) == 0:
        body = body[:len(body) - draw(st.integers(1, 6))]
    update = b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body
    if draw(st.integers(0, 3)):
        peer = per_peer(address, PEERS[address])  # the stream read (pre-policy)
    else:
        peer = per_peer(address, PEERS[address], peer_type=draw(st.sampled_from([0, 3])),
                        post_policy=draw(st.booleans()), adj_rib_out=draw(st.booleans()))
    seconds = draw(st.sampled_from([1_700_000_000.5, 0.0, 2_000_000_000.0]))  # ahead of the clock: skew
    return message(0, peer[:-8] + struct.pack(">II", int(seconds), int(seconds % 1 * 1e6)) + update)


def peer_up_add_path(address: str, asn: int) -> bytes:
    both = [(1, 1, 3), (2, 1, 3)]
    local = bytes(12) + ipaddress.IPv4Address("127.0.0.1").packed + struct.pack(">HH", 179, 40000)
    families = [(1, 1), (2, 1)]
    opens = open_message(65000, add_path=both, families=families) + open_message(asn, add_path=both, families=families)
    return message(3, per_peer(address, asn) + local + opens)


FIELDS = (0, 1, 4, 5, 6, 64, 65, 66, 67, 68, 69, 70)
"""In Route Monitoring: BMP version, length and type, peer type; BGP length and type, UPDATE's first two lengths."""
OTHERS = [peer_down("192.0.2.1", 64501), statistics("192.0.2.1", 64501), end_of_rib("192.0.2.1", 64501),
          end_of_rib("2001:db8::3", 64503, afi=2), peer_up_add_path(ADD_PATH_PEER, 64502)]


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """Peer Ups (not always), then Route Monitoring mostly; sometimes a message with bytes damaged, or a cut."""
    parts = [peer_up_add_path(address, asn) for address, asn in PEERS.items() if draw(st.booleans())]
    parts += draw(st.lists(st.one_of(route_monitoring(), route_monitoring(), st.sampled_from(OTHERS)),
                           min_size=1, max_size=12))
    if draw(st.booleans()):
        damaged = draw(st.integers(0, len(parts) - 1))
        part = bytearray(parts[damaged])
        fields = st.sampled_from([at for at in FIELDS if at < len(part)])
        update = st.integers(min(48, len(part) - 1), min(140, len(part) - 1))  # the BGP header and UPDATE's start
        for _ in range(draw(st.integers(1, 2))):
            part[draw(st.one_of(fields, update, st.integers(0, len(part) - 1)))] = draw(st.integers(0, 255))
        parts[damaged] = bytes(part)
    stream = b"".join(parts)
    return stream[:draw(st.integers(1, len(stream)))] if draw(st.integers(0, 9)) == 0 else stream


class Sink:
    """Keeps what the station applies, with whether it came as a table sent whole."""

    def __init__(self) -> None:
        self.applied: list[tuple[bool, list[Event]]] = []
        self.data_time = 0.0

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        self.applied.append((established, list(events)))

    def flush(self) -> None:
        pass

    def targets(self) -> WatchTargets:
        return TARGETS

    def target_counts(self) -> tuple[int, int]:
        return (len(TARGETS.prefixes), len(TARGETS.addresses))


def station() -> tuple[BmpStation, RouterState, Sink]:
    ticks = itertools.count()
    found = BmpStation(CONFIG.sources[0], SourceContext(CONFIG, clock=lambda: 1_700_000_100.0 + next(ticks)))
    sink = Sink()
    found._sink = sink  # type: ignore[assignment]
    found._writers[ROUTER] = object()  # type: ignore[assignment]
    found.router_counters[ROUTER] = RouterCounters(connected=True)
    router = RouterState(ROUTER, found._attributes, found._filter.accept, found._stats, found.settings.policy)
    return found, router, sink


def outcome(station: BmpStation, router: RouterState, sink: Sink, ended: str) -> tuple[object, ...]:
    counters = station.counters
    return (ended, sink.applied, counters.messages, counters.malformed, dict(counters.ignored),
            counters.last_message, counters.lag, dict(counters.collector_seen),
            dataclasses.astuple(station.router_counters[ROUTER]), dataclasses.astuple(station._stats),
            dict(station.guard.counts), dict(station.skipped), router.formats, router.initial_table)


def through_the_reader(stream: bytes) -> tuple[object, ...]:
    found, router, sink = station()

    async def read() -> None:
        reader = asyncio.StreamReader()
        reader.feed_data(stream)
        reader.feed_eof()
        await found._read(reader, found._writers[ROUTER], router)  # type: ignore[arg-type]

    try:
        asyncio.run(read())
        ended = "closed"
    except Exception as exc:  # noqa: BLE001 - whatever ends it must end the other reading the same way
        ended = type(exc).__name__
    return outcome(found, router, sink, ended)


def message_by_message(stream: bytes) -> tuple[object, ...]:
    found, router, sink = station()
    found._filter.update(TARGETS)
    pos = 0
    try:
        while len(stream) - pos >= 6:
            length = message_length(stream, pos)
            if len(stream) - pos < length:
                break
            found._handle(router, decode(stream[pos:pos + length]))
            pos += length
        if pos < len(stream):
            raise MalformedBmp("closed inside a message")
        ended = "closed"
    except Exception as exc:  # noqa: BLE001 - see through_the_reader
        ended = type(exc).__name__
    return outcome(found, router, sink, ended)


@settings(max_examples=400, deadline=None)
@given(streams())
def test_the_reader_gives_what_each_message_decoded_whole_gives(stream: bytes) -> None:
    assert through_the_reader(stream) == message_by_message(stream)


@settings(max_examples=300, deadline=None)
@given(route_monitoring(), st.sampled_from(FIELDS), st.integers(0, 255))
def test_a_route_monitoring_message_with_a_header_field_damaged_reads_the_same(
        update: bytes, at: int, value: int) -> None:
    damaged = bytearray(update)
    damaged[at] = value
    stream = b"".join(peer_up_add_path(address, asn) for address, asn in PEERS.items()) + bytes(damaged)
    assert through_the_reader(stream) == message_by_message(stream)


def test_only_messages_without_a_kept_prefix_are_passed_over() -> None:
    """Peer Up, then Route Monitoring: unwatched prefixes (passed over), a watched more-specific (read), unwatched."""
    attributes = attribute(1, b"\0") + attribute(2, struct.pack(">BBI", 2, 1, 64501), 0x50)
    attributes += attribute(3, bytes([192, 0, 2, 1]))
    messages = [peer_up_add_path("192.0.2.1", 64501)]
    for prefixes in (["10.0.0.0/8", "203.0.113.0/24"], ["198.51.100.128/25"], ["8.8.8.0/24"]):
        body = struct.pack(">HH", 0, len(attributes)) + attributes + nlri(prefixes, True)
        update = b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body
        messages.append(message(0, per_peer("192.0.2.1", 64501) + update))
    stream = bytearray(b"".join(messages))
    starts = list(itertools.accumulate(len(m) for m in messages))
    found, router, _ = station()
    found._filter.update(TARGETS)
    assert found._pass_over(router, stream, 0, len(stream)) == 0
    found._handle(router, decode(messages[0]))
    assert found._pass_over(router, stream, starts[0], len(stream)) == starts[1]
    assert (found._stats.elements, found._stats.filtered) == (2, 2)
    found._handle(router, decode(messages[2]))
    assert found._pass_over(router, stream, starts[2], len(stream)) == len(stream)
    assert (found._stats.elements, found._stats.filtered, found.counters.messages) == (4, 3, 4)
    ended, applied = through_the_reader(bytes(stream))[:2]
    assert ended == "closed"
    assert [str(e.prefix) for _, events in applied for e in events if hasattr(e, "prefix")] == ["198.51.100.128/25"]


def test_an_add_path_identifier_without_its_prefix_at_the_end_ends_the_reading_alike() -> None:
    """The last NLRI element cut after its path identifier, the UPDATE ending there, is no route passed over."""
    attributes = attribute(1, b"\0") + attribute(2, struct.pack(">BBI", 2, 1, 64502), 0x50)
    attributes += attribute(3, bytes([192, 0, 2, 1]))
    body = struct.pack(">HH", 0, len(attributes)) + attributes + nlri(["10.0.0.0/8"], True)[:4]
    update = b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body
    stream = peer_up_add_path(ADD_PATH_PEER, 64502) + message(0, per_peer(ADD_PATH_PEER, 64502) + update)
    reader = through_the_reader(stream)
    assert reader == message_by_message(stream)
    assert reader[2] == 2  # both messages counted before the reading ended
