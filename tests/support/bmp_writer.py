"""BMP messages written for tests (RFC 7854), from the RFC's layouts: independent of routewatch's decoder."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable

from tests.support.mrt_writer import Update, _update_message


def message(kind: int, body: bytes) -> bytes:
    return struct.pack(">BIB", 3, 6 + len(body), kind) + body


def per_peer(address: str, asn: int, *, peer_type: int = 0, post_policy: bool = False, adj_rib_out: bool = False,
             time: float = 1_700_000_000.0, two_byte: bool = False) -> bytes:
    ip = ipaddress.ip_address(address)
    flags = (0x80 if ip.version == 6 else 0) | (0x40 if post_policy else 0) | (0x20 if two_byte else 0)
    flags |= 0x10 if adj_rib_out else 0
    raw = ip.packed if ip.version == 6 else bytes(12) + ip.packed
    seconds = int(time)
    return struct.pack(">BB8s16sIIII", peer_type, flags, bytes(8), raw, asn, 0x0A000001, seconds,
                       int((time - seconds) * 1e6))


def tlvs(items: Iterable[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack(">HH", kind, len(value)) + value for kind, value in items)


def initiation(sys_name: str, sys_descr: str = "a router") -> bytes:
    return message(4, tlvs([(2, sys_name.encode()), (1, sys_descr.encode())]))


def termination(reason: int = 0) -> bytes:
    return message(5, tlvs([(1, struct.pack(">H", reason))]))


def open_message(asn: int, *, four_byte: bool = True, add_path: Iterable[tuple[int, int, int]] = ()) -> bytes:
    caps = b""
    if four_byte:
        caps += bytes([65, 4]) + struct.pack(">I", asn)
    families = b"".join(struct.pack(">HBB", afi, safi, mode) for afi, safi, mode in add_path)
    if families:
        caps += bytes([69, len(families)]) + families
    params = bytes([2, len(caps)]) + caps if caps else b""
    body = struct.pack(">BHHIB", 4, asn if asn < 65536 else 23456, 180, 0x0A000002, len(params)) + params
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 1) + body


def peer_up(address: str, asn: int, local_asn: int = 65000, **peer: object) -> bytes:
    local = bytes(12) + ipaddress.IPv4Address("127.0.0.1").packed
    body = per_peer(address, asn, **peer) + local + struct.pack(">HH", 179, 40000)  # type: ignore[arg-type]
    return message(3, body + open_message(local_asn) + open_message(asn))


def peer_down(address: str, asn: int, reason: int = 4, **peer: object) -> bytes:
    return message(2, per_peer(address, asn, **peer) + bytes([reason]))  # type: ignore[arg-type]


def route_monitoring(update: Update, **peer: object) -> bytes:
    return message(0, per_peer(update.peer_ip, update.peer_as, **peer) + _update_message(update))  # type: ignore[arg-type]


def statistics(address: str, asn: int) -> bytes:
    return message(1, per_peer(address, asn) + struct.pack(">I", 1) + tlvs([(0, struct.pack(">I", 7))]))
