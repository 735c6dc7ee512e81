"""BGP path attributes and NLRI as they appear inside MRT records.

Decoding is split in two so that filtered replays stay cheap: :func:`scan_attributes`
only locates each attribute (one pass over the type/length headers), and the
values are decoded by :meth:`AttributeDecoder.decode` only when at least one
prefix of the UPDATE survives the prefix filter. AS paths and community lists
are interned: every route with the same path shares one tuple, which is what
keeps a full-table route state small. The caches are keyed by the raw attribute
bytes, so a path seen before costs one dict lookup and no decoding at all.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from routewatch.model import AsHop, AsPath, BgpOrigin, IPv4Prefix, IPv6Prefix, Prefix, intern_prefix

ORIGIN = 1
AS_PATH = 2
NEXT_HOP = 3
COMMUNITIES = 8
MP_REACH_NLRI = 14
MP_UNREACH_NLRI = 15
AS4_PATH = 17
LARGE_COMMUNITIES = 32

AS_SET = 1
AS_SEQUENCE = 2
AS_CONFED_SEQUENCE = 3
AS_CONFED_SET = 4

AFI_IPV4 = 1
AFI_IPV6 = 2
KNOWN_SAFIS = (1, 2)

_ORIGINS = (BgpOrigin.IGP, BgpOrigin.EGP, BgpOrigin.INCOMPLETE)
_U16 = struct.Struct(">H")
_MP_HEADER = struct.Struct(">HBB")  # AFI, SAFI, next-hop length
_PATH_ID = struct.Struct(">I")

#: Cap on each intern table: past it the table starts afresh, trading some
#: sharing for a hard memory bound on adversarial or endless input.
CACHE_LIMIT = 1 << 21

#: One NLRI element: (path id, prefix length, network as an int with host bits cleared).
Nlri = tuple[int, int, int]


class MalformedRecord(Exception):
    """The BGP content of a record contradicts itself; the record is skipped."""


def scan_attributes(data: bytes, pos: int, end: int) -> dict[int, tuple[int, int]]:
    """Where each path attribute's value lies: ``{type code: (start, end)}``."""
    spans: dict[int, tuple[int, int]] = {}
    while pos < end:
        if pos + 3 > end:
            raise MalformedRecord("truncated path attribute header")
        flags = data[pos]
        code = data[pos + 1]
        if flags & 0x10:
            if pos + 4 > end:
                raise MalformedRecord("truncated extended-length path attribute header")
            (length,) = _U16.unpack_from(data, pos + 2)
            pos += 4
        else:
            length = data[pos + 2]
            pos += 3
        stop = pos + length
        if stop > end:
            raise MalformedRecord(f"path attribute {code} overruns its UPDATE")
        spans[code] = (pos, stop)
        pos = stop
    return spans


def decode_nlri(data: bytes, pos: int, end: int, afi: int, add_path: bool) -> list[Nlri]:
    """The prefixes of an NLRI field, as ints (no Prefix object is built here)."""
    if afi == AFI_IPV4:
        bits = 32
    elif afi == AFI_IPV6:
        bits = 128
    else:
        raise MalformedRecord(f"unknown AFI {afi}")
    out: list[Nlri] = []
    append = out.append
    from_bytes = int.from_bytes
    while pos < end:
        path_id = 0
        if add_path:
            if pos + 5 > end:
                raise MalformedRecord("truncated ADD-PATH identifier or no prefix after it")
            (path_id,) = _PATH_ID.unpack_from(data, pos)
            pos += 4
        plen = data[pos]
        if plen > bits:
            raise MalformedRecord(f"prefix length {plen} exceeds {bits}")
        nbytes = (plen + 7) >> 3
        stop = pos + 1 + nbytes
        if stop > end:
            raise MalformedRecord("truncated prefix")
        net = from_bytes(data[pos + 1 : stop], "big") << (bits - 8 * nbytes)
        if plen & 7:
            net &= ~((1 << (bits - plen)) - 1)
        append((path_id, plen, net))
        pos = stop
    return out


@dataclass(frozen=True, slots=True)
class MpReach:
    """An MP_REACH_NLRI attribute: address family, next hop and NLRI location."""

    afi: int
    safi: int
    next_hop: bytes
    nlri_start: int
    nlri_end: int


def parse_mp_reach(data: bytes, start: int, end: int) -> MpReach:
    """MP_REACH_NLRI, in full form or in the abbreviated RIB form (next hop only).

    RFC 6396 4.3.4 abbreviates it inside TABLE_DUMP_V2 entries; like bgpdump, a
    first byte other than 0 (no AFI starts with a zero high byte otherwise) marks
    the abbreviated form, whose family is given by the RIB subtype.
    """
    if start >= end:
        raise MalformedRecord("empty MP_REACH_NLRI")
    if data[start] != 0:
        nh_len = data[start]
        if start + 1 + nh_len > end:
            raise MalformedRecord("truncated MP_REACH_NLRI next hop")
        return MpReach(0, 0, data[start + 1 : start + 1 + min(nh_len, 16)], end, end)
    if start + 4 > end:
        raise MalformedRecord("truncated MP_REACH_NLRI")
    afi, safi, nh_len = _MP_HEADER.unpack_from(data, start)
    nh_start = start + 4
    nlri_start = nh_start + nh_len + 1  # one reserved (former SNPA count) byte
    if nlri_start > end:
        raise MalformedRecord("truncated MP_REACH_NLRI next hop")
    snpas = data[nlri_start - 1]
    for _ in range(snpas):  # defunct since RFC 4760, but skip them rather than misparse
        if nlri_start >= end:
            raise MalformedRecord("truncated SNPA")
        nlri_start += 1 + (data[nlri_start] + 1) // 2
    # A next hop of 32 bytes is global + link-local: the global one is the route's.
    next_hop = data[nh_start : nh_start + min(nh_len, 16)]
    return MpReach(afi, safi, next_hop, nlri_start, end)


@dataclass(frozen=True, slots=True)
class RouteAttributes:
    """The decoded attributes an UPDATE's announcements share."""

    as_path: AsPath
    origin: BgpOrigin | None
    next_hop: str | None
    communities: tuple[tuple[int, int], ...]
    large_communities: tuple[tuple[int, int, int], ...]


class AttributeDecoder:
    """Decodes path attributes with intern tables shared across files."""

    def __init__(self) -> None:
        self._paths: dict[tuple[int, bytes, bytes], AsPath] = {}
        self._path_values: dict[AsPath, AsPath] = {}
        self._communities: dict[bytes, tuple[tuple[int, int], ...]] = {}
        self._large: dict[bytes, tuple[tuple[int, int, int], ...]] = {}
        self._addresses: dict[bytes, str] = {}
        self._prefixes4: dict[int, Prefix] = {}
        self._prefixes6: dict[int, Prefix] = {}

    def decode(
        self,
        data: bytes,
        spans: dict[int, tuple[int, int]],
        asn_size: int,
        mp_next_hop: bytes | None,
    ) -> RouteAttributes:
        """Attributes of one UPDATE or RIB entry; ``mp_next_hop`` overrides NEXT_HOP."""
        span = spans.get(ORIGIN)
        origin = None
        if span is not None and span[1] > span[0] and data[span[0]] < 3:
            origin = _ORIGINS[data[span[0]]]
        if mp_next_hop is not None:
            next_hop: str | None = self.address(mp_next_hop) if mp_next_hop else None
        else:
            span = spans.get(NEXT_HOP)
            next_hop = self.address(data[span[0] : span[1]]) if span is not None else None
        return RouteAttributes(
            self.as_path(data, spans, asn_size),
            origin,
            next_hop,
            self.communities(data, spans.get(COMMUNITIES)),
            self.large_communities(data, spans.get(LARGE_COMMUNITIES)),
        )

    def as_path(self, data: bytes, spans: dict[int, tuple[int, int]], asn_size: int) -> AsPath:
        """The effective AS path: AS_PATH, merged with AS4_PATH on 2-byte sessions."""
        span = spans.get(AS_PATH)
        raw = data[span[0] : span[1]] if span is not None else b""
        span4 = spans.get(AS4_PATH) if asn_size == 2 else None
        raw4 = data[span4[0] : span4[1]] if span4 is not None else b""
        key = (asn_size, raw, raw4)
        path = self._paths.get(key)
        if path is None:
            path = decode_segments(raw, asn_size)
            if raw4:
                path = merge_as4_path(path, decode_segments(raw4, 4))
            path = self._path_values.setdefault(path, path)
            if len(self._paths) >= CACHE_LIMIT:
                self._paths.clear()
                self._path_values.clear()
            self._paths[key] = path
        return path

    def communities(self, data: bytes, span: tuple[int, int] | None) -> tuple[tuple[int, int], ...]:
        if span is None:
            return ()
        raw = data[span[0] : span[1]]
        value = self._communities.get(raw)
        if value is None:
            if len(raw) % 4:
                raise MalformedRecord("COMMUNITIES length is not a multiple of 4")
            words = struct.unpack(f">{len(raw) // 4}I", raw)
            value = tuple((word >> 16, word & 0xFFFF) for word in words)
            if len(self._communities) >= CACHE_LIMIT:
                self._communities.clear()
            self._communities[raw] = value
        return value

    def large_communities(self, data: bytes, span: tuple[int, int] | None) -> tuple[tuple[int, int, int], ...]:
        if span is None:
            return ()
        raw = data[span[0] : span[1]]
        value = self._large.get(raw)
        if value is None:
            if len(raw) % 12:
                raise MalformedRecord("LARGE_COMMUNITIES length is not a multiple of 12")
            words = struct.unpack(f">{len(raw) // 4}I", raw)
            value = tuple((words[i], words[i + 1], words[i + 2]) for i in range(0, len(words), 3))
            if len(self._large) >= CACHE_LIMIT:
                self._large.clear()
            self._large[raw] = value
        return value

    def address(self, raw: bytes) -> str:
        """Canonical text of a 4- or 16-byte address (cached: peers and next hops repeat)."""
        text = self._addresses.get(raw)
        if text is None:
            if len(raw) == 4:
                text = str(ipaddress.IPv4Address(raw))
            elif len(raw) == 16:
                text = str(ipaddress.IPv6Address(raw))
            else:
                raise MalformedRecord(f"address of {len(raw)} bytes")
            if len(self._addresses) >= CACHE_LIMIT:
                self._addresses.clear()
            self._addresses[raw] = text
        return text

    def prefix(self, afi: int, plen: int, net: int) -> Prefix:
        """The cached canonical network for a decoded NLRI element."""
        table = self._prefixes4 if afi == AFI_IPV4 else self._prefixes6
        key = (net << 8) | plen
        prefix = table.get(key)
        if prefix is None:
            prefix = intern_prefix(_build_network(afi == AFI_IPV4, net, plen))
            if len(table) >= CACHE_LIMIT:
                table.clear()
            table[key] = prefix
        return prefix


def _network_by_constructor(v4: bool, net: int, plen: int) -> Prefix:
    if v4:
        return IPv4Prefix((net, plen))
    return IPv6Prefix((net, plen))


def _network_by_fields(v4: bool, net: int, plen: int) -> Prefix:
    """Build a network without re-validating what decode_nlri already guarantees.

    The public constructor re-parses its argument and re-checks host bits; for a
    full-table RIB, where nearly every prefix is new, that is a third of the
    decoding time. This sets the same fields ``__init__`` sets; :func:`_fast_path_works`
    checks at import that the result is indistinguishable, else the constructor is used.
    """
    cls: type[Prefix] = IPv4Prefix if v4 else IPv6Prefix
    if plen >= (31 if v4 else 127):  # /31, /32, /127, /128 get special hosts()
        return cls((net, plen))
    obj = object.__new__(cls)
    obj.network_address = (ipaddress.IPv4Address if v4 else ipaddress.IPv6Address)(net)  # type: ignore[assignment]
    obj.netmask, obj._prefixlen = cls._make_netmask(plen)  # type: ignore[attr-defined,union-attr]
    return obj


def _fast_path_works() -> bool:
    samples = [(True, 0x0A000000, 8), (True, 0, 0), (True, 0xC0A80100, 24), (False, 0x20010DB8 << 96, 32)]
    for v4, net, plen in samples:
        try:
            fast = _network_by_fields(v4, net, plen)
        except Exception:  # noqa: BLE001 - any difference means: use the constructor
            return False
        slow = _network_by_constructor(v4, net, plen)
        if vars(fast) != vars(slow):
            return False
        if (fast, hash(fast), str(fast), fast.netmask, fast.broadcast_address, list(fast.subnets())[0]) != (
            slow,
            hash(slow),
            str(slow),
            slow.netmask,
            slow.broadcast_address,
            list(slow.subnets())[0],
        ):
            return False
    return True


_build_network = _network_by_fields if _fast_path_works() else _network_by_constructor


def decode_segments(raw: bytes, asn_size: int) -> AsPath:
    """AS_PATH segments as hops; AS_SET becomes a frozenset.

    Confederation segments are dropped: they are private to the confederation,
    never name an origin, and none occur in collector data.
    """
    hops: list[AsHop] = []
    pos = 0
    end = len(raw)
    code = "H" if asn_size == 2 else "I"
    while pos < end:
        if pos + 2 > end:
            raise MalformedRecord("truncated AS_PATH segment header")
        seg_type = raw[pos]
        count = raw[pos + 1]
        stop = pos + 2 + count * asn_size
        if stop > end:
            raise MalformedRecord("AS_PATH segment overruns the attribute")
        asns = struct.unpack_from(f">{count}{code}", raw, pos + 2)
        if seg_type == AS_SEQUENCE:
            hops.extend(asns)
        elif seg_type == AS_SET:
            hops.append(frozenset(asns))
        elif seg_type not in (AS_CONFED_SEQUENCE, AS_CONFED_SET):
            raise MalformedRecord(f"unknown AS_PATH segment type {seg_type}")
        pos = stop
    return tuple(hops)


def merge_as4_path(as_path: AsPath, as4_path: AsPath) -> AsPath:
    """RFC 6793 4.2.3: keep AS_PATH's leading hops that AS4_PATH does not cover.

    An AS_SET counts as one hop. When AS4_PATH is longer than AS_PATH it is
    ignored, as the RFC and bgpdump both do.
    """
    if len(as_path) < len(as4_path):
        return as_path
    return as_path[: len(as_path) - len(as4_path)] + as4_path
