"""Stray UDP packets before the real answer: the probe waits for the answer instead of giving up.

A server on real loopback sockets answers every query first with packets that
are not the answer (another message ID, parsable or not; the right ID for
another question; the right answer from another port), and the real answer 50 ms
later. Before, the first stray packet made a healthy server "down".
"""

from __future__ import annotations

import asyncio
from typing import cast

import dns.message
import dns.rdatatype

from routewatch.dns.discovery import Discoverer
from routewatch.dns.probe import ProbeSettings, probe_soa
from routewatch.dns.targets import ProbeFailure, Transport
from tests.support.fake_dns import soa_reply

ZONE = "example.org."
SERIAL = 2021100401


class _StrayFirst(asyncio.DatagramProtocol):
    def __init__(self, other: asyncio.DatagramTransport | None, answer: bool) -> None:
        self.other = other
        self.answer = answer
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        query = dns.message.from_wire(data)
        wrong_id = soa_reply(query, SERIAL)
        wrong_id.id = (query.id + 1) % 65536
        other_question = dns.message.make_query("example.net.", "SOA")
        other_question.id = query.id
        wrong_question = dns.message.make_response(other_question)
        self.transport.sendto(wrong_id.to_wire(), addr)
        self.transport.sendto(wrong_question.to_wire(), addr)
        self.transport.sendto(wrong_id.to_wire()[:2] + b"\x00garbage", addr)  # another ID, unparsable
        if self.other is not None:
            self.other.sendto(soa_reply(query, SERIAL).to_wire(), addr)  # the right bytes from the wrong port
        if self.answer:
            reply = soa_reply(query, SERIAL).to_wire()
            asyncio.get_running_loop().call_later(0.05, self.transport.sendto, reply, addr)


async def _serve(answer: bool) -> tuple[asyncio.DatagramTransport, asyncio.DatagramTransport, int]:
    loop = asyncio.get_running_loop()
    other, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
    server, _ = await loop.create_datagram_endpoint(lambda: _StrayFirst(other, answer),
                                                     local_addr=("127.0.0.1", 0))
    return server, other, server.get_extra_info("sockname")[1]


async def test_stray_packets_before_the_answer_are_ignored() -> None:
    server, other, port = await _serve(answer=True)
    try:
        result = await probe_soa("127.0.0.1", ZONE, Transport.UDP, ProbeSettings(port=port, timeout=5.0))
    finally:
        server.close()
        other.close()
    assert result.failure is None, result.detail
    assert result.serial == SERIAL and result.attempts == 1


async def test_only_stray_packets_until_the_timeout_is_a_wrong_answer() -> None:
    server, other, port = await _serve(answer=False)
    try:
        result = await probe_soa("127.0.0.1", ZONE, Transport.UDP, ProbeSettings(port=port, timeout=0.3))
    finally:
        server.close()
        other.close()
    assert result.failure is ProbeFailure.WRONG_ANSWER, result.detail


async def test_discovery_waits_past_stray_packets_for_the_answer() -> None:
    """Discovery's exchange (dnspython's udp_with_fallback) skips the same strays as the probe."""
    server, other, port = await _serve(answer=True)
    try:
        response = await Discoverer(ProbeSettings(port=port, timeout=5.0))._ask(
            "127.0.0.1", ZONE, dns.rdatatype.SOA, False)
    finally:
        server.close()
        other.close()
    assert response is not None
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.SOA]
