"""Turning one DNS response into a probe verdict, without any I/O.

Healthy means: the response belongs to the query, rcode NOERROR, the AA flag
is set, and the answer carries the zone's SOA. Everything else maps to one
:class:`ProbeFailure`, so that the question "why is this server not serving the
zone" has a small, alertable set of answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
from dns.rdtypes.ANY.SOA import SOA

from routewatch.dns.targets import ProbeFailure

EDNS_PAYLOAD = 1232
"""The EDNS buffer size routewatch advertises (the DNS Flag Day 2020 value)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one response says about a server.

    ``failure`` is None when the server is healthy for the zone; ``serial`` is
    the SOA serial when one was present (even in an otherwise failing answer,
    e.g. a non-authoritative copy); ``authoritative`` is the AA flag; ``nsid``
    is the server's NSID text (which anycast site answered), when it sent one.
    """

    failure: ProbeFailure | None
    serial: int | None = None
    authoritative: bool = False
    nsid: str | None = None
    rcode: str = ""
    truncated: bool = False

    @property
    def up(self) -> bool:
        return self.failure is None


def make_soa_query(zone: str, *, recursion: bool = False, msg_id: int | None = None) -> dns.message.QueryMessage:
    """An SOA query for ``zone`` asking for NSID; RD is cleared unless a resolver is being asked.

    RD=0 matters: an authoritative server that also recurses would otherwise
    fetch the answer elsewhere and look healthy while its own zone is broken.
    """
    query = dns.message.make_query(
        zone,
        dns.rdatatype.SOA,
        use_edns=0,
        payload=EDNS_PAYLOAD,
        options=[dns.edns.NSIDOption(b"")],
        id=msg_id,
    )
    if not recursion:
        query.flags &= ~dns.flags.RD
    return query


def nsid_text(response: dns.message.Message) -> str | None:
    """The NSID option as text: printable ASCII as-is, anything else as hex."""
    for option in response.options:
        if option.otype == dns.edns.OptionType.NSID:
            raw = option.to_wire() or b""
            if not raw:
                return None
            text = raw.decode("ascii", errors="replace")
            return text if text.isprintable() and text.isascii() else raw.hex()
    return None


def _soa_serial(response: dns.message.Message, zone: dns.name.Name) -> int | None:
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name == zone and len(rrset) == 1:
            rdata = rrset[0]
            if isinstance(rdata, SOA):
                return int(rdata.serial)
    return None


def classify_authoritative(query: dns.message.Message, response: dns.message.Message) -> Verdict:
    """Classify an authoritative server's answer to :func:`make_soa_query`."""
    return _classify(query, response, require_aa=True)


def classify_recursive(query: dns.message.Message, response: dns.message.Message) -> Verdict:
    """Classify a recursive resolver's answer: what users see, so AA is not expected."""
    return _classify(query, response, require_aa=False)


def _classify(query: dns.message.Message, response: dns.message.Message, *, require_aa: bool) -> Verdict:
    rcode = response.rcode()
    authoritative = bool(response.flags & dns.flags.AA)
    truncated = bool(response.flags & dns.flags.TC)
    zone = query.question[0].name
    serial = _soa_serial(response, zone)
    if query.is_response(response):
        failure = _failure(rcode, authoritative, serial, require_aa=require_aa)
    else:
        failure = ProbeFailure.WRONG_ANSWER  # another query's answer, or a different question
    return Verdict(failure, serial, authoritative, nsid_text(response), dns.rcode.to_text(rcode), truncated)


def _failure(rcode: int, authoritative: bool, serial: int | None, *, require_aa: bool) -> ProbeFailure | None:
    if rcode == dns.rcode.REFUSED:
        return ProbeFailure.REFUSED
    if rcode == dns.rcode.SERVFAIL:
        return ProbeFailure.SERVFAIL
    if require_aa and (not authoritative or rcode == dns.rcode.NOTAUTH):
        return ProbeFailure.NOT_AUTHORITATIVE
    if rcode != dns.rcode.NOERROR or serial is None:
        return ProbeFailure.WRONG_ANSWER
    return None
