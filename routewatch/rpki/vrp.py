"""Validated ROA Payloads: the (prefix, max length, origin AS) triples RPKI validation uses.

A VRP is what an RTR cache announces and what a relying party's JSON export
lists (RFC 6811 2). ``expires`` is kept where the source gives it (JSON
exports do, RTR does not) because the expiry detector needs the earliest
``expires`` of the VRPs that keep a prefix valid; to the second, as every
export gives it. An export's ``ta`` is accepted and not kept: nothing judges by it.

A set holds each VRP as one int (:attr:`Vrp.packed`) rather than a ``Vrp`` and
its ``ipaddress`` network: 500,000 VRPs are one frozenset of ints and a trie,
not a million objects (see bench/RESULTS.md, "RPKI"). ``Vrp`` objects are made
when a VRP is looked at: evidence, diffs, tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from routewatch.model import Prefix, prefix_key

# A packed VRP, from the low bits up: AS (32), max length (8), prefix length (8), IPv6 flag (1),
# expires + 1 in seconds (40; 0 = none given), the network address (32 or 128): a lookup reads the low bits only.
_ASN_BITS, _LENGTH_BITS, _EXPIRES_BITS = 32, 8, 40
_MAX_LENGTH_SHIFT = _ASN_BITS
_LENGTH_SHIFT = _MAX_LENGTH_SHIFT + _LENGTH_BITS
_V6_SHIFT = _LENGTH_SHIFT + _LENGTH_BITS
_EXPIRES_SHIFT = _V6_SHIFT + 1
_NETWORK_SHIFT = _EXPIRES_SHIFT + _EXPIRES_BITS
_ASN_MASK, _LENGTH_MASK, _EXPIRES_MASK = (1 << _ASN_BITS) - 1, (1 << _LENGTH_BITS) - 1, (1 << _EXPIRES_BITS) - 1
MAX_EXPIRES = _EXPIRES_MASK - 1
"""The latest ``expires`` a VRP can carry (year 36812): later is an error in the export."""


def packed_asn(packed: int) -> int:
    return packed & _ASN_MASK


def packed_max_length(packed: int) -> int:
    return packed >> _MAX_LENGTH_SHIFT & _LENGTH_MASK


def packed_prefix_key(packed: int) -> tuple[int, int, int]:
    """(version, network as int, length), as :func:`routewatch.model.prefix_key` gives a prefix."""
    version = 6 if packed >> _V6_SHIFT & 1 else 4
    return version, packed >> _NETWORK_SHIFT, packed >> _LENGTH_SHIFT & _LENGTH_MASK


@dataclass(frozen=True, slots=True)
class Vrp:
    """One VRP: ``asn`` may originate ``prefix`` and its more-specifics up to ``max_length``."""

    prefix: Prefix
    max_length: int
    asn: int
    expires: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.asn <= _ASN_MASK:
            raise ValueError(f"AS {self.asn} outside 0..{_ASN_MASK}")
        if self.expires is not None and not 0 <= self.expires <= MAX_EXPIRES:
            raise ValueError(f"expiry {self.expires!r} outside 0..{MAX_EXPIRES}")

    @property
    def identity(self) -> tuple[Prefix, int, int]:
        """What RTR announces and withdraws: the expiry is not part of it."""
        return self.prefix, self.max_length, self.asn

    @property
    def packed(self) -> int:
        """This VRP as one int; equal VRPs pack equal and unpack back (expiry to the second)."""
        version, network, length = prefix_key(self.prefix)
        expires = 0 if self.expires is None else int(self.expires) + 1
        return (network << _NETWORK_SHIFT | expires << _EXPIRES_SHIFT | (version == 6) << _V6_SHIFT
                | length << _LENGTH_SHIFT | self.max_length << _MAX_LENGTH_SHIFT | self.asn)

    @classmethod
    def unpack(cls, packed: int) -> Vrp:
        version, network, length = packed_prefix_key(packed)
        expires = packed >> _EXPIRES_SHIFT & _EXPIRES_MASK
        prefix = (ipaddress.IPv6Network if version == 6 else ipaddress.IPv4Network)((network, length))
        return cls(prefix, packed_max_length(packed), packed_asn(packed), None if expires == 0 else expires - 1.0)

    def __str__(self) -> str:
        return f"{self.prefix}-{self.max_length} AS{self.asn}"


class VrpSet(Set[Vrp]):
    """An immutable set of VRPs kept packed (``packed``: one int per VRP); iterating unpacks them."""

    __slots__ = ("packed",)

    def __init__(self, vrps: Iterable[Vrp] = ()) -> None:
        self.packed: frozenset[int] = frozenset(vrp.packed for vrp in vrps)

    @classmethod
    def of_packed(cls, packed: Iterable[int]) -> VrpSet:
        made = cls()
        made.packed = frozenset(packed)
        return made

    def __len__(self) -> int:
        return len(self.packed)

    def __iter__(self) -> Iterator[Vrp]:
        return map(Vrp.unpack, self.packed)

    def __contains__(self, vrp: object) -> bool:
        return isinstance(vrp, Vrp) and vrp.packed in self.packed

    def __eq__(self, other: object) -> bool:
        if isinstance(other, VrpSet):
            return self.packed == other.packed
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.packed)

    def __sub__(self, other: Any) -> VrpSet:
        if isinstance(other, VrpSet):
            return VrpSet.of_packed(self.packed - other.packed)
        return VrpSet(super().__sub__(other))

    def union(self, *others: VrpSet) -> VrpSet:
        return VrpSet.of_packed(self.packed.union(*(other.packed for other in others)))

    def __repr__(self) -> str:
        return f"VrpSet({sorted(map(str, self))!r})"


def check_vrp_shape(prefix: Prefix, max_length: int) -> None:
    """Raise ValueError when ``max_length`` is outside ``prefix``'s length and its family."""
    limit = prefix.max_prefixlen
    if not prefix.prefixlen <= max_length <= limit:
        raise ValueError(f"max length {max_length} outside {prefix.prefixlen}..{limit} for {prefix}")


class VrpSourceKind(StrEnum):
    """Where a VRP source gets its set."""

    RTR = "rtr"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class VrpSourceStatus:
    """A source's last good set and how fresh it is.

    A source that fails keeps its last good set and becomes ``stale``: a stale
    set is a state to export, never zero VRPs. ``last_update`` is None until
    the first set arrives, and then ``vrps`` is empty because nothing is known.
    """

    name: str
    kind: VrpSourceKind
    vrps: VrpSet = VrpSet()
    serial: int | None = None
    last_update: float | None = None
    stale: bool = True
    errors: int = 0
    detail: str = ""

    @property
    def loaded(self) -> bool:
        return self.last_update is not None


def merge_vrps(sources: Iterable[VrpSourceStatus]) -> VrpSet | None:
    """The union of every loaded source's set; None while no source has ever loaded.

    None (not an empty set) lets the validator say ``unknown`` rather than
    calling every route not-found before the first VRP arrived.
    """
    loaded = [status.vrps for status in sources if status.loaded]
    if not loaded:
        return None
    return VrpSet().union(*loaded)
