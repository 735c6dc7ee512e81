"""Typed events and value types shared by every source and the core.

Everything that enters routewatch (an MRT record, a RIS Live message, a
BGPStream elem) is normalised once, at the boundary, into the frozen values
below. The core never sees raw input, so replaying archives and watching the
live feed cannot disagree about what a message meant.

Conventions:
- prefixes are canonical ``ipaddress`` networks (host bits are an error at the
  boundary, and ``2605:de00:bb:0:0:0:0:0/48`` equals ``2605:de00:bb::/48``);
- ASNs are ints; an AS_SET is a ``frozenset`` of ints inside the path;
- times are float epoch seconds taken from the data, never from the clock;
- a peer is (collector, peer address, peer ASN): the same router seen by two
  collectors is two vantage points.
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import TypeAlias

from routewatch.slot_init import init_through_slots

Prefix: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
AsSet: TypeAlias = frozenset[int]
AsHop: TypeAlias = int | AsSet
AsPath: TypeAlias = tuple[AsHop, ...]

AS_TRANS = 23456
MAX_ASN = 2**32 - 1


class Afi(IntEnum):
    """Address family identifier (RFC 4760)."""

    IPV4 = 1
    IPV6 = 2


class Safi(IntEnum):
    """Subsequent address family identifier; only unicast counts towards visibility."""

    UNICAST = 1
    MULTICAST = 2


class BgpOrigin(StrEnum):
    """The ORIGIN path attribute (RFC 4271 5.1.1)."""

    IGP = "IGP"
    EGP = "EGP"
    INCOMPLETE = "INCOMPLETE"


class FsmState(IntEnum):
    """BGP finite state machine states as MRT and BMP number them."""

    IDLE = 1
    CONNECT = 2
    ACTIVE = 3
    OPENSENT = 4
    OPENCONFIRM = 5
    ESTABLISHED = 6


class FeedState(StrEnum):
    """Health of a source or of one collector within it."""

    UP = "up"
    STALE = "stale"
    DOWN = "down"


@init_through_slots
@dataclass(frozen=True, slots=True)
class Peer:
    """One BGP session of a route collector: the unit of visibility."""

    collector: str
    address: str
    asn: int

    def __str__(self) -> str:
        return f"{self.collector}/{self.address}/AS{self.asn}"


@init_through_slots
@dataclass(frozen=True, slots=True)
class RouteAnnouncement:
    """A peer announced (or replaced) its route for a prefix.

    ``as_path`` is the effective path: for a 2-byte session the AS_PATH has
    already been merged with AS4_PATH (RFC 6793 4.2.3), so AS_TRANS is never
    an origin. Confederation segments are dropped: they are local to the
    confederation and do not name an origin.
    """

    time: float
    peer: Peer
    prefix: Prefix
    as_path: AsPath
    safi: int = Safi.UNICAST
    path_id: int = 0
    origin: BgpOrigin | None = None
    next_hop: str | None = None
    communities: tuple[tuple[int, int], ...] = ()
    large_communities: tuple[tuple[int, int, int], ...] = ()

    @property
    def afi(self) -> Afi:
        return Afi.IPV4 if self.prefix.version == 4 else Afi.IPV6

    @property
    def origin_asns(self) -> AsSet:
        """The origin AS(es): the last hop, an AS_SET's members, or nothing."""
        return origin_asns(self.as_path)


@init_through_slots
@dataclass(frozen=True, slots=True)
class RouteWithdrawal:
    """A peer withdrew its route (one ADD-PATH path id) for a prefix."""

    time: float
    peer: Peer
    prefix: Prefix
    safi: int = Safi.UNICAST
    path_id: int = 0

    @property
    def afi(self) -> Afi:
        return Afi.IPV4 if self.prefix.version == 4 else Afi.IPV6


@init_through_slots
@dataclass(frozen=True, slots=True)
class PeerStateChange:
    """A collector's BGP session with a peer changed FSM state.

    Leaving ESTABLISHED drops every route of the session: that is a session
    reset, not a withdrawal, and the core treats it so. ``table_complete``
    marks an established session whose whole table has been sent (a BMP
    router's End-of-RIB after Peer Up): the peer counts at once, with no
    settle time.
    """

    time: float
    peer: Peer
    old_state: int
    new_state: int
    table_complete: bool = False

    @property
    def established(self) -> bool:
        return self.new_state == FsmState.ESTABLISHED


@init_through_slots
@dataclass(frozen=True, slots=True)
class SourceStatus:
    """Health of a feed, or of one collector within it when ``collector`` is set.

    A collector that is not UP is untrustworthy: its peers leave visibility and
    baseline until it is fresh again.
    """

    time: float
    source: str
    state: FeedState
    collector: str | None = None
    detail: str = ""


Event: TypeAlias = RouteAnnouncement | RouteWithdrawal | PeerStateChange | SourceStatus


def origin_asns(path: AsPath) -> AsSet:
    """The origin AS(es) of a path: the last hop, or an AS_SET's members."""
    if not path:
        return frozenset()
    last = path[-1]
    if isinstance(last, frozenset):
        return last
    return frozenset((last,))


def format_as_path(path: AsPath) -> str:
    """The path as bgpdump prints it: ``1 2 {3,4}``."""
    return " ".join(
        "{" + ",".join(str(asn) for asn in sorted(hop)) + "}" if isinstance(hop, frozenset) else str(hop)
        for hop in path
    )


_PATH_TOKEN = re.compile(r"\{[^}]*\}|\([^)]*\)|\[[^\]]*\]|[^\s{}()\[\]]+")


def parse_as_path(text: str) -> AsPath:
    """The inverse of :func:`format_as_path`: ``"1 2 {3,4}"`` -> ``(1, 2, frozenset({3, 4}))``.

    Confederation segments (``(65001 65002)``, ``[65001]``) are dropped, as the
    MRT reader drops them; anything unreadable raises ValueError.
    """
    tokens = _PATH_TOKEN.findall(text)
    if re.sub(r"\s+", "", "".join(tokens)) != re.sub(r"\s+", "", text):
        raise ValueError(f"unreadable AS path {text!r}")
    hops: list[AsHop] = []
    for token in tokens:
        if token[0] in "([":
            continue
        if token[0] == "{":
            members = [m for m in re.split(r"[\s,]+", token[1:-1]) if m]
            if not members:
                raise ValueError(f"empty AS_SET in AS path {text!r}")
            hops.append(frozenset(parse_asn(m) for m in members))
        else:
            hops.append(parse_asn(token))
    return tuple(hops)


class _HashedOnce:
    """An interned network is a dict key on every update: hash it once, then answer from the cache."""

    _rw_hash: int
    _rw_key: tuple[int, int, int]

    def __hash__(self) -> int:
        try:
            return self._rw_hash
        except AttributeError:
            self._rw_hash = value = super().__hash__()
            return value


class IPv4Prefix(_HashedOnce, ipaddress.IPv4Network):
    """An interned IPv4 network (see :func:`intern_prefix`)."""


class IPv6Prefix(_HashedOnce, ipaddress.IPv6Network):
    """An interned IPv6 network (see :func:`intern_prefix`)."""


class _Interned:
    """Every live prefix routewatch has built, by (version, network as int, length), held weakly.

    The core keys its tables by prefix; with one object per prefix a dict
    lookup is an identity check and a cached hash rather than two Python-level
    method calls. The table holds weak references, so a prefix nothing else
    holds any more (a route withdrawn, a reader's cache cleared) is freed: a
    feed of ever new prefixes cannot grow it (200,000 prefixes held strongly
    were 57 MiB). Dead entries are purged whenever the table has doubled since
    the last purge, which keeps the cost amortised O(1) per new prefix and
    needs no callback per reference (``WeakValueDictionary`` costs ~2 us more
    per insertion, measured here).
    """

    __slots__ = ("refs", "purge_at")
    MIN_PURGE = 1 << 16

    def __init__(self) -> None:
        self.refs: dict[tuple[int, int, int], weakref.ref[Prefix]] = {}
        self.purge_at = self.MIN_PURGE

    def get(self, key: tuple[int, int, int]) -> Prefix | None:
        ref = self.refs.get(key)
        return ref() if ref is not None else None

    def add(self, key: tuple[int, int, int], prefix: Prefix) -> None:
        refs = self.refs
        refs[key] = weakref.ref(prefix)
        if len(refs) >= self.purge_at:
            self.purge()

    def purge(self) -> None:
        """Drop the entries of prefixes already freed, and purge next when the table has doubled again."""
        refs = self.refs
        for dead in [k for k, r in refs.items() if r() is None]:
            del refs[dead]
        self.purge_at = max(2 * len(refs), self.MIN_PURGE)

    def __len__(self) -> int:
        return len(self.refs)


_INTERNED = _Interned()


def prefix_key(prefix: Prefix) -> tuple[int, int, int]:
    """(version, network as int, length): the prefix as plain ints (kept on interned prefixes)."""
    try:
        return prefix._rw_key  # type: ignore[union-attr]
    except AttributeError:
        key = prefix.version, int(prefix.network_address), prefix.prefixlen
        if isinstance(prefix, IPv4Prefix | IPv6Prefix):
            prefix._rw_key = key
        return key


def intern_prefix(prefix: Prefix) -> Prefix:
    """The one shared object equal to ``prefix`` (while anything holds it)."""
    key = prefix_key(prefix)
    found = _INTERNED.get(key)
    if found is None:
        if type(prefix) not in (IPv4Prefix, IPv6Prefix):
            prefix = (IPv4Prefix if key[0] == 4 else IPv6Prefix)((key[1], key[2]))
        _INTERNED.add(key, prefix)
        found = prefix
    return found


ZONE_INDEX = "zone_index"
"""The counter key of a prefix or address refused for its IPv6 zone index."""


class ZoneIndexError(ValueError):
    """An IPv6 zone index (``fe80::%eth0/64``): it names an interface of one host, never part of a route.

    ``ipaddress`` accepts one inside the address and then compares the
    network unequal but hashes and orders it as the network without it, so it
    would be taken for a watched prefix: refused wherever text becomes one.
    """

    def __init__(self, text: str) -> None:
        super().__init__(f"{text!r} has an IPv6 zone index ('%...'); prefixes and peer addresses never carry one")


def refuse_zone_index(text: str) -> str:
    """``text`` unchanged, or ZoneIndexError if it carries a zone index."""
    if "%" in text:
        raise ZoneIndexError(text)
    return text


@lru_cache(maxsize=65536)
def parse_prefix(text: str) -> Prefix:
    """A canonical (interned) network from text; raises ValueError on host bits, a zone index or garbage."""
    text = refuse_zone_index(text.strip())
    return intern_prefix((IPv6Prefix if ":" in text else IPv4Prefix)(text, strict=True))


def canonical_address(text: str) -> str:
    """Compressed canonical text of an IP address (``2001:db8:0::1`` -> ``2001:db8::1``); no zone index."""
    return str(ipaddress.ip_address(refuse_zone_index(text.strip())))


def parse_asn(value: object) -> int:
    """An AS number from ``32934``, ``"32934"`` or ``"AS32934"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected an AS number, got {value!r}")
    if isinstance(value, int):
        asn = value
    elif isinstance(value, str):
        text = value.strip()
        if text[:2].upper() == "AS":
            text = text[2:]
        if not text.isdigit():
            raise ValueError(f"expected an integer AS number, got {value!r}")
        asn = int(text)
    else:
        raise ValueError(f"expected an AS number, got {value!r}")
    if not 0 <= asn <= MAX_ASN:
        raise ValueError(f"AS number {asn} is out of range (0 to {MAX_ASN})")
    return asn
