"""The SOA check: is this address serving the zone authoritatively (NOERROR, AA, SOA)?

It runs over UDP at ``dns.interval`` and over TCP at ``dns.tcp_interval``
(TCP-only breakage is real); the question and its judgement are
:mod:`routewatch.dns.probe` and :mod:`routewatch.dns.classify`.
"""

from __future__ import annotations

from collections.abc import Mapping

from routewatch.config.schema import DnsSettings, ZoneWatch
from routewatch.dns.checks.base import CheckJob
from routewatch.dns.probe import Observation, probe_soa
from routewatch.dns.targets import Transport


class SoaCheck:
    """Every zone, every address, both transports."""

    name = "soa"

    def periods(self, watch: ZoneWatch, settings: DnsSettings) -> Mapping[Transport, float]:
        return {Transport.UDP: settings.interval, Transport.TCP: settings.tcp_interval}

    async def run(self, job: CheckJob) -> Observation:
        return await probe_soa(job.target.address, job.target.zone, job.transport, job.settings, limit=job.limit)
