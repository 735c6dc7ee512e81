"""The DNSSEC check: what one address serves of the zone's keys and signatures.

Asks the address, with RD=0 and DO=1, over UDP with a TCP retry when the
answer is truncated (DNSKEY RRsets outgrow 1,232 bytes during rollovers), for
the zone's DNSKEY and SOA; :mod:`routewatch.dns.signatures` judges them. The
parent's DS comes from discovery; :mod:`routewatch.dns.trust` joins the two
per zone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from routewatch.config.schema import DnsSettings, ZoneWatch
from routewatch.dns.checks.base import CheckJob, ask
from routewatch.dns.classify import EDNS_PAYLOAD
from routewatch.dns.signatures import AddressDnssec, SigningStatus, judge_address
from routewatch.dns.targets import Transport


class DnssecCheck:
    """Every address of every zone, unless ``dns.dnssec.enabled`` is off; UDP, falling back to TCP."""

    name = "dnssec"

    def periods(self, watch: ZoneWatch, settings: DnsSettings) -> Mapping[Transport, float]:
        return {Transport.UDP: settings.dnssec.interval} if settings.dnssec.enabled else {}

    async def run(self, job: CheckJob) -> AddressDnssec:
        zone = job.target.zone
        answers = []
        for rdtype in (dns.rdatatype.DNSKEY, dns.rdatatype.SOA):
            response = await _ask(job, rdtype)
            if isinstance(response, str):
                return AddressDnssec(SigningStatus.NO_ANSWER, time.time(), problems=(response,))
            answers.append(response)
        return judge_address(answers[0], answers[1], zone, time.time())


async def _ask(job: CheckJob, rdtype: dns.rdatatype.RdataType) -> dns.message.Message | str:
    """The answer to one DO=1 query, or why there is none (after the configured retries)."""
    query = dns.message.make_query(job.target.zone, rdtype, want_dnssec=True, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    response = await ask(job, query)
    if isinstance(response, str):
        return f"{rdtype.name} query: {response}"
    if response.rcode() != dns.rcode.NOERROR:
        return f"{rdtype.name} query: rcode {dns.rcode.to_text(response.rcode())}"
    return response
