"""RFC 1982 serial arithmetic, including wraparound and the undefined half-way pair."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from routewatch.dns.health import compare_serials, newest_serial

serials = st.integers(min_value=0, max_value=2**32 - 1)


def test_plain_order() -> None:
    assert compare_serials(1, 2) == -1
    assert compare_serials(2, 1) == 1
    assert compare_serials(2021100401, 2021100401) == 0


def test_wraparound_makes_the_small_number_newer() -> None:
    assert compare_serials(4294967295, 0) == -1
    assert compare_serials(4294967295, 5) == -1
    assert compare_serials(5, 4294967295) == 1


def test_half_the_space_apart_is_undefined() -> None:
    assert compare_serials(0, 2**31) is None
    assert compare_serials(2**31, 0) is None
    assert compare_serials(0, 2**31 - 1) == -1
    assert compare_serials(0, 2**31 + 1) == 1


def test_newest_across_wraparound() -> None:
    assert newest_serial([4294967290, 3, 4294967295]) == 3
    assert newest_serial([7]) == 7
    assert newest_serial([]) is None


def test_no_newest_when_spread_over_the_whole_space() -> None:
    assert newest_serial([0, 2**30, 2**31, 3 * 2**30]) is None


@given(serials, st.integers(min_value=1, max_value=2**31 - 1))
def test_adding_less_than_half_the_space_is_always_newer(serial: int, step: int) -> None:
    later = (serial + step) % 2**32
    assert compare_serials(serial, later) == -1
    assert compare_serials(later, serial) == 1
    assert newest_serial([serial, later]) == later


@given(serials, serials)
def test_comparison_is_antisymmetric(a: int, b: int) -> None:
    forward, backward = compare_serials(a, b), compare_serials(b, a)
    assert (forward is None) == (backward is None)
    if forward is not None:
        assert forward == -backward  # type: ignore[operator]
