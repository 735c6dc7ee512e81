"""Decoding of single MRT records (BGP4MP, TABLE_DUMP, TABLE_DUMP_V2) into events.

Each method returns the complete list of events of one record, so that a record
found malformed half-way yields nothing at all rather than half its routes.
The prefix filter is applied to NLRI decoded as plain ints, before any Prefix,
attribute or event object exists: on a replay that watches a few thousand
prefixes almost every element takes only that short path. A replay that
watches ASNs filters with the core's watch set instead
(:mod:`~routewatch.sources.mrt.discovery`): a route whose prefix is not
relevant is kept when its AS path could make the core watch the prefix, and
what neither keeps is not dropped but deferred
(:mod:`~routewatch.sources.mrt.deferred`): the prefix may become relevant
before the core reaches the route.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from routewatch.model import Event, Peer, PeerStateChange, RouteAnnouncement
from routewatch.sources.bgpwire.attributes import (
    AFI_IPV4,
    AFI_IPV6,
    MP_REACH_NLRI,
    AttributeDecoder,
    MalformedRecord,
    decode_nlri,
    parse_mp_reach,
    scan_attributes,
)
from routewatch.sources.bgpwire.update import PrefixFilter, UpdateDecoder
from routewatch.sources.mrt.deferred import DeferredRecord, DeferredRoute, PrefixKey
from routewatch.sources.mrt.discovery import DiscoveryFilter, PathAwareUpdates

Element = Event | DeferredRoute
"""What decoding a record gives: events, and with a discovery filter the routes it deferred."""

BGP4MP = 16
BGP4MP_ET = 17
TABLE_DUMP = 12
TABLE_DUMP_V2 = 13

BGP_MESSAGE_TYPES = {1: "OPEN", 2: "UPDATE", 3: "NOTIFICATION", 4: "KEEPALIVE", 5: "ROUTE-REFRESH"}

# BGP4MP subtype -> (4-byte ASNs, ADD-PATH). The *_LOCAL subtypes carry what the
# collector itself sent, not what the peer announced, and are not routes of the peer.
_MESSAGE_SUBTYPES = {1: (False, False), 4: (True, False), 8: (False, True), 9: (True, True)}
_LOCAL_SUBTYPES = frozenset((6, 7, 10, 11))
_STATE_SUBTYPES = {0: False, 5: True}
# TABLE_DUMP_V2 RIB subtype -> (AFI, SAFI, ADD-PATH).
_RIB_SUBTYPES = {
    2: (AFI_IPV4, 1, False),
    3: (AFI_IPV4, 2, False),
    4: (AFI_IPV6, 1, False),
    5: (AFI_IPV6, 2, False),
    8: (AFI_IPV4, 1, True),
    9: (AFI_IPV4, 2, True),
    10: (AFI_IPV6, 1, True),
    11: (AFI_IPV6, 2, True),
}
PEER_INDEX_TABLE = 1
_VERSION = {AFI_IPV4: 4, AFI_IPV6: 6}
_ADDRESS_SIZE = {AFI_IPV4: 4, AFI_IPV6: 16}

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_BGP4MP_AS2 = struct.Struct(">HHHH")
_BGP4MP_AS4 = struct.Struct(">IIHH")
_STATES = struct.Struct(">HH")
_RIB_ENTRY = struct.Struct(">HIH")
_RIB_ENTRY_ADDPATH = struct.Struct(">HIIH")


@dataclass(slots=True)
class MrtStats:
    """What a read saw; a mutable counter the caller may pass in and inspect.

    ``elements`` counts route elements (one per prefix per UPDATE, one per RIB
    entry), announced or withdrawn, whether or not the prefix filter accepted
    them; ``filtered`` is the part it rejected (a route deferred is counted
    there once the replay has judged it irrelevant). Session state changes are
    records but not elements.
    """

    records: int = 0
    elements: int = 0
    filtered: int = 0
    skipped_messages: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)
    malformed: int = 0
    bytes_read: int = 0
    last_time: float | None = None  # the newest record timestamp read: where the data ends, filtered or not

    def skip(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1


class RecordDecoder:
    """Turns the records of one file into events; holds that file's peer index."""

    def __init__(
        self,
        collector: str,
        prefix_filter: PrefixFilter | None,
        stats: MrtStats,
        attributes: AttributeDecoder,
        discovery: DiscoveryFilter | None = None,
        report_damage: Callable[[int, Exception], None] | None = None,
    ) -> None:
        """With ``discovery`` (which replaces ``prefix_filter``), what it rejects is deferred;
        ``report_damage(offset, exc)`` then reports a deferred record found malformed when it is decoded at last."""
        self.collector = collector
        self.accept = prefix_filter if discovery is None else discovery.prefix_relevant
        self.discovery = discovery
        self.stats = stats
        self.attrs = attributes
        self.updates = UpdateDecoder(attributes, self.accept, stats)
        self.path_aware = None if discovery is None else PathAwareUpdates(
            attributes, discovery, stats, MrtStats(), self._deferred)
        self._report_damage = report_damage or _ignore_damage
        self._offset = 0
        self._peers: dict[tuple[bytes, int], Peer] = {}
        self._peer_index: list[Peer] = []

    def decode(self, data: bytes, start: int, end: int, ts: int, mrt_type: int, subtype: int,
               offset: int = 0) -> Sequence[Element]:
        """The record's events; ``offset`` (of the record in the file) names it if a deferred part is damaged."""
        self._offset = offset
        if mrt_type == BGP4MP:
            return self._bgp4mp(data, start, end, float(ts), subtype)
        if mrt_type == BGP4MP_ET:
            if end - start < 4:
                raise MalformedRecord("BGP4MP_ET record without microseconds")
            (micros,) = _U32.unpack_from(data, start)
            return self._bgp4mp(data, start + 4, end, ts + micros / 1e6, subtype)
        if mrt_type == TABLE_DUMP_V2:
            if subtype == PEER_INDEX_TABLE:
                self._peer_index_table(data, start, end)
                return []
            rib = _RIB_SUBTYPES.get(subtype)
            if rib is not None:
                return self._rib_v2(data, start, end, float(ts), *rib)
        elif mrt_type == TABLE_DUMP and subtype in (1, 2, 3, 4):
            return self._table_dump(data, start, end, float(ts), subtype)
        self.stats.skip(self.stats.unsupported, f"MRT type {mrt_type} subtype {subtype}")
        return []

    def peer(self, address: bytes, asn: int) -> Peer:
        key = (address, asn)
        peer = self._peers.get(key)
        if peer is None:
            peer = Peer(self.collector, self.attrs.address(address), asn)
            self._peers[key] = peer
        return peer

    # -- BGP4MP ---------------------------------------------------------------

    def _bgp4mp(self, data: bytes, pos: int, end: int, time: float, subtype: int) -> Sequence[Element]:
        message = _MESSAGE_SUBTYPES.get(subtype)
        as4 = message[0] if message is not None else _STATE_SUBTYPES.get(subtype)
        if as4 is None:
            key = "LOCAL" if subtype in _LOCAL_SUBTYPES else f"BGP4MP subtype {subtype}"
            self.stats.skip(self.stats.skipped_messages if subtype in _LOCAL_SUBTYPES else self.stats.unsupported, key)
            return []
        header = _BGP4MP_AS4 if as4 else _BGP4MP_AS2
        if pos + header.size > end:
            raise MalformedRecord("truncated BGP4MP header")
        peer_as, _local_as, _ifindex, afi = header.unpack_from(data, pos)
        size = _ADDRESS_SIZE.get(afi)
        if size is None:
            raise MalformedRecord(f"BGP4MP peer address family {afi}")
        pos += header.size
        if pos + 2 * size > end:
            raise MalformedRecord("truncated BGP4MP header")
        peer = self.peer(data[pos : pos + size], peer_as)
        pos += 2 * size
        if message is None:
            if pos + 4 > end:
                raise MalformedRecord("truncated BGP4MP state change")
            old, new = _STATES.unpack_from(data, pos)
            return [PeerStateChange(time, peer, old, new)]
        if pos + 19 > end:
            raise MalformedRecord("truncated BGP message header")
        (length,) = _U16.unpack_from(data, pos + 16)
        kind = data[pos + 18]
        if length < 19 or pos + length > end:
            raise MalformedRecord(f"BGP message length {length} does not fit its record")
        if kind != 2:
            self.stats.skip(self.stats.skipped_messages, BGP_MESSAGE_TYPES.get(kind, f"type {kind}"))
            return []
        if self.path_aware is None:
            return self.updates.decode(data, pos + 19, pos + length, time, peer, 4 if as4 else 2, message[1])
        return self.path_aware.decode(data, pos + 19, pos + length, time, peer, 4 if as4 else 2, message[1])

    def damaged(self, offset: int, exc: Exception) -> None:
        """A deferred record, decoded at last, is malformed: reported as one found so on reading."""
        self._report_damage(offset, exc)

    def _deferred(self, decode: Callable[..., list[Event]], args: tuple[object, ...], keys: list[PrefixKey],
                  time: float) -> list[DeferredRoute]:
        """The routes of the record being read, held back: ``decode(*args)`` gives them all, ``keys`` their prefixes."""
        assert self.discovery is not None
        record = DeferredRecord(self, decode, args, keys, self._offset, self.discovery.version)
        return [DeferredRoute(time, record, index) for index in range(len(keys))]

    # -- RIBs -----------------------------------------------------------------

    def _peer_index_table(self, data: bytes, pos: int, end: int) -> None:
        if pos + 8 > end:
            raise MalformedRecord("truncated PEER_INDEX_TABLE")
        (name_len,) = _U16.unpack_from(data, pos + 4)
        pos += 6 + name_len
        if pos + 2 > end:
            raise MalformedRecord("truncated PEER_INDEX_TABLE")
        (count,) = _U16.unpack_from(data, pos)
        pos += 2
        peers: list[Peer] = []
        for _ in range(count):
            peer_type = data[pos]
            size = 16 if peer_type & 1 else 4
            pos += 5  # type, BGP identifier
            address = data[pos : pos + size]
            pos += size
            if peer_type & 2:
                (asn,) = _U32.unpack_from(data, pos)
                pos += 4
            else:
                (asn,) = _U16.unpack_from(data, pos)
                pos += 2
            if pos > end:
                raise MalformedRecord("PEER_INDEX_TABLE overruns its record")
            peers.append(self.peer(address, asn))
        self._peer_index = peers

    def _rib_v2(self, data: bytes, pos: int, end: int, time: float, afi: int, safi: int,
                add_path: bool) -> Sequence[Element]:
        if pos + 5 > end:
            raise MalformedRecord("truncated RIB record")
        stop = pos + 5 + ((data[pos + 4] + 7) >> 3)
        if stop + 2 > end:
            raise MalformedRecord("truncated RIB record")
        nlri = decode_nlri(data, pos + 4, stop, afi, False)
        (count,) = _U16.unpack_from(data, stop)
        stats = self.stats
        _, plen, net = nlri[0]
        key = (_VERSION[afi], net, plen)
        accepted = self.accept is None or self.accept(*key)
        discovery = self.discovery
        if not accepted and discovery is None:
            _check_entry_lengths(data, stop + 2, end, count, _RIB_ENTRY_ADDPATH.size if add_path else _RIB_ENTRY.size)
            stats.elements += count
            stats.filtered += count
            return []
        entries = self._rib_entries(data, stop + 2, end, count, add_path)
        stats.elements += count
        peers = self._peer_index
        if not accepted and discovery is not None:  # not accepted means a discovery filter here
            route, attrs = discovery.route, self.attrs
            for _, _, start, stop in entries:
                if route(attrs, data, start, stop, 4):
                    break
            else:
                args = (self, data, entries, peers, time, afi, plen, net, safi)
                return self._deferred(RecordDecoder._rib_events, args, [key] * count, time)
        return self._rib_events(data, entries, peers, time, afi, plen, net, safi)

    def _rib_events(self, data: bytes, entries: list[tuple[int, int, int, int]], peers: list[Peer], time: float,
                    afi: int, plen: int, net: int, safi: int) -> list[Event]:
        """The announcements of a RIB record's entries: (peer index, path id, attributes start, end)."""
        prefix = self.attrs.prefix(afi, plen, net)
        events: list[Event] = []
        for index, path_id, start, stop in entries:
            peer = peers[index]
            spans = scan_attributes(data, start, stop)
            mp_next_hop = None
            span = spans.get(MP_REACH_NLRI)
            if span is not None:
                mp_next_hop = parse_mp_reach(data, *span).next_hop
            attrs = self.attrs.decode(data, spans, 4, mp_next_hop)
            events.append(
                RouteAnnouncement(
                    time,
                    peer,
                    prefix,
                    attrs.as_path,
                    safi,
                    path_id,
                    attrs.origin,
                    attrs.next_hop,
                    attrs.communities,
                    attrs.large_communities,
                )
            )
        return events

    def _rib_entries(self, data: bytes, pos: int, end: int, count: int,
                     add_path: bool) -> list[tuple[int, int, int, int]]:
        """(peer index, path id, attributes start, end) of each entry, all checked to fit the record.

        Checked before anything is counted, filtered or not: a damaged entry
        count must not be reported as thousands of elements.
        """
        entry = _RIB_ENTRY_ADDPATH if add_path else _RIB_ENTRY
        peers = len(self._peer_index)
        entries = []
        for _ in range(count):
            if pos + entry.size > end:
                raise MalformedRecord("RIB entry overruns its record")
            if add_path:
                index, _originated, path_id, attr_len = entry.unpack_from(data, pos)
            else:
                index, _originated, attr_len = entry.unpack_from(data, pos)
                path_id = 0
            pos += entry.size
            if pos + attr_len > end:
                raise MalformedRecord("RIB entry overruns its record")
            if index >= peers:
                raise MalformedRecord(f"RIB entry names peer {index} of a {peers}-peer index table")
            entries.append((index, path_id, pos, pos + attr_len))
            pos += attr_len
        return entries

    def _table_dump(self, data: bytes, pos: int, end: int, time: float, subtype: int) -> Sequence[Element]:
        afi = AFI_IPV4 if subtype in (1, 3) else AFI_IPV6
        asn_size = 4 if subtype in (3, 4) else 2
        size = _ADDRESS_SIZE[afi]
        bits = size * 8
        pos += 4  # view number, sequence number
        net = int.from_bytes(data[pos : pos + size], "big")
        plen = data[pos + size]
        if plen > bits or pos + 2 * size + 8 + asn_size > end:
            raise MalformedRecord("malformed TABLE_DUMP entry")
        net &= ~((1 << (bits - plen)) - 1)
        pos += size + 6  # prefix length, status, originated time
        address = data[pos : pos + size]
        pos += size
        if asn_size == 4:
            (asn,) = _U32.unpack_from(data, pos)
        else:
            (asn,) = _U16.unpack_from(data, pos)
        (attr_len,) = _U16.unpack_from(data, pos + asn_size)
        pos += asn_size + 2
        if pos + attr_len > end:
            raise MalformedRecord("TABLE_DUMP attributes overrun the record")
        self.stats.elements += 1
        key = (_VERSION[afi], net, plen)
        if self.accept is not None and not self.accept(*key):
            if self.discovery is None:
                self.stats.filtered += 1
                return []
            if not self.discovery.route(self.attrs, data, pos, pos + attr_len, asn_size):
                args = (self, data, pos, pos + attr_len, time, self.peer(address, asn), afi, plen, net, asn_size)
                return self._deferred(RecordDecoder._table_dump_events, args, [key], time)
        return self._table_dump_events(data, pos, pos + attr_len, time, self.peer(address, asn), afi, plen, net,
                                       asn_size)

    def _table_dump_events(self, data: bytes, start: int, stop: int, time: float, peer: Peer, afi: int, plen: int,
                           net: int, asn_size: int) -> list[Event]:
        """The one announcement of a TABLE_DUMP entry, from its attributes in ``data[start:stop]``."""
        spans = scan_attributes(data, start, stop)
        span = spans.get(MP_REACH_NLRI)
        mp_next_hop = parse_mp_reach(data, *span).next_hop if span is not None else None
        attrs = self.attrs.decode(data, spans, asn_size, mp_next_hop)
        return [
            RouteAnnouncement(
                time,
                peer,
                self.attrs.prefix(afi, plen, net),
                attrs.as_path,
                1,
                0,
                attrs.origin,
                attrs.next_hop,
                attrs.communities,
                attrs.large_communities,
            )
        ]


def _check_entry_lengths(data: bytes, pos: int, end: int, count: int, size: int) -> None:
    """Check that ``count`` RIB entries of ``size``-byte headers fit the record, reading only their lengths.

    The elements of a record no one watches are counted, not decoded; walking
    their lengths is what keeps a damaged entry count from being reported as
    thousands of elements. It costs one step per entry, against about four for
    building the entries (bench_replay: the full-table RIB read 1.6x slower with them).
    """
    last = size - 2  # the attribute length ends each entry header
    for _ in range(count):
        if pos + size > end:
            raise MalformedRecord("RIB entry overruns its record")
        pos += size + (data[pos + last] << 8 | data[pos + last + 1])
    if pos > end:
        raise MalformedRecord("RIB entry overruns its record")


def _ignore_damage(offset: int, exc: Exception) -> None:
    """The default for readers that defer nothing."""
