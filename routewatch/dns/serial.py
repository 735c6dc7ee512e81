"""SOA serial arithmetic (RFC 1982, SERIAL_BITS = 32).

Serials wrap around: 4294967295 is *older* than 1. Comparing them as plain
integers would call a freshly wrapped primary stale, so every comparison of
serials in routewatch goes through here.
"""

from __future__ import annotations

from collections.abc import Iterable

SERIAL_BITS = 32
_MODULUS = 1 << SERIAL_BITS
_HALF = 1 << (SERIAL_BITS - 1)


def compare_serials(a: int, b: int) -> int | None:
    """-1 if ``a`` precedes ``b``, 0 if equal, 1 if ``a`` follows ``b``; None where RFC 1982 leaves it undefined.

    Undefined is the pair exactly half the serial space apart: neither is newer.
    """
    a %= _MODULUS
    b %= _MODULUS
    if a == b:
        return 0
    distance = (b - a) % _MODULUS
    if distance == _HALF:
        return None
    return -1 if distance < _HALF else 1


def newest_serial(serials: Iterable[int]) -> int | None:
    """The serial every other one precedes or equals, or None when the set has no such member.

    With serials spread over more than half the space there is no newest one
    (RFC 1982 is not a total order), and saying so beats picking one at random.
    """
    values = sorted({s % _MODULUS for s in serials})
    for candidate in values:
        if all(compare_serials(other, candidate) in (-1, 0) for other in values):
            return candidate
    return None
