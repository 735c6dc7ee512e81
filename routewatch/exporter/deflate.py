"""A gzip body assembled from pieces deflated apart, so that the pieces a scrape keeps are not compressed again.

Prometheus asks for gzip on every scrape, and compressing the ~21 MB body of
20,000 watched prefixes takes ~35 ms at level 1 even when nothing in it changed
(bench/RESULTS.md, "quiet scrape"). Each kept piece is deflated once, on its
own, and ends on a byte boundary without being the final block (a sync flush).
Raw deflate segments made so follow one another as one valid stream: none
refers back past its own start. A gzip member (RFC 1952) is then its header,
the segments, an empty final block, and the CRC-32 and length of the whole text.
That CRC is combined from the CRCs of parts (zlib's ``crc32_combine``, which
Python's zlib does not offer), so that a part that did not change is not read
again: the 21 MB take ~9 ms to read, a combination ~30 us.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

#: Level 1: most of the size saving of level 9 (label sets repeat per line) at a fraction of the CPU.
GZIP_LEVEL = 1
# deflate, no flags, no modification time, "fastest" (XFL 4), operating system unknown
_HEADER = bytes((0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 4, 0xFF))
_FINAL = b"\x03\x00"  # an empty final block: BFINAL set, fixed codes, end-of-block
_TRAILER = struct.Struct("<II")
_POLYNOMIAL = 0xEDB88320  # CRC-32's, bit-reversed as zlib computes it
_ONE = 1 << 31  # the polynomial 1 (x^0), bit-reversed


def _times(a: int, b: int) -> int:
    """``a * b`` modulo the CRC-32 polynomial (zlib's ``multmodp``)."""
    product = 0
    bit = _ONE
    while a:
        if a & bit:
            product ^= b
            a ^= bit
        bit >>= 1
        b = (b >> 1) ^ _POLYNOMIAL if b & 1 else b >> 1
    return product


def _squares() -> tuple[int, ...]:
    """x^(2^k) modulo the polynomial for k = 0..63 (zlib's ``x2n_table``)."""
    power, table = _ONE >> 1, []
    for _ in range(64):
        table.append(power)
        power = _times(power, power)
    return tuple(table)


_SQUARES = _squares()


def crc32_combine(first: int, second: int, second_size: int) -> int:
    """The CRC-32 of two texts one after the other, from their CRCs and the second's length in bytes."""
    shift, k, n = _ONE, 3, second_size  # x^(8 * second_size): the first text's CRC moved past the second
    while n:
        if n & 1:
            shift = _times(_SQUARES[k & 63], shift)
        n >>= 1
        k += 1
    return _times(shift, first) ^ second


def deflated(text: bytes) -> bytes:
    """``text`` as a raw deflate segment that any other such segment may follow (empty text: nothing)."""
    if not text:
        return b""
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(text) + packer.flush(zlib.Z_SYNC_FLUSH)


def gzip_member(segments: Iterable[bytes], crc: int, size: int) -> bytes:
    """One gzip member of ``segments`` (each from :func:`deflated`); ``crc`` and ``size`` are of their text, whole."""
    return b"".join((_HEADER, *segments, _FINAL, _TRAILER.pack(crc, size & 0xFFFFFFFF)))
