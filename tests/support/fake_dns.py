"""An in-process DNS server on loopback for what real servers will not send.

Knot and NSD cannot be made to truncate an SOA answer, send garbage bytes,
answer with the wrong message ID or overflow the advertised buffer; this
server can. A handler receives the query's wire bytes and the transport and
returns the reply's bytes, or None to stay silent. It speaks UDP and TCP
(two-byte length prefix) on the same address and port.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

Handler = Callable[[bytes, str], bytes | None]


@dataclass
class FakeDnsServer:
    """Serve ``handler`` on ``address``:``port`` (0 picks a port) over UDP and TCP; counts queries by transport."""

    address: str
    handler: Handler
    port: int = 0
    queries: dict[str, int] = field(default_factory=lambda: {"udp": 0, "tcp": 0})
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None

    async def start(self) -> FakeDnsServer:
        loop = asyncio.get_running_loop()
        self._tcp = await asyncio.start_server(self._serve_tcp, self.address, self.port)
        self.port = self._tcp.sockets[0].getsockname()[1]
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(self.address, self.port)
        )
        return self

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    def answer(self, wire: bytes, transport: str) -> bytes | None:
        self.queries[transport] += 1
        return self.handler(wire, transport)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.answer(await reader.readexactly(length), "tcp")
                if reply is None:
                    continue
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: FakeDnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.server.answer(data, "udp")
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


def soa_reply(
    query: dns.message.Message,
    serial: int = 2021100401,
    *,
    aa: bool = True,
    rcode: int = dns.rcode.NOERROR,
    nsid: bytes | None = None,
    padding_records: int = 0,
) -> dns.message.Message:
    """An SOA answer for the query's name; ``padding_records`` adds TXT records to make it large."""
    reply = dns.message.make_response(query)
    zone = query.question[0].name
    if aa:
        reply.flags |= dns.flags.AA
    reply.set_rcode(rcode)
    if rcode == dns.rcode.NOERROR:
        reply.answer.append(dns.rrset.from_text(
            zone, 300, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} {serial} 7200 3600 1209600 300"))
    for index in range(padding_records):
        reply.additional.append(dns.rrset.from_text(
            f"pad{index}.{zone}", 300, "IN", "TXT", '"' + "x" * 200 + '"'))
    if nsid is not None:
        reply.use_edns(0, payload=1232, options=[dns.edns.NSIDOption(nsid)])
    return reply


def authoritative(serial: int = 2021100401, **kwargs: object) -> Handler:
    """A healthy authoritative server for whatever zone is asked."""

    def handle(wire: bytes, _transport: str) -> bytes:
        query = dns.message.from_wire(wire)
        return soa_reply(query, serial, **kwargs).to_wire()  # type: ignore[arg-type]

    return handle


def truncating(serial: int = 2021100401) -> Handler:
    """Over UDP: an empty answer with TC set; over TCP: the full answer (what a server does past its buffer)."""

    def handle(wire: bytes, transport: str) -> bytes:
        query = dns.message.from_wire(wire)
        if transport == "tcp":
            return soa_reply(query, serial).to_wire()
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA | dns.flags.TC
        return reply.to_wire()

    return handle


def garbage(payload: bytes) -> Handler:
    """Answers every query with ``payload`` verbatim (malformed bytes)."""
    return lambda _wire, _transport: payload


def wrong_id(serial: int = 2021100401) -> Handler:
    """A correct answer under another message ID."""

    def handle(wire: bytes, _transport: str) -> bytes:
        query = dns.message.from_wire(wire)
        reply = soa_reply(query, serial)
        reply.id = (query.id + 1) % 65536
        return reply.to_wire()

    return handle


def oversized(serial: int = 2021100401, records: int = 40) -> Handler:
    """A valid answer far larger than the 1232-byte buffer the query advertised, over UDP too."""

    def handle(wire: bytes, _transport: str) -> bytes:
        query = dns.message.from_wire(wire)
        return soa_reply(query, serial, padding_records=records).to_wire(max_size=65535)

    return handle


def silent() -> Handler:
    return lambda _wire, _transport: None


def by_type(answers: dict[dns.rdatatype.RdataType, Callable[[dns.message.Message], dns.message.Message]],
            fallback: Handler) -> Handler:
    """Dispatch on the question type (NS, A, AAAA for discovery); anything else goes to ``fallback``."""

    def handle(wire: bytes, transport: str) -> bytes | None:
        query = dns.message.from_wire(wire)
        make = answers.get(query.question[0].rdtype)
        return make(query).to_wire() if make else fallback(wire, transport)

    return handle
