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


def open_message(asn: int, *, four_byte: bool = True, add_path: Iterable[tuple[int, int, int]] = (),
                 families: Iterable[tuple[int, int]] = ()) -> bytes:
    """An OPEN (RFC 4271) with 4-byte AS, ADD-PATH and a multiprotocol capability (RFC 4760) per (AFI, SAFI)."""
    caps = b"".join(bytes([1, 4]) + struct.pack(">HBB", afi, 0, safi) for afi, safi in families)
    if four_byte:
        caps += bytes([65, 4]) + struct.pack(">I", asn)
    families = b"".join(struct.pack(">HBB", afi, safi, mode) for afi, safi, mode in add_path)
    if families:
        caps += bytes([69, len(families)]) + families
    params = bytes([2, len(caps)]) + caps if caps else b""
    body = struct.pack(">BHHIB", 4, asn if asn < 65536 else 23456, 180, 0x0A000002, len(params)) + params
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 1) + body


def peer_up(address: str, asn: int, local_asn: int = 65000, *, families: Iterable[tuple[int, int]] = (),
            received_families: Iterable[tuple[int, int]] | None = None, **peer: object) -> bytes:
    """Peer Up with the OPEN the router sent (``families``) and the one it received (the same unless given)."""
    families = tuple(families)
    received = families if received_families is None else tuple(received_families)
    local = bytes(12) + ipaddress.IPv4Address("127.0.0.1").packed
    body = per_peer(address, asn, **peer) + local + struct.pack(">HH", 179, 40000)  # type: ignore[arg-type]
    return message(3, body + open_message(local_asn, families=families) + open_message(asn, families=received))


def peer_down(address: str, asn: int, reason: int = 4, **peer: object) -> bytes:
    return message(2, per_peer(address, asn, **peer) + bytes([reason]))  # type: ignore[arg-type]


def route_monitoring(update: Update, **peer: object) -> bytes:
    return message(0, per_peer(update.peer_ip, update.peer_as, **peer) + _update_message(update))  # type: ignore[arg-type]


def _bgp_update(body: bytes) -> bytes:
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body


def _attribute(code: int, value: bytes, flags: int = 0x80) -> bytes:
    """A path attribute with an extended length; MP_(UN)REACH_NLRI are optional (0x80), AS_PATH well-known (0x40)."""
    return struct.pack(">BBH", flags | 0x10, code, len(value)) + value


def _ipv6_nlri(prefixes: Iterable[str]) -> bytes:
    out = b""
    for text in prefixes:
        network = ipaddress.IPv6Network(text)
        out += bytes([network.prefixlen]) + network.network_address.packed[:(network.prefixlen + 7) // 8]
    return out


def route_monitoring_ipv6(address: str, asn: int, announced: Iterable[str] = (), path: Iterable[int] = (),
                          withdrawn: Iterable[str] = (), **peer: object) -> bytes:
    """An IPv6 unicast UPDATE (RFC 4760: MP_REACH_NLRI, MP_UNREACH_NLRI) from the peer, as Route Monitoring."""
    attributes = b""
    gone = _ipv6_nlri(withdrawn)
    if gone:
        attributes += _attribute(15, struct.pack(">HB", 2, 1) + gone)
    nlri = _ipv6_nlri(announced)
    if nlri:
        path = tuple(path)
        next_hop = ipaddress.IPv6Address("2001:db8::1").packed
        attributes += (bytes([0x40, 1, 1, 0])
                       + _attribute(2, bytes([2, len(path)]) + b"".join(struct.pack(">I", a) for a in path), 0x40)
                       + _attribute(14, struct.pack(">HBB", 2, 1, 16) + next_hop + b"\0" + nlri))
    update = _bgp_update(struct.pack(">HH", 0, len(attributes)) + attributes)
    return message(0, per_peer(address, asn, **peer) + update)  # type: ignore[arg-type]


def end_of_rib(address: str, asn: int, afi: int = 1, safi: int = 1, **peer: object) -> bytes:
    """The peer's End-of-RIB for (AFI, SAFI) (RFC 4724): empty for IPv4 unicast, else a lone empty MP_UNREACH_NLRI."""
    attributes = b"" if (afi, safi) == (1, 1) else bytes([0x80, 15, 3]) + struct.pack(">HB", afi, safi)
    update = _bgp_update(struct.pack(">HH", 0, len(attributes)) + attributes)
    return message(0, per_peer(address, asn, **peer) + update)  # type: ignore[arg-type]


def statistics(address: str, asn: int) -> bytes:
    return message(1, per_peer(address, asn) + struct.pack(">I", 1) + tlvs([(0, struct.pack(">I", 7))]))
