"""RFC 6811 origin validation over the trie, checked against a scan written from the RFC's text."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routewatch.model import AsPath, Prefix
from routewatch.rpki.validation import InvalidReason, RpkiState, VrpIndex, validate_with
from routewatch.rpki.vrp import MAX_EXPIRES, Vrp, VrpSet, VrpSourceKind, VrpSourceStatus, merge_vrps

NET = ipaddress.ip_network

VRPS = [
    Vrp(NET("10.0.0.0/8"), 16, 64496),
    Vrp(NET("10.1.0.0/16"), 24, 64497),
    Vrp(NET("2001:db8::/32"), 48, 64498),
]
INDEX = VrpIndex(VRPS)


def state(prefix: str, path: AsPath) -> tuple[RpkiState, InvalidReason | None]:
    outcome = INDEX.validate_path(NET(prefix), path)
    return outcome.state, outcome.reason


def test_rfc_6811_states() -> None:
    assert state("10.0.0.0/8", (1, 64496)) == (RpkiState.VALID, None)
    assert state("10.2.0.0/16", (64496,)) == (RpkiState.VALID, None)
    assert state("10.2.3.0/24", (64496,)) == (RpkiState.INVALID, InvalidReason.TOO_LONG)
    assert state("10.2.0.0/16", (64511,)) == (RpkiState.INVALID, InvalidReason.WRONG_ORIGIN)
    assert state("10.1.2.0/24", (64497,)) == (RpkiState.VALID, None)
    assert state("10.1.2.0/24", (64496,)) == (RpkiState.INVALID, InvalidReason.TOO_LONG)
    assert state("11.0.0.0/8", (64496,)) == (RpkiState.NOT_FOUND, None)
    assert state("2001:db8:1::/48", (64498,)) == (RpkiState.VALID, None)
    assert state("2001:db8::/31", (64498,)) == (RpkiState.NOT_FOUND, None)
    assert state("2001:db8::/64", (64498,)) == (RpkiState.INVALID, InvalidReason.TOO_LONG)


def test_an_as_set_origin_matches_no_vrp() -> None:
    assert state("10.0.0.0/8", (1, frozenset({64496}))) == (RpkiState.INVALID, InvalidReason.WRONG_ORIGIN)
    assert state("11.0.0.0/8", (1, frozenset({64496}))) == (RpkiState.NOT_FOUND, None)


def test_as0_vrp_never_validates() -> None:
    index = VrpIndex([Vrp(NET("192.0.2.0/24"), 24, 0)])
    assert index.validate(NET("192.0.2.0/24"), 0).state is RpkiState.INVALID


def test_evidence_lists_the_covering_vrps_most_specific_first() -> None:
    outcome = INDEX.validate_path(NET("10.1.2.0/24"), (64496,))
    assert tuple(map(Vrp.unpack, outcome.packed_covering)) == (VRPS[1], VRPS[0])  # most specific first


def test_no_vrp_set_yet_is_unknown() -> None:
    assert validate_with(None, NET("10.0.0.0/8"), (64496,)).state is RpkiState.UNKNOWN
    assert merge_vrps([VrpSourceStatus("a", VrpSourceKind.RTR)]) is None


def test_merge_keeps_a_stale_sources_last_set() -> None:
    a = VrpSourceStatus("a", VrpSourceKind.RTR, VrpSet(VRPS[:1]), 1, 5.0, stale=True)
    b = VrpSourceStatus("b", VrpSourceKind.JSON, VrpSet(VRPS[1:]), 1, 6.0, stale=False)
    assert merge_vrps([a, b]) == frozenset(VRPS) == VrpSet(VRPS)


def scan(vrps: list[Vrp], prefix: Prefix, origin: int | None) -> RpkiState:
    """RFC 6811 2 read literally: covered by any VRP prefix; matched by any covering VRP."""
    covering = [v for v in vrps if v.prefix.version == prefix.version and prefix.subnet_of(v.prefix)]  # type: ignore[arg-type]
    if not covering:
        return RpkiState.NOT_FOUND
    if any(origin and v.asn == origin and prefix.prefixlen <= v.max_length for v in covering):
        return RpkiState.VALID
    return RpkiState.INVALID


@st.composite
def small_prefix(draw: st.DrawFn) -> Prefix:
    length = draw(st.integers(0, 12))
    return NET((draw(st.integers(0, 2**length - 1)) << (32 - length), length))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(small_prefix(), st.integers(0, 12), st.integers(0, 3)), max_size=12),
    st.lists(st.tuples(small_prefix(), st.one_of(st.none(), st.integers(0, 3))), max_size=12),
)
def test_trie_agrees_with_a_scan(
    raw_vrps: list[tuple[Prefix, int, int]], routes: list[tuple[Prefix, int | None]]
) -> None:
    vrps = [Vrp(p, max(p.prefixlen, m), a) for p, m, a in raw_vrps]
    index = VrpIndex(vrps)
    for prefix, origin in routes:
        assert index.validate(prefix, origin).state is scan(vrps, prefix, origin)


def test_vrp_identity_ignores_metadata() -> None:
    assert Vrp(NET("10.0.0.0/8"), 8, 1, 5.0).identity == Vrp(NET("10.0.0.0/8"), 8, 1).identity


@st.composite
def any_vrp(draw: st.DrawFn) -> Vrp:
    bits = draw(st.sampled_from([32, 128]))
    length = draw(st.integers(0, bits))
    network = draw(st.integers(0, 2**length - 1)) << (bits - length) if length else 0
    prefix = (ipaddress.IPv4Network if bits == 32 else ipaddress.IPv6Network)((network, length))
    expires = draw(st.one_of(st.none(), st.integers(0, MAX_EXPIRES).map(float)))
    return Vrp(prefix, draw(st.integers(length, bits)), draw(st.integers(0, 2**32 - 1)), expires)


@given(st.lists(any_vrp(), max_size=20), st.lists(any_vrp(), max_size=20))
def test_a_packed_set_holds_exactly_its_vrps(first: list[Vrp], second: list[Vrp]) -> None:
    a, b = VrpSet(first), VrpSet(second)
    assert set(a) == set(first) and len(a) == len(set(first)) and all(vrp in a for vrp in first)
    assert a - b == set(first) - set(second) and a.union(b) == set(first) | set(second)
    assert (a == b) is (set(first) == set(second))
    assert all(Vrp.unpack(vrp.packed) == vrp for vrp in first)


def test_an_expiry_a_packed_vrp_cannot_hold_is_refused() -> None:
    for expires in (-1.0, MAX_EXPIRES + 1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="expiry"):
            Vrp(NET("10.0.0.0/8"), 8, 1, expires)
    with pytest.raises(ValueError, match="AS"):
        Vrp(NET("10.0.0.0/8"), 8, 2**32)
