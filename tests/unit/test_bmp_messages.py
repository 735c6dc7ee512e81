"""BMP messages decoded: every message type, the OPEN capabilities that decide how UPDATEs read, and damage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.sources.bmp.messages import MalformedBmp, MessageType, PeerType, decode, open_capabilities
from tests.support.bmp_writer import (
    initiation,
    message,
    open_message,
    peer_down,
    peer_up,
    route_monitoring,
    statistics,
    termination,
)
from tests.support.mrt_writer import Update

UPDATE = Update(0, "192.0.2.1", 64501, ["198.51.100.0/24"], [64501, 64500])


def test_initiation_and_termination_carry_their_tlvs() -> None:
    init = decode(initiation("edge1.example", "FRRouting"))
    assert init.kind == MessageType.INITIATION and init.tlvs[2] == b"edge1.example" and init.tlvs[1] == b"FRRouting"
    assert decode(termination(1)).tlvs == {1: b"\x00\x01"}


def test_peer_up_reads_both_opens() -> None:
    up = decode(peer_up("192.0.2.1", 64501))
    assert up.kind == MessageType.PEER_UP and up.peer is not None
    assert (up.peer.address, up.peer.asn, up.peer.peer_type) == ("192.0.2.1", 64501, PeerType.GLOBAL)
    assert up.sent_open is not None and up.sent_open.four_byte_as
    assert up.received_open is not None and up.received_open.four_byte_as


def test_open_capabilities_four_byte_as_and_add_path() -> None:
    caps = open_capabilities(open_message(4_200_000_000, add_path=[(1, 1, 3), (2, 1, 1)]))
    assert caps.four_byte_as and caps.add_path == {(1, 1): 3, (2, 1): 1}
    assert not open_capabilities(open_message(64500, four_byte=False)).four_byte_as


def test_open_capabilities_multiprotocol_families_and_ipv4_unicast_when_none() -> None:
    """RFC 4760: each family has a capability; an OPEN naming none speaks IPv4 unicast (RFC 4271)."""
    caps = open_capabilities(open_message(64500, families=[(1, 1), (2, 1), (1, 128)], add_path=[(2, 1, 1)]))
    assert caps.families == caps.table_families == {(1, 1), (2, 1), (1, 128)}
    assert caps.four_byte_as and caps.add_path == {(2, 1): 1}
    assert open_capabilities(open_message(64500)).table_families == {(1, 1)}
    up = decode(peer_up("192.0.2.1", 64501, families=[(1, 1), (2, 1)], received_families=[(1, 1)]))
    assert up.sent_open is not None and up.sent_open.families == {(1, 1), (2, 1)}
    assert up.received_open is not None and up.received_open.families == {(1, 1)}


def test_route_monitoring_peer_down_and_flags() -> None:
    rm = decode(route_monitoring(UPDATE, post_policy=True, time=1_700_000_000.25))
    assert rm.kind == MessageType.ROUTE_MONITORING and rm.peer is not None
    assert rm.peer.post_policy and not rm.peer.adj_rib_out and rm.time == 1_700_000_000.25
    assert rm.body[18] == 2  # the BGP UPDATE, whole
    out = decode(route_monitoring(UPDATE, adj_rib_out=True))
    assert out.peer is not None and out.peer.adj_rib_out
    loc = decode(route_monitoring(UPDATE, peer_type=PeerType.LOC_RIB, adj_rib_out=True))
    assert loc.peer is not None and loc.peer.peer_type == PeerType.LOC_RIB and not loc.peer.adj_rib_out
    down = decode(peer_down("2001:db8::1", 64502, reason=3))
    assert down.peer is not None and down.peer.address == "2001:db8::1" and down.reason == 3
    assert decode(statistics("192.0.2.1", 64501)).kind == MessageType.STATISTICS_REPORT


@pytest.mark.parametrize("damaged", [
    b"\x02" + message(4, b"")[1:],                 # version 2
    message(0, b"\x00" * 10),                      # truncated per-peer header
    message(4, b"\x00\x02\x00\x09abc"),            # TLV overruns its message
    message(3, peer_up("192.0.2.1", 64501)[48:60]),
    b"\x03\xff\xff\xff\xff\x00",                   # a 4 GB length
])
def test_damage_is_malformed_bmp(damaged: bytes) -> None:
    with pytest.raises(MalformedBmp):
        decode(damaged)


VALID = [initiation("r1"), peer_up("192.0.2.1", 64501), route_monitoring(UPDATE), peer_down("192.0.2.1", 64501),
         statistics("192.0.2.1", 64501), termination()]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID), st.data())
def test_damage_to_a_valid_message_is_read_or_refused_never_raised(valid: bytes, data: st.DataObject) -> None:
    raw = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        decode(bytes(raw[:cut]) if data.draw(st.booleans()) else bytes(raw))
    except MalformedBmp:
        pass
