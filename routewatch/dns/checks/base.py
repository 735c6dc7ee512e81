"""What every DNS check looks like: one signature, so the monitor schedules them all alike.

A check is asked about one target (one address of one nameserver of one
zone) over one transport, and answers with an outcome value; it never raises
for anything a server or the network does. Which transports it runs over, and
how often, it says itself from the zone's settings (none: not run for that
zone). The monitor owns the clock, the schedule and the state; a check owns
only its questions and its judgement of the answers (as blackbox_exporter's
probers share one signature in one map).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import dns.asyncquery
import dns.message

from routewatch.config.schema import DnsSettings, ZoneWatch
from routewatch.dns.answers import QueryResults
from routewatch.dns.probe import RETRYABLE, Observation, ProbeSettings, failure_from_exception
from routewatch.dns.signatures import AddressDnssec
from routewatch.dns.targets import Target, Transport

CheckOutcome = Observation | AddressDnssec | QueryResults
"""What a check returns; the monitor records it on the target's state."""


@dataclass(frozen=True, slots=True)
class CheckJob:
    """One run of a check: the target, the transport, how to ask, and the zone's configured entry.

    ``limit`` bounds the queries in flight across every check of the monitor.
    """

    target: Target
    transport: Transport
    settings: ProbeSettings
    watch: ZoneWatch
    limit: asyncio.Semaphore | None = None


class DnsCheck(Protocol):
    """A DNS check: a name, its schedule for a zone, and one run against one target."""

    name: str

    def periods(self, watch: ZoneWatch, settings: DnsSettings) -> Mapping[Transport, float]:
        """Seconds between runs per transport for this zone; empty when the check is off for it."""
        ...

    async def run(self, job: CheckJob) -> CheckOutcome:
        """Ask, judge, and return the outcome; never raises for what a server or network does."""
        ...


async def ask(job: CheckJob, query: dns.message.Message) -> dns.message.Message | str:
    """The target's answer to ``query`` over UDP (TCP when truncated), or why there is none.

    Silence and unreachability are retried ``job.settings.retries`` times;
    anything else a server or the network does ends the asking at once. The
    concurrency limit is held per attempt, so a slow server starves no one.
    """
    why = ""
    for _ in range(job.settings.retries + 1):
        try:
            async with job.limit if job.limit is not None else contextlib.nullcontext():
                response, _ = await dns.asyncquery.udp_with_fallback(
                    query, job.target.address, timeout=job.settings.timeout, port=job.settings.port,
                    ignore_unexpected=True, ignore_errors=True,  # stray packets are skipped
                )
        except Exception as exc:  # noqa: BLE001 - anything a server or network does is a verdict
            failure, why = failure_from_exception(exc)
            if failure in RETRYABLE:
                continue
            return why
        return response
    return why
