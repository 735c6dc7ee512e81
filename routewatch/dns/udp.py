"""One DNS exchange over UDP that waits past stray packets.

Anyone can send a UDP packet to the port a query went out from: a late answer
to an earlier query, a spoofing attempt, a middlebox's noise. dnspython's
``udp()`` gives up on the first packet whose ID or question does not match, so
one stray packet made a healthy nameserver look down. Here a packet that is not
the answer (from another address or port, another ID, another question) is set
aside and the wait goes on until the real answer or the timeout; only if
nothing but such packets arrived is the verdict "wrong answer" rather than
"timeout". A packet from the server with the query's ID (or too short to carry
one) that does not parse is the server's answer, and a malformed one.
"""

from __future__ import annotations

import socket
import struct
import time

import dns.asyncbackend
import dns.asyncquery
import dns.exception
import dns.inet
import dns.message
import dns.query

_ID = struct.Struct("!H")


async def udp_exchange(query: dns.message.Message, address: str, port: int, timeout: float) -> dns.message.Message:
    """The answer to ``query`` from ``address``; ``response.time`` is its round trip in seconds.

    Raises dns.exception.Timeout when no answer came, dns.query.BadResponse
    when only packets that are not the answer came, and what dnspython raises
    for an answer that does not parse.
    """
    backend = dns.asyncbackend.get_default_backend()
    family = dns.inet.af_for_address(address)
    connected = (address, port) if backend.datagram_connection_required() else None
    begin = time.time()
    expiration = begin + timeout
    strays = 0
    sock = await backend.make_socket(family, socket.SOCK_DGRAM, 0, None, connected)
    async with sock:
        await sock.sendto(query.to_wire(), (address, port), max(0.0, expiration - time.time()))
        while True:
            remaining = expiration - time.time()
            try:
                if remaining <= 0:
                    raise dns.exception.Timeout
                wire, source = await sock.recvfrom(65535, remaining)
            except dns.exception.Timeout:
                if strays:
                    raise dns.query.BadResponse(f"{strays} packet(s) arrived, none the answer") from None
                raise
            received = time.time()
            if not _from(source, address, port) or (len(wire) >= 2 and _ID.unpack_from(wire)[0] != query.id):
                strays += 1
                continue
            response = dns.message.from_wire(wire, keyring=query.keyring, request_mac=query.mac)
            if not query.is_response(response):
                strays += 1
                continue
            response.time = received - begin
            return response


def _from(source: tuple[str, int] | tuple[str, int, int, int], address: str, port: int) -> bool:
    """Did the packet come from the address and port the query went to?"""
    try:
        return dns.inet.inet_pton(dns.inet.af_for_address(source[0]), source[0]) == dns.inet.inet_pton(
            dns.inet.af_for_address(address), address) and source[1] == port
    except ValueError:
        return False
