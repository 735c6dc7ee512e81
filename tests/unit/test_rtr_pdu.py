"""The RTR PDU codec: round trips over generated PDUs, hand-built wire bytes, and bad input."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routewatch.rpki.rtr_pdu import (
    CacheReset,
    CacheResponse,
    EndOfData,
    ErrorReport,
    PduReader,
    PrefixPdu,
    ResetQuery,
    RtrErrorCode,
    RtrPduError,
    SerialNotify,
    SerialQuery,
    decode_pdu,
    encode_pdu,
)
from routewatch.rpki.vrp import Vrp

u16 = st.integers(0, 2**16 - 1)
u32 = st.integers(0, 2**32 - 1)
versions = st.sampled_from([0, 1])
# A shared, loaded machine makes generation look slow; the examples are what matter, not the time.
relaxed = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def vrps(draw: st.DrawFn) -> Vrp:
    family = draw(st.sampled_from([4, 6]))
    bits = 32 if family == 4 else 128
    length = draw(st.integers(0, bits))
    address = draw(st.integers(0, 2**length - 1)) << (bits - length)
    network = ipaddress.IPv4Network((address, length)) if family == 4 else ipaddress.IPv6Network((address, length))
    return Vrp(network, draw(st.integers(length, bits)), draw(u32))


@st.composite
def pdus(draw: st.DrawFn) -> object:
    v = draw(versions)
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return SerialNotify(v, draw(u16), draw(u32))
    if kind == 1:
        return SerialQuery(v, draw(u16), draw(u32))
    if kind == 2:
        return ResetQuery(v)
    if kind == 3:
        return CacheResponse(v, draw(u16))
    if kind == 4:
        return PrefixPdu(v, draw(st.booleans()), draw(vrps()))
    if kind == 5:
        if v == 0:
            return EndOfData(0, draw(u16), draw(u32))
        return EndOfData(1, draw(u16), draw(u32), draw(u32), draw(u32), draw(u32))
    if kind == 6:
        return CacheReset(v)
    return ErrorReport(v, draw(st.integers(0, 8)), draw(st.binary(max_size=40)), draw(st.text(max_size=40)))


@relaxed
@given(pdus())
def test_every_pdu_round_trips(pdu: object) -> None:
    assert decode_pdu(encode_pdu(pdu)) == pdu  # type: ignore[arg-type]


@relaxed
@given(st.lists(pdus(), max_size=8), st.data())
def test_a_stream_cut_anywhere_decodes_the_same(items: list[object], data: st.DataObject) -> None:
    stream = b"".join(encode_pdu(p) for p in items)  # type: ignore[arg-type]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    reader = PduReader()
    got: list[object] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        decoded, error = reader.feed(stream[start:cut])
        assert error is None
        got += decoded
        start = cut
    assert got == items
    assert reader.pending == 0


@relaxed
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_but_a_pdu_error(blob: bytes) -> None:
    reader = PduReader()
    decoded, error = reader.feed(blob)
    assert error is None or isinstance(error, RtrPduError)


def test_wire_bytes_of_an_ipv4_prefix_pdu_built_by_hand() -> None:
    # RFC 8210 5.6: version, type 4, zero, length 20, flags, prefix length, max length, zero, prefix, ASN.
    raw = struct.pack("!BBHIBBBB4sI", 1, 4, 0, 20, 1, 24, 26, 0, bytes([192, 0, 2, 0]), 64496)
    pdu = decode_pdu(raw)
    assert pdu == PrefixPdu(1, True, Vrp(ipaddress.ip_network("192.0.2.0/24"), 26, 64496))
    assert encode_pdu(pdu) == raw


def test_version_1_end_of_data_carries_the_timers() -> None:
    raw = struct.pack("!BBHIIIII", 1, 7, 9, 24, 42, 3600, 600, 7200)
    assert decode_pdu(raw) == EndOfData(1, 9, 42, 3600, 600, 7200)


@pytest.mark.parametrize(
    ("raw", "code", "words"),
    [
        (struct.pack("!BBHI", 1, 2, 0, 2**32 - 1), RtrErrorCode.CORRUPT_DATA, "length 4294967295"),
        (struct.pack("!BBHI", 1, 2, 0, 4), RtrErrorCode.CORRUPT_DATA, "length 4"),
        (struct.pack("!BBHI", 1, 5, 0, 8), RtrErrorCode.UNSUPPORTED_PDU_TYPE, "unknown PDU type 5"),
        (struct.pack("!BBHI", 1, 99, 0, 8), RtrErrorCode.UNSUPPORTED_PDU_TYPE, "unknown PDU type 99"),
        (struct.pack("!BBHI", 7, 2, 0, 8), RtrErrorCode.UNSUPPORTED_PROTOCOL_VERSION, "version 7"),
        (struct.pack("!BBHI", 1, 2, 0, 12) + b"\0" * 4, RtrErrorCode.CORRUPT_DATA, "expected 8"),
        (struct.pack("!BBHIBBBB4sI", 1, 4, 0, 20, 1, 33, 33, 0, b"\0" * 4, 1), RtrErrorCode.CORRUPT_DATA, "beyond"),
        (struct.pack("!BBHIBBBB4sI", 1, 4, 0, 20, 1, 24, 20, 0, b"\0" * 4, 1), RtrErrorCode.CORRUPT_DATA, "beyond"),
        (struct.pack("!BBHIBBBB16sI", 1, 6, 0, 32, 1, 129, 129, 0, b"\0" * 16, 1), RtrErrorCode.CORRUPT_DATA, "0..128"),
        (struct.pack("!BBHIBBBB4sI", 1, 4, 0, 20, 1, 8, 8, 0, bytes([10, 1, 0, 0]), 1), RtrErrorCode.CORRUPT_DATA,
         "host bits"),
        (struct.pack("!BBHII", 1, 7, 0, 12, 1), RtrErrorCode.CORRUPT_DATA, "version 1 End of Data"),
    ],
)
def test_bad_pdus_carry_the_error_code_to_report(raw: bytes, code: RtrErrorCode, words: str) -> None:
    decoded, error = PduReader().feed(raw)
    assert decoded == []
    assert error is not None and error.code == code and words in str(error)


def test_a_truncated_pdu_waits_for_the_rest() -> None:
    reader = PduReader()
    raw = encode_pdu(SerialNotify(1, 3, 4))
    assert reader.feed(raw[:7]) == ([], None)
    assert reader.pending == 7
    assert reader.feed(raw[7:]) == ([SerialNotify(1, 3, 4)], None)


def test_pdus_before_a_bad_one_are_kept() -> None:
    good = encode_pdu(CacheResponse(1, 5))
    decoded, error = PduReader().feed(good + struct.pack("!BBHI", 1, 77, 0, 8))
    assert decoded == [CacheResponse(1, 5)]
    assert error is not None and error.code == RtrErrorCode.UNSUPPORTED_PDU_TYPE
