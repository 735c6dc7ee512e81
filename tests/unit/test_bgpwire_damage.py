"""Damage cut at the end of an UPDATE's fields is a MalformedRecord, counted and skipped, never a crash.

An extended-length attribute header cut after its flags and code, and an
ADD-PATH identifier with no prefix after it, used to escape as ``struct.error``
and ``IndexError``, which the BMP station does not catch: the router's
connection ended and the message went uncounted.
"""

from __future__ import annotations

import struct

import pytest

from routewatch.sources.bgpwire.attributes import AFI_IPV4, MalformedRecord, decode_nlri, scan_attributes


def test_an_extended_length_attribute_header_cut_short_is_malformed() -> None:
    data = bytes([0x50, 2, 0])  # flags with the extended-length bit, AS_PATH, one byte of a two-byte length
    with pytest.raises(MalformedRecord, match="extended-length"):
        scan_attributes(data, 0, len(data))
    inside = data + bytes([7, 1, 2])  # the field ends before the second length byte, the buffer goes on
    with pytest.raises(MalformedRecord, match="extended-length"):
        scan_attributes(inside, 0, 3)


def test_an_add_path_identifier_with_no_prefix_after_it_is_malformed() -> None:
    nlri = struct.pack(">I", 1) + bytes([24, 192, 0, 2]) + struct.pack(">I", 7)  # a prefix, then an identifier alone
    with pytest.raises(MalformedRecord, match="ADD-PATH"):
        decode_nlri(nlri, 0, len(nlri), AFI_IPV4, True)


def test_a_whole_add_path_nlri_still_reads() -> None:
    nlri = struct.pack(">I", 1) + bytes([24, 192, 0, 2]) + struct.pack(">I", 2) + bytes([16, 198, 51])
    assert decode_nlri(nlri, 0, len(nlri), AFI_IPV4, True) == [
        (1, 24, 0xC0000200), (2, 16, 0xC6330000)]
