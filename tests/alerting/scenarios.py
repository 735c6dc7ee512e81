"""Scenarios replayed through routewatch's core whose exported series feed the rule tests.

- the reconstructed 2021-10-04 outage (``tests/support/outage_2021.py``): the
  six DNS prefixes withdrawn with path hunting from ~15:39 UTC, a collector
  restart in the middle, the return from ~21:00, and a quiet-time peer session
  reset at 13:30;
- the same quiet morning with every collector's feed going stale twice, once
  briefly (4 minutes) and once for long (18 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routewatch.config import parse_config
from routewatch.model import Event, FeedState, SourceStatus
from routewatch.monitor import Monitor
from tests.alerting.exported import Recording, record
from tests.support import outage_2021 as outage

SCRAPE_INTERVAL = 60
SHORT_STALE = (outage.utc("2021-10-04 13:00:00"), outage.utc("2021-10-04 13:04:00"))
LONG_STALE = (outage.utc("2021-10-04 13:40:00"), outage.utc("2021-10-04 13:58:00"))
QUIET_END = outage.utc("2021-10-04 14:30:00")


def config() -> dict[str, Any]:
    """The outage's watch list: the six DNS prefixes and the aggregate, expected from AS32934."""
    return {
        "prefixes": [{"prefix": p, "asn": outage.FACEBOOK, "description": "AS32934 DNS"}
                     for p in [outage.AGGREGATE, *outage.dns_prefixes()]],
    }


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
    monitor = Monitor.from_config(parse_config(config()))
    recording = record(monitor, ((e, False) for e in scenario.events), outage.START, outage.END, SCRAPE_INTERVAL)
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
    monitor = Monitor.from_config(parse_config(config()))
    events = _with_stale_feeds(scenario.events)
    recording = record(monitor, ((e, False) for e in events), outage.START, QUIET_END, SCRAPE_INTERVAL)
    return Replayed(recording, outage.START, scenario)
