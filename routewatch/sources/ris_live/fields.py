"""The fields of a RIS Live message, read one by one: pure functions, no state.

Two readings of the same fields. The careful readers (``read_*``) raise
:class:`~routewatch.sources.ris_live.frame.MalformedRisMessage` with the
reason counted; the fast ones (``fast_*``) accept only exact JSON types and
return None for anything else, so that the parser's one-pass reading of a
well-formed UPDATE falls back to the careful one, which alone counts.
"""

from __future__ import annotations

from routewatch.model import MAX_ASN, AsHop, AsPath, BgpOrigin, FsmState
from routewatch.sources.clock_guard import MAX_TIMESTAMP
from routewatch.sources.ris_live.frame import MalformedRisMessage

ORIGINS = {"igp": BgpOrigin.IGP, "egp": BgpOrigin.EGP, "incomplete": BgpOrigin.INCOMPLETE}
"""RIS Live's ``origin`` text -> the BGP ORIGIN."""
PEER_STATES = {
    "connected": (FsmState.OPENCONFIRM, FsmState.ESTABLISHED),
    "down": (FsmState.ESTABLISHED, FsmState.IDLE),
}
"""A ``RIS_PEER_STATE`` message's ``state`` -> the session's transition."""


def fast_path(value: object) -> AsPath | None:
    """A path of plain AS numbers; None for anything else (AS_SETs go the careful way)."""
    if value is None:
        return ()
    if type(value) is not list:
        return None
    hops = tuple(value)
    for hop in hops:
        if type(hop) is not int or not 0 <= hop <= MAX_ASN:
            return None
    return hops


def fast_communities(value: object) -> tuple[tuple[int, int], ...] | None:
    """``[[a, b], ...]`` of 16-bit ints as pairs; None for anything else.

    A plain loop: cheaper than C-level ``map``/``set`` checks for the few pairs a route carries.
    """
    if not value:
        return ()
    if type(value) is not list:
        return None
    pairs = []
    for pair in value:
        if type(pair) is not list or len(pair) != 2:
            return None
        high, low = pair
        if type(high) is not int or type(low) is not int or not (0 <= high <= 0xFFFF and 0 <= low <= 0xFFFF):
            return None
        pairs.append((high, low))
    return tuple(pairs)


def unsigned(value: object, top: int) -> int:
    """``value`` if it is a JSON integer in ``0..top``; ValueError otherwise (a bool is not one)."""
    if type(value) is not int or not 0 <= value <= top:
        raise ValueError(f"{value!r} is not an integer in 0..{top}")
    return value


def read_timestamp(value: object) -> float:
    """Epoch seconds, an integer or not, that fit BGP's 32-bit times."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_TIMESTAMP:
        raise MalformedRisMessage("timestamp", f"timestamp {value!r} is not epoch seconds before 2^32")
    return float(value)


def read_path(value: object) -> AsPath:
    """A path of AS numbers and AS_SETs (nested lists, as ``frozenset``); None is the empty path."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedRisMessage("path", f"path {value!r} is not a list")
    hops: list[AsHop] = []
    for hop in value:
        if type(hop) is int and 0 <= hop <= MAX_ASN:
            hops.append(hop)
        elif isinstance(hop, list) and hop and all(type(a) is int and 0 <= a <= MAX_ASN for a in hop):
            hops.append(frozenset(hop))
        else:
            raise MalformedRisMessage("path", f"path hop {hop!r} is not an AS number or AS_SET")
    return tuple(hops)
