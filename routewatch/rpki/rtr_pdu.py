"""The RPKI-to-Router PDU codec (RFC 6810 version 0, RFC 8210 version 1), pure bytes in and out.

Decoding never trusts the length field: a PDU whose declared length is below
its type's size, above :data:`MAX_PDU_LENGTH` (a 4 GB length is a corrupt
stream, not a reason to buffer 4 GB) or beyond a prefix's family raises
:class:`RtrPduError` carrying the RFC 8210 5.11 error code to report back.
Router Key PDUs (BGPsec, version 1) are decoded as opaque and ignored by the
session: origin validation does not use them.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

from routewatch.model import Prefix
from routewatch.rpki.vrp import Vrp

HEADER = struct.Struct("!BBHI")
MAX_PDU_LENGTH = 65536
"""Larger than any PDU a cache sends (an Error Report carries at most a PDU and a short text)."""

SUPPORTED_VERSIONS = (0, 1)


class PduType(IntEnum):
    SERIAL_NOTIFY = 0
    SERIAL_QUERY = 1
    RESET_QUERY = 2
    CACHE_RESPONSE = 3
    IPV4_PREFIX = 4
    IPV6_PREFIX = 6
    END_OF_DATA = 7
    CACHE_RESET = 8
    ROUTER_KEY = 9
    ERROR_REPORT = 10


class RtrErrorCode(IntEnum):
    """RFC 8210 5.11 / 12 error codes."""

    CORRUPT_DATA = 0
    INTERNAL_ERROR = 1
    NO_DATA_AVAILABLE = 2
    INVALID_REQUEST = 3
    UNSUPPORTED_PROTOCOL_VERSION = 4
    UNSUPPORTED_PDU_TYPE = 5
    WITHDRAWAL_OF_UNKNOWN_RECORD = 6
    DUPLICATE_ANNOUNCEMENT = 7
    UNEXPECTED_PROTOCOL_VERSION = 8


class RtrPduError(ValueError):
    """A PDU that cannot be accepted; ``code`` is what to put in the Error Report, ``pdu`` the offending bytes."""

    def __init__(self, code: RtrErrorCode, message: str, pdu: bytes = b"") -> None:
        self.code = code
        self.pdu = pdu
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class SerialNotify:
    version: int
    session_id: int
    serial: int


@dataclass(frozen=True, slots=True)
class SerialQuery:
    version: int
    session_id: int
    serial: int


@dataclass(frozen=True, slots=True)
class ResetQuery:
    version: int


@dataclass(frozen=True, slots=True)
class CacheResponse:
    version: int
    session_id: int


@dataclass(frozen=True, slots=True)
class PrefixPdu:
    """IPv4 or IPv6 Prefix PDU: ``announce`` False is a withdrawal."""

    version: int
    announce: bool
    vrp: Vrp


@dataclass(frozen=True, slots=True)
class EndOfData:
    """End of Data; the three timers exist from version 1 on (None in version 0)."""

    version: int
    session_id: int
    serial: int
    refresh: int | None = None
    retry: int | None = None
    expire: int | None = None


@dataclass(frozen=True, slots=True)
class CacheReset:
    version: int


@dataclass(frozen=True, slots=True)
class RouterKey:
    version: int


@dataclass(frozen=True, slots=True)
class ErrorReport:
    version: int
    code: int
    pdu: bytes = b""
    text: str = ""


Pdu: TypeAlias = (
    SerialNotify | SerialQuery | ResetQuery | CacheResponse | PrefixPdu | EndOfData | CacheReset | RouterKey
    | ErrorReport
)

_FIXED_LENGTHS = {
    PduType.SERIAL_NOTIFY: 12, PduType.SERIAL_QUERY: 12, PduType.RESET_QUERY: 8, PduType.CACHE_RESPONSE: 8,
    PduType.IPV4_PREFIX: 20, PduType.IPV6_PREFIX: 32, PduType.CACHE_RESET: 8,
}
_PREFIX_BODY = struct.Struct("!BBBB")


def _prefix(version: int, body: bytes, raw: bytes, family: int) -> PrefixPdu:
    flags, length, max_length, _zero = _PREFIX_BODY.unpack_from(body)
    size = 4 if family == 4 else 16
    bits = size * 8
    if not 0 <= length <= max_length <= bits:
        raise RtrPduError(
            RtrErrorCode.CORRUPT_DATA, f"IPv{family} prefix length {length} / max length {max_length} beyond 0..{bits}",
            raw,
        )
    address = int.from_bytes(body[4:4 + size], "big")
    asn = int.from_bytes(body[4 + size:8 + size], "big")
    network: Prefix
    try:
        network = ipaddress.IPv4Network((address, length)) if family == 4 else ipaddress.IPv6Network((address, length))
    except ValueError as exc:
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, f"bad prefix: {exc}", raw) from None
    return PrefixPdu(version, bool(flags & 1), Vrp(network, max_length, asn))


def _end_of_data(version: int, session: int, body: bytes, raw: bytes) -> EndOfData:
    if version == 0:
        if len(body) != 4:
            raise RtrPduError(RtrErrorCode.CORRUPT_DATA, f"version 0 End of Data of {len(raw)} bytes", raw)
        return EndOfData(version, session, int.from_bytes(body, "big"))
    if len(body) != 16:
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, f"version 1 End of Data of {len(raw)} bytes", raw)
    serial, refresh, retry, expire = struct.unpack("!IIII", body)
    return EndOfData(version, session, serial, refresh, retry, expire)


def _error_report(version: int, code: int, body: bytes, raw: bytes) -> ErrorReport:
    if len(body) < 8:
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, "Error Report too short", raw)
    inner = int.from_bytes(body[:4], "big")
    if 4 + inner + 4 > len(body):
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, "Error Report's PDU overruns it", raw)
    pdu = body[4:4 + inner]
    text_length = int.from_bytes(body[4 + inner:8 + inner], "big")
    text = body[8 + inner:]
    if text_length != len(text):
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, "Error Report's text length disagrees with the PDU length", raw)
    return ErrorReport(version, code, pdu, text.decode("utf-8", "replace"))


def pdu_length(buffer: bytes | bytearray | memoryview) -> int | None:
    """The length of the PDU at the start of ``buffer``, None if the header is incomplete; checks bounds."""
    if len(buffer) < HEADER.size:
        return None
    version, kind, _field, length = HEADER.unpack_from(buffer)
    if length < HEADER.size or length > MAX_PDU_LENGTH:
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, f"PDU length {length} out of bounds", bytes(buffer[:HEADER.size]))
    return length


def decode_pdu(raw: bytes) -> Pdu:
    """Decode exactly one PDU (``raw`` is as long as its header says)."""
    version, kind, field, length = HEADER.unpack_from(raw)
    if length != len(raw):
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, f"PDU length {length} but {len(raw)} bytes", raw)
    if version not in SUPPORTED_VERSIONS:
        raise RtrPduError(RtrErrorCode.UNSUPPORTED_PROTOCOL_VERSION, f"protocol version {version}", raw)
    try:
        pdu_type = PduType(kind)
    except ValueError:
        raise RtrPduError(RtrErrorCode.UNSUPPORTED_PDU_TYPE, f"unknown PDU type {kind}", raw) from None
    expected = _FIXED_LENGTHS.get(pdu_type)
    if expected is not None and length != expected:
        raise RtrPduError(RtrErrorCode.CORRUPT_DATA, f"{pdu_type.name} of {length} bytes, expected {expected}", raw)
    body = raw[HEADER.size:]
    match pdu_type:
        case PduType.SERIAL_NOTIFY:
            return SerialNotify(version, field, int.from_bytes(body, "big"))
        case PduType.SERIAL_QUERY:
            return SerialQuery(version, field, int.from_bytes(body, "big"))
        case PduType.RESET_QUERY:
            return ResetQuery(version)
        case PduType.CACHE_RESPONSE:
            return CacheResponse(version, field)
        case PduType.IPV4_PREFIX:
            return _prefix(version, body, raw, 4)
        case PduType.IPV6_PREFIX:
            return _prefix(version, body, raw, 6)
        case PduType.END_OF_DATA:
            return _end_of_data(version, field, body, raw)
        case PduType.CACHE_RESET:
            return CacheReset(version)
        case PduType.ROUTER_KEY:
            if version == 0:
                raise RtrPduError(RtrErrorCode.UNSUPPORTED_PDU_TYPE, "Router Key PDU in version 0", raw)
            return RouterKey(version)
        case PduType.ERROR_REPORT:
            return _error_report(version, field, body, raw)
    raise AssertionError(pdu_type)  # pragma: no cover: the match is exhaustive


def _header(version: int, kind: PduType, field: int, length: int) -> bytes:
    return HEADER.pack(version, kind, field, length)


def _prefix_bytes(pdu: PrefixPdu) -> bytes:
    vrp = pdu.vrp
    family = vrp.prefix.version
    kind = PduType.IPV4_PREFIX if family == 4 else PduType.IPV6_PREFIX
    body = _PREFIX_BODY.pack(int(pdu.announce), vrp.prefix.prefixlen, vrp.max_length, 0)
    body += vrp.prefix.network_address.packed + vrp.asn.to_bytes(4, "big")
    return _header(pdu.version, kind, 0, HEADER.size + len(body)) + body


def encode_pdu(pdu: Pdu) -> bytes:
    """The wire form of ``pdu`` (both directions, so tests and a cache can speak it too)."""
    v = pdu.version
    match pdu:
        case SerialNotify() | SerialQuery():
            kind = PduType.SERIAL_NOTIFY if isinstance(pdu, SerialNotify) else PduType.SERIAL_QUERY
            return _header(v, kind, pdu.session_id, 12) + pdu.serial.to_bytes(4, "big")
        case ResetQuery():
            return _header(v, PduType.RESET_QUERY, 0, 8)
        case CacheResponse():
            return _header(v, PduType.CACHE_RESPONSE, pdu.session_id, 8)
        case PrefixPdu():
            return _prefix_bytes(pdu)
        case EndOfData():
            if v == 0:
                return _header(v, PduType.END_OF_DATA, pdu.session_id, 12) + pdu.serial.to_bytes(4, "big")
            timers = (pdu.refresh or 0, pdu.retry or 0, pdu.expire or 0)
            return _header(v, PduType.END_OF_DATA, pdu.session_id, 24) + struct.pack("!IIII", pdu.serial, *timers)
        case CacheReset():
            return _header(v, PduType.CACHE_RESET, 0, 8)
        case RouterKey():
            raise ValueError("Router Key PDUs are not encoded: routewatch only receives them")
        case ErrorReport():
            text = pdu.text.encode()
            body = len(pdu.pdu).to_bytes(4, "big") + pdu.pdu + len(text).to_bytes(4, "big") + text
            return _header(v, PduType.ERROR_REPORT, pdu.code, HEADER.size + len(body)) + body
    raise AssertionError(pdu)  # pragma: no cover


class PduReader:
    """Splits a byte stream into PDUs; after an error the stream is unusable (the session closes it)."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> tuple[list[Pdu], RtrPduError | None]:
        """Every complete PDU in the stream so far, and the first bad one's error (decoding stops there)."""
        self._buffer += data
        pdus: list[Pdu] = []
        try:
            while True:
                length = pdu_length(self._buffer)
                if length is None or len(self._buffer) < length:
                    return pdus, None
                raw = bytes(self._buffer[:length])
                del self._buffer[:length]
                pdus.append(decode_pdu(raw))
        except RtrPduError as error:
            self._buffer.clear()
            return pdus, error

    @property
    def pending(self) -> int:
        """Bytes of an incomplete PDU waiting for the rest."""
        return len(self._buffer)
