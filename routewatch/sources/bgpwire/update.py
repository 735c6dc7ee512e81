"""One BGP UPDATE message body into events: shared by every source that reads BGP on the wire (MRT, BMP).

Returns the complete list of events of one UPDATE, so that an UPDATE found
malformed half-way yields nothing rather than half its routes. The prefix
filter is applied to NLRI decoded as plain ints, before any Prefix, attribute
or event object exists.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Protocol

from routewatch.model import Event, Peer, RouteAnnouncement, RouteWithdrawal
from routewatch.sources.bgpwire.attributes import (
    AFI_IPV4,
    AFI_IPV6,
    KNOWN_SAFIS,
    MP_REACH_NLRI,
    MP_UNREACH_NLRI,
    AttributeDecoder,
    MalformedRecord,
    Nlri,
    RouteAttributes,
    decode_nlri,
    parse_mp_reach,
    scan_attributes,
)

PrefixFilter = Callable[[int, int, int], bool]

_VERSION = {AFI_IPV4: 4, AFI_IPV6: 6}
_U16 = struct.Struct(">H")


def is_end_of_rib(data: bytes, pos: int, end: int) -> bool:
    """Is the UPDATE body ``data[pos:end]`` an End-of-RIB marker (RFC 4724)?

    IPv4 unicast's is an UPDATE with nothing in it; another family's holds a
    lone MP_UNREACH_NLRI with its AFI and SAFI and no prefixes.
    """
    if end - pos < 4 or data[pos:pos + 2] != b"\0\0":
        return False
    (attr_len,) = _U16.unpack_from(data, pos + 2)
    if pos + 4 + attr_len != end:
        return False
    if attr_len == 0:
        return True
    spans = scan_attributes(data, pos + 4, end)
    span = spans.get(MP_UNREACH_NLRI)
    return len(spans) == 1 and span is not None and span[1] - span[0] == 3


def _family(data: bytes | bytearray, start: int, end: int) -> int:
    """The IP version of the family an MP_(UN)REACH_NLRI at ``data[start:end]`` names, if ``decode`` reads it, else 0.

    Its first three bytes are AFI and SAFI: 0 when they are missing or name
    a family ``decode`` does not read (it counts that one as unsupported).
    """
    if end - start < 3 or data[start] or data[start + 2] not in KNOWN_SAFIS:
        return 0
    return _VERSION.get(data[start + 1], 0)


def _rejected(data: bytes | bytearray, pos: int, end: int, version: int, add_path: bool, accept: PrefixFilter) -> int:
    """How many prefixes the NLRI field ``data[pos:end]`` holds, none of them accepted; -1 at the first one accepted.

    :func:`decode_nlri` and the filter in one loop, without building the list;
    -1 too wherever ``decode_nlri`` raises, so that it says why.
    """
    bits = 32 if version == 4 else 128
    count = 0
    from_bytes = int.from_bytes
    while pos < end:
        if add_path:
            if pos + 5 > end:
                return -1
            pos += 4
        plen = data[pos]
        nbytes = (plen + 7) >> 3
        stop = pos + 1 + nbytes
        if plen > bits or stop > end:
            return -1
        net = from_bytes(data[pos + 1 : stop], "big") << (bits - 8 * nbytes)
        if plen & 7:
            net &= ~((1 << (bits - plen)) - 1)
        if accept(version, net, plen):
            return -1
        count += 1
        pos = stop
    return count


class UpdateCounters(Protocol):
    """What an UPDATE decoder counts (``MrtStats`` is one): elements, filtered ones, unsupported families."""

    elements: int
    filtered: int
    unsupported: dict[str, int]

    def skip(self, table: dict[str, int], key: str) -> None: ...


class UpdateDecoder:
    """Decodes UPDATE bodies with a shared attribute decoder, an optional prefix filter and counters."""

    def __init__(self, attributes: AttributeDecoder, prefix_filter: PrefixFilter | None,
                 stats: UpdateCounters) -> None:
        self.attrs = attributes
        self.accept = prefix_filter
        self.stats = stats

    def decode(
        self, data: bytes, pos: int, end: int, time: float, peer: Peer, asn_size: int, add_path: bool
    ) -> list[Event]:
        if pos + 2 > end:
            raise MalformedRecord("truncated UPDATE")
        (withdrawn_len,) = _U16.unpack_from(data, pos)
        w_end = pos + 2 + withdrawn_len
        if w_end + 2 > end:
            raise MalformedRecord("withdrawn routes overrun the UPDATE")
        (attr_len,) = _U16.unpack_from(data, w_end)
        a_start = w_end + 2
        a_end = a_start + attr_len
        if a_end > end:
            raise MalformedRecord("path attributes overrun the UPDATE")
        spans = scan_attributes(data, a_start, a_end) if attr_len else {}
        events: list[Event] = []
        if withdrawn_len:
            nlri = decode_nlri(data, pos + 2, w_end, AFI_IPV4, add_path)
            self._withdrawals(events, time, peer, AFI_IPV4, 1, nlri)
        span = spans.get(MP_UNREACH_NLRI)
        if span is not None:
            start, stop = span
            if stop - start < 3:
                raise MalformedRecord("truncated MP_UNREACH_NLRI")
            afi, safi = _U16.unpack_from(data, start)[0], data[start + 2]
            if self._known_family(afi, safi):
                nlri = decode_nlri(data, start + 3, stop, afi, add_path)
                self._withdrawals(events, time, peer, afi, safi, nlri)
        if a_end < end:
            nlri = decode_nlri(data, a_end, end, AFI_IPV4, add_path)
            self._announcements(events, time, peer, AFI_IPV4, 1, nlri, data, spans, asn_size, None)
        span = spans.get(MP_REACH_NLRI)
        if span is not None:
            reach = parse_mp_reach(data, *span)
            if reach.nlri_start < reach.nlri_end and self._known_family(reach.afi, reach.safi):
                nlri = decode_nlri(data, reach.nlri_start, reach.nlri_end, reach.afi, add_path)
                self._announcements(
                    events, time, peer, reach.afi, reach.safi, nlri, data, spans, asn_size, reach.next_hop
                )
        return events

    def passes_over(self, data: bytes | bytearray, pos: int, end: int, add_path: bool) -> bool:
        """Does :meth:`decode` of the UPDATE body ``data[pos:end]`` give nothing but filtered prefixes?

        Then they are counted as ``decode`` counts them and True is returned,
        having read the framing, the attribute headers (MP_REACH_NLRI and
        MP_UNREACH_NLRI to their NLRI) and the prefixes, and built nothing.
        False, having counted nothing, when ``decode`` has more to do: a prefix
        is accepted, a family is unknown (it counts it), there is no prefix at
        all (End-of-RIB), or the UPDATE is damaged (it raises).

        A BMP station's full table is mostly Route Monitoring messages, one per
        (peer, prefix), of prefixes nobody watches. For those this takes 1.4 us
        of CPU where ``decode`` takes 1.9 us (no spans dict, NLRI list or
        tuples; 100,000 rejected one-prefix UPDATEs of bench_bmp.py's table,
        best of 7 in one run); the
        station's fast path (bench/RESULTS.md, BMP station) saves more
        around it.
        """
        accept = self.accept
        if accept is None or pos + 4 > end:
            return False
        withdrawn_len = (data[pos] << 8) | data[pos + 1]
        w_end = pos + 2 + withdrawn_len
        if w_end + 2 > end:
            return False
        at = w_end + 2
        a_end = at + ((data[w_end] << 8) | data[w_end + 1])
        if a_end > end:
            return False
        count = _rejected(data, pos + 2, w_end, 4, add_path, accept) if withdrawn_len else 0
        if count < 0:
            return False
        reach = unreach = reach_end = unreach_end = -1
        while at < a_end:  # as scan_attributes, keeping only where the last MP_(UN)REACH_NLRI lies
            if at + 3 > a_end:
                return False
            code = data[at + 1]
            if data[at] & 0x10:
                if at + 4 > a_end:
                    return False
                start = at + 4
                stop = start + ((data[at + 2] << 8) | data[at + 3])
            else:
                start = at + 3
                stop = start + data[at + 2]
            if stop > a_end:
                return False
            if code == MP_REACH_NLRI:
                reach, reach_end = start, stop
            elif code == MP_UNREACH_NLRI:
                unreach, unreach_end = start, stop
            at = stop
        if unreach >= 0:
            version = _family(data, unreach, unreach_end)
            found = _rejected(data, unreach + 3, unreach_end, version, add_path, accept) if version else -1
            if found < 0:
                return False
            count += found
        if a_end < end:
            found = _rejected(data, a_end, end, 4, add_path, accept)
            if found < 0:
                return False
            count += found
        if reach >= 0:
            version = _family(data, reach, reach_end)  # its first byte is 0: not the RIB's abbreviated form
            if not version or reach_end - reach < 4:
                return False
            nlri = reach + 5 + data[reach + 3]  # after AFI, SAFI, next hop and the reserved (SNPA count) byte
            if nlri > reach_end or data[nlri - 1]:  # truncated, or SNPAs (decode skips them)
                return False
            found = _rejected(data, nlri, reach_end, version, add_path, accept)
            if found < 0:
                return False
            count += found
        if not count:
            return False
        self.stats.elements += count
        self.stats.filtered += count
        return True

    def _known_family(self, afi: int, safi: int) -> bool:
        if afi in _VERSION and safi in KNOWN_SAFIS:
            return True
        self.stats.skip(self.stats.unsupported, f"AFI {afi} SAFI {safi}")
        return False

    def _withdrawals(self, events: list[Event], time: float, peer: Peer, afi: int, safi: int, nlri: list[Nlri]) -> None:
        stats = self.stats
        stats.elements += len(nlri)
        accept = self.accept
        version = _VERSION[afi]
        prefix = self.attrs.prefix
        for path_id, plen, net in nlri:
            if accept is not None and not accept(version, net, plen):
                stats.filtered += 1
                continue
            events.append(RouteWithdrawal(time, peer, prefix(afi, plen, net), safi, path_id))

    def _announcements(
        self,
        events: list[Event],
        time: float,
        peer: Peer,
        afi: int,
        safi: int,
        nlri: list[Nlri],
        data: bytes,
        spans: dict[int, tuple[int, int]],
        asn_size: int,
        mp_next_hop: bytes | None,
    ) -> None:
        stats = self.stats
        stats.elements += len(nlri)
        accept = self.accept
        version = _VERSION[afi]
        prefix = self.attrs.prefix
        attrs: RouteAttributes | None = None
        for path_id, plen, net in nlri:
            if accept is not None and not accept(version, net, plen):
                stats.filtered += 1
                continue
            if attrs is None:
                attrs = self.attrs.decode(data, spans, asn_size, mp_next_hop)
            events.append(
                RouteAnnouncement(
                    time,
                    peer,
                    prefix(afi, plen, net),
                    attrs.as_path,
                    safi,
                    path_id,
                    attrs.origin,
                    attrs.next_hop,
                    attrs.communities,
                    attrs.large_communities,
                )
            )

