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

