"""A gzip member put together from pieces deflated apart is one ordinary gzip member of the whole text."""

from __future__ import annotations

import gzip
import zlib

from hypothesis import given
from hypothesis import strategies as st

from routewatch.exporter.deflate import crc32_combine, deflated, gzip_member

TEXTS = st.lists(st.one_of(st.binary(max_size=300), st.sampled_from([b"", b"a" * 70_000, bytes(range(256)) * 9])),
                 max_size=8)


def whole_crc(pieces: list[bytes]) -> int:
    crc = 0
    for piece in pieces:
        crc = crc32_combine(crc, zlib.crc32(piece), len(piece))
    return crc


@given(TEXTS)
def test_the_crc_of_pieces_combined_is_the_crc_of_their_text(pieces: list[bytes]) -> None:
    assert whole_crc(pieces) == zlib.crc32(b"".join(pieces))


def test_the_crc_combines_across_lengths_of_every_size() -> None:
    first = b"routewatch_bgp_prefix_visible_peers"
    for size in (0, 1, 3, 4, 255, 65_536, 1_000_003, 21_234_702):
        second = bytes(i % 251 for i in range(size)) if size < 2_000_000 else b"\x00" * size
        assert crc32_combine(zlib.crc32(first), zlib.crc32(second), size) == zlib.crc32(first + second), size


@given(TEXTS)
def test_segments_deflated_apart_decode_as_one_member(pieces: list[bytes]) -> None:
    text = b"".join(pieces)
    member = gzip_member([deflated(piece) for piece in pieces], whole_crc(pieces), len(text))
    reader = zlib.decompressobj(zlib.MAX_WBITS | 16)  # gzip only, one member
    assert reader.decompress(member) == text
    assert reader.eof and not reader.unused_data
    assert gzip.decompress(member) == text  # and the gzip module checks the trailer's CRC and length
