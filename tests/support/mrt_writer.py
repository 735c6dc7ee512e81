"""Writing small MRT update files (BGP4MP_MESSAGE_AS4, IPv4) for scenarios the shared data does not hold.

Independent of routewatch's reader: the bytes follow RFC 6396 and RFC 4271
directly, and ``bgpdump`` reads them back in the tests that use this, so a
scenario file is checked by an outside decoder before routewatch sees it.
Files are written to a temporary name and renamed, as collectors do, so a
follower never reads half a file.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

BGP4MP = 16
BGP4MP_MESSAGE_AS4 = 4
BGP4MP_STATE_CHANGE_AS4 = 5
LOCAL_AS = 12654
LOCAL_IP = "192.0.2.254"


@dataclass(frozen=True)
class Update:
    """One UPDATE from peer ``peer_ip``/``peer_as`` at ``time``: withdraw ``withdrawn``, announce ``announced``."""

    time: int
    peer_ip: str
    peer_as: int
    announced: Sequence[str] = ()
    path: Sequence[int | frozenset[int]] = ()
    """AS numbers, then at most one AS_SET (a frozenset) as the last hop."""
    withdrawn: Sequence[str] = ()
    communities: bytes = b""
    """The raw value of a COMMUNITIES attribute, if any (a length not a multiple of 4 makes a malformed UPDATE)."""


@dataclass(frozen=True)
class StateChange:
    """A BGP FSM transition of the session with ``peer_ip``/``peer_as`` (6 is ESTABLISHED)."""

    time: int
    peer_ip: str
    peer_as: int
    old_state: int
    new_state: int


def _nlri(prefixes: Iterable[str]) -> bytes:
    out = b""
    for text in prefixes:
        network = ipaddress.IPv4Network(text)
        size = (network.prefixlen + 7) // 8
        out += bytes([network.prefixlen]) + network.network_address.packed[:size]
    return out


def _attribute(flags: int, code: int, value: bytes) -> bytes:
    return bytes([flags, code, len(value)]) + value


def _update_message(update: Update) -> bytes:
    withdrawn = _nlri(update.withdrawn)
    attributes = b""
    if update.announced:
        sequence = [asn for asn in update.path if isinstance(asn, int)]
        as_set = sorted(update.path[-1]) if update.path and isinstance(update.path[-1], frozenset) else []
        segment = bytes([2, len(sequence)]) + b"".join(struct.pack(">I", asn) for asn in sequence)
        if as_set:
            segment += bytes([1, len(as_set)]) + b"".join(struct.pack(">I", asn) for asn in as_set)
        attributes = (_attribute(0x40, 1, b"\x00") + _attribute(0x40, 2, segment)
                      + _attribute(0x40, 3, ipaddress.IPv4Address(update.peer_ip).packed))
        if update.communities:
            attributes += _attribute(0xC0, 8, update.communities)
    body = (struct.pack(">H", len(withdrawn)) + withdrawn + struct.pack(">H", len(attributes)) + attributes
            + _nlri(update.announced))
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body


def _header(peer_as: int, peer_ip: str) -> bytes:
    return (struct.pack(">IIHH", peer_as, LOCAL_AS, 0, 1) + ipaddress.IPv4Address(peer_ip).packed
            + ipaddress.IPv4Address(LOCAL_IP).packed)


def record(update: Update | StateChange) -> bytes:
    """One MRT record carrying ``update`` (or a session state change)."""
    if isinstance(update, StateChange):
        payload = _header(update.peer_as, update.peer_ip) + struct.pack(">HH", update.old_state, update.new_state)
        return struct.pack(">IHHI", update.time, BGP4MP, BGP4MP_STATE_CHANGE_AS4, len(payload)) + payload
    payload = (struct.pack(">IIHH", update.peer_as, LOCAL_AS, 0, 1) + ipaddress.IPv4Address(update.peer_ip).packed
               + ipaddress.IPv4Address(LOCAL_IP).packed + _update_message(update))
    return struct.pack(">IHHI", update.time, BGP4MP, BGP4MP_MESSAGE_AS4, len(payload)) + payload


def write_updates(path: Path, updates: Iterable[Update | StateChange]) -> Path:
    """Write the updates as one MRT file, atomically."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(b"".join(record(u) for u in updates))
    os.replace(tmp, path)
    return path
