"""RIS Live timestamps: finite, below 2^32, and not ahead of the wall clock by more than the tolerance."""

from __future__ import annotations

import json

import pytest

from routewatch.sources.clock_guard import CLOCK_SKEW_TOLERANCE
from routewatch.sources.ris_live.frame import FrameKind
from routewatch.sources.ris_live.parse import RisParser

NOW = 1_700_000_000.0


def message(timestamp: object, kind: str = "UPDATE") -> str:
    data = {"timestamp": timestamp, "peer": "192.0.2.1", "peer_asn": "64501", "id": "x", "host": "rrc00",
            "type": kind, "path": [64501, 32934], "announcements": [{"next_hop": "192.0.2.1",
                                                                    "prefixes": ["198.51.100.0/24"]}]}
    return json.dumps({"type": "ris_message", "data": data})


@pytest.mark.parametrize("timestamp", [2**53 + 1, 2**60, 1e26, 2**32 + 1, -1, "1700000000"])
def test_timestamps_out_of_range_are_malformed_on_both_paths(timestamp: object) -> None:
    parser = RisParser()
    parser.decode(message(NOW))  # the peer is cached: the next message may take the fast path
    frame = parser.decode(message(timestamp))
    assert frame.kind is FrameKind.MALFORMED and not frame.events
    assert parser.tally.malformed["timestamp"] == 1


@pytest.mark.parametrize("kind", ["UPDATE", "KEEPALIVE"])
def test_a_message_from_the_future_is_clock_skew_judged_at_the_wall_clock(kind: str) -> None:
    parser = RisParser()
    parser.at_wall_clock(NOW)
    parser.decode(message(NOW))
    frame = parser.decode(message(NOW + 10 * 365 * 86_400, kind))
    assert frame.timestamp == NOW and all(e.time == NOW for e in frame.events)
    assert parser.tally.malformed["clock_skew"] == 1
    within = parser.decode(message(NOW + CLOCK_SKEW_TOLERANCE - 1, kind))
    assert within.timestamp == NOW + CLOCK_SKEW_TOLERANCE - 1 and parser.tally.malformed["clock_skew"] == 1
