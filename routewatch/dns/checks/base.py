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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from routewatch.config.schema import DnsSettings, ZoneWatch
from routewatch.dns.answers import QueryResults
from routewatch.dns.probe import Observation, ProbeSettings
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
