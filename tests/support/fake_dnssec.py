"""Hostile DNSSEC answers for the in-process server of :mod:`tests.support.fake_dns`.

No real signer will publish a signature of the wrong length, a 64 KB key or
an RRSIG that expires before it begins; this one does. Answers start from a
correctly signed zone (signed here with dnspython and ``cryptography``, not by
routewatch) and one part is then broken.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives.asymmetric import ec
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG

from .fake_dns import Handler

Mutation = Callable[[dns.rrset.RRset, dns.rrset.RRset], tuple[dns.rrset.RRset, dns.rrset.RRset]]
"""Turns (an RRset, its RRSIG RRset) into what the hostile server sends instead."""


@dataclass(frozen=True)
class SignedZone:
    """A zone's DNSKEY and SOA RRsets with valid signatures, made for one test."""

    dnskey: tuple[dns.rrset.RRset, dns.rrset.RRset]
    soa: tuple[dns.rrset.RRset, dns.rrset.RRset]


def signed_zone(zone: str, now: float | None = None) -> SignedZone:
    origin = dns.name.from_text(zone)
    now = time.time() if now is None else now
    private = ec.generate_private_key(ec.SECP256R1())
    key = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ECDSAP256SHA256, flags=257)
    keys = dns.rrset.from_rdata(origin, 300, key)
    soa = dns.rrset.from_text(origin, 300, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} 1 7200 3600 1209600 300")

    def sign(rrset: dns.rrset.RRset) -> dns.rrset.RRset:
        rrsig = dns.dnssec.sign(rrset, private, origin, key, inception=now - 3600, expiration=now + 86_400)
        return dns.rrset.from_rdata(origin, 300, rrsig)

    return SignedZone((keys, sign(keys)), (soa, sign(soa)))


def _replace_rrsig(rrsigs: dns.rrset.RRset, **changes: object) -> dns.rrset.RRset:
    rrsig = rrsigs[0]
    assert isinstance(rrsig, RRSIG)
    return dns.rrset.from_rdata(rrsigs.name, rrsigs.ttl, rrsig.replace(**changes))


def absurd_times(rrset: dns.rrset.RRset, rrsigs: dns.rrset.RRset) -> tuple[dns.rrset.RRset, dns.rrset.RRset]:
    """Incepted in 2106, expired in 1970: the end of the 32-bit range and its start."""
    return rrset, _replace_rrsig(rrsigs, inception=2**32 - 1, expiration=0)


def wrong_length_signature(rrset: dns.rrset.RRset,
                           rrsigs: dns.rrset.RRset) -> tuple[dns.rrset.RRset, dns.rrset.RRset]:
    """An ECDSA P-256 signature is 64 bytes; this one is 10."""
    return rrset, _replace_rrsig(rrsigs, signature=b"\x01" * 10)


def huge_key(rrset: dns.rrset.RRset, rrsigs: dns.rrset.RRset) -> tuple[dns.rrset.RRset, dns.rrset.RRset]:
    """A DNSKEY whose key is 65,000 bytes (only TCP can carry the answer)."""
    if rrset.rdtype != dns.rdatatype.DNSKEY:
        return rrset, rrsigs
    giant = DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, 257, 3, dns.dnssec.Algorithm.ECDSAP256SHA256,
                   b"\xff" * 65_000)
    return dns.rrset.from_rdata(rrset.name, rrset.ttl, giant), rrsigs


def hostile(zone: SignedZone, mutate: Mutation) -> Handler:
    """Answer DNSKEY and SOA queries (any other type: the SOA) from ``zone``, broken by ``mutate``.

    Over UDP an answer past 1,232 bytes is sent empty with TC set, as real
    servers do, so that the client must retry over TCP.
    """

    def handle(wire: bytes, transport: str) -> bytes:
        query = dns.message.from_wire(wire)
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        rrset, rrsigs = zone.dnskey if query.question[0].rdtype == dns.rdatatype.DNSKEY else zone.soa
        rrset, rrsigs = mutate(rrset, rrsigs)
        reply.answer = [rrset, rrsigs]
        full = reply.to_wire(max_size=65_535)
        if transport == "udp" and len(full) > 1232:
            reply.answer = []
            reply.flags |= dns.flags.TC
            return reply.to_wire()
        return full

    return handle
