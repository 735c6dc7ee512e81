"""Scenarios replayed through routewatch's core whose exported series feed the rule tests.

- the reconstructed 2021-10-04 outage (``tests/support/outage_2021.py``): the
  six DNS prefixes withdrawn with path hunting from ~15:39 UTC, a collector
  restart in the middle, the return from ~21:00, and a quiet-time peer session
  reset at 13:30;
- the same quiet morning with every collector's feed going stale twice, once
  briefly (4 minutes) and once for long (18 minutes).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
from routewatch.dns.snapshot import TargetSnapshot
from routewatch.dns.targets import Target
from routewatch.exporter.dns import target_families
from routewatch.model import Event, FeedState, SourceStatus
from tests.oracle.alerting.exported import Recording, record
from tests.support import outage_2021 as outage

SCRAPE_INTERVAL = 60
ZONE = "facebook.com."
SHORT_STALE = (outage.utc("2021-10-04 13:00:00"), outage.utc("2021-10-04 13:04:00"))
LONG_STALE = (outage.utc("2021-10-04 13:40:00"), outage.utc("2021-10-04 13:58:00"))
QUIET_END = outage.utc("2021-10-04 14:30:00")
DESCRIPTION = "AS32934 DNS"


def nameservers() -> dict[str, str]:
    """Each nameserver of facebook.com and its IPv4 address."""
    return {name: addresses["A"] for name, addresses in outage.delegation()["ns"].items()}


def config() -> dict[str, Any]:
    """The outage's watch list: the six DNS prefixes and the aggregate, expected from AS32934, and
    facebook.com's nameserver addresses with the prefixes that serve them (the /23 and the /24)."""
    prefixes = [outage.AGGREGATE, *outage.dns_prefixes()]
    service = {
        address: [p for p in outage.dns_prefixes() if ipaddress.ip_address(address) in ipaddress.ip_network(p)]
        for address in nameservers().values()
    }
    return {
        "prefixes": [{"prefix": p, "asn": outage.FACEBOOK, "description": DESCRIPTION} for p in prefixes],
        "zones": [{"zone": ZONE, "service_prefixes": service}],
    }


class NameserverRisk(Collector):
    """routewatch's per-nameserver DNS series over the replayed core (no DNS probe is replayed, so
    only what the routes say is exported: peers at risk and their baseline)."""

    def __init__(self, monitor: Engine) -> None:
        self._monitor = monitor
        self._targets = tuple(
            TargetSnapshot(Target(ZONE, name, address), None, None, None, None, MappingProxyType({}), 0)
            for name, address in nameservers().items()
        )

    def collect(self) -> Iterator[Metric]:
        yield from target_families(self._targets, self._monitor.snapshot())


@dataclass(frozen=True)
class Replayed:
    recording: Recording
    start: float
    scenario: outage.Outage

    def offset(self, when: str) -> int:
        """Seconds from the first scrape to a UTC time of 2021-10-04 ("15:52:00")."""
        return int(outage.utc(f"2021-10-04 {when}") - self.start)

    def scrape_index(self, when: str) -> int:
        return self.offset(when) // self.recording.interval


def replay_outage() -> Replayed:
    scenario = outage.build()
    monitor = build_engine(parse_config(config()))
    recording = record(monitor, ((e, False) for e in scenario.events), outage.START, outage.END, SCRAPE_INTERVAL,
                       extra=[NameserverRisk(monitor)])
    return Replayed(recording, outage.START, scenario)


def _with_stale_feeds(events: list[Event]) -> list[Event]:
    collectors = sorted(outage.COLLECTORS)
    status = [
        SourceStatus(at, "ris-live", state, collector=collector)
        for begin, end in (SHORT_STALE, LONG_STALE)
        for at, state in ((begin, FeedState.STALE), (end, FeedState.UP))
        for collector in collectors
    ]
    quiet = [e for e in events if e.time <= QUIET_END]
    return sorted([*quiet, *status], key=lambda e: e.time)


def replay_stale_feeds() -> Replayed:
    scenario = outage.build()
    monitor = build_engine(parse_config(config()))
    events = _with_stale_feeds(scenario.events)
    recording = record(monitor, ((e, False) for e in events), outage.START, QUIET_END, SCRAPE_INTERVAL)
    return Replayed(recording, outage.START, scenario)
