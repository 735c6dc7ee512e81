"""The configured queries check (``zones[].queries``): each query asked of each address, judged.

An answer passes when its rcode is one of ``valid_rcodes`` and every
``expect`` regular expression matches one record of the answer section in
presentation format. Asked with RD=0 over UDP, again over TCP when truncated,
as blackbox_exporter's DNS prober would ask, but of every authoritative
address on its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import dns.flags
import dns.message

from routewatch.config.dns_queries import ZoneQuery
from routewatch.config.schema import DnsSettings, ZoneWatch
from routewatch.dns.answers import QueryResult, QueryResults, judge_answer
from routewatch.dns.checks.base import CheckJob, ask
from routewatch.dns.classify import EDNS_PAYLOAD
from routewatch.dns.targets import Transport


class QueriesCheck:
    """Zones with ``queries`` configured; UDP at ``dns.interval``, falling back to TCP."""

    name = "queries"

    def periods(self, watch: ZoneWatch, settings: DnsSettings) -> Mapping[Transport, float]:
        return {Transport.UDP: settings.interval} if watch.queries else {}

    async def run(self, job: CheckJob) -> QueryResults:
        return QueryResults(tuple([await _ask(job, query) for query in job.watch.queries]))


async def _ask(job: CheckJob, query: ZoneQuery) -> QueryResult:
    message = dns.message.make_query(query.name, query.type, use_edns=0, payload=EDNS_PAYLOAD)
    message.flags &= ~dns.flags.RD
    response = await ask(job, message)
    if isinstance(response, str):
        return QueryResult(query.label, False, None, response)
    return judge_answer(query, response)
