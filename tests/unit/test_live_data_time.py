"""Live data time: one RIS Live message stamped far ahead or in the past, anywhere, changes no detection.

The live twin of tests/unit/test_replay_data_time.py. Messages are read by the
real parser with the wall clock at their receipt (as the RIS Live feed does),
a KEEPALIVE moves the core to its (judged) timestamp (as the feed does), and
the core follows the wall clock after every message (as the daemon's publish
loop does). The hostile message arrives between two others, so its receipt is
theirs whatever its timestamp says.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.sources.ris_live.frame import FrameKind
from routewatch.sources.ris_live.parse import RisParser

P = "129.134.30.0/23"
ORIGIN = 32934
NOW = 1_700_000_000

Received = tuple[float, str]
"""(wall-clock receipt, the websocket message's text)."""


def message(timestamp: float, n: int, kind: str = "UPDATE", *, announce: str | None = None,
            withdraw: str | None = None) -> str:
    data: dict[str, object] = {"timestamp": timestamp, "peer": f"192.0.2.{n}", "peer_asn": str(64500 + n),
                               "id": f"m{n}", "host": "rrc00", "type": kind}
    if announce is not None:
        data["path"] = [64500 + n, ORIGIN if announce == P else 64496]
        data["announcements"] = [{"next_hop": f"192.0.2.{n}", "prefixes": [announce]}]
    if withdraw is not None:
        data["withdrawals"] = [withdraw]
    return json.dumps({"type": "ris_message", "data": data})


def story() -> list[Received]:
    """Ten peers hold P; eight withdraw it at 1000 s; all is back at 3000 s; other routes every minute."""
    out = [(NOW + i, message(NOW + i, i, announce=P)) for i in range(10)]
    out += [(NOW + 1000, message(NOW + 1000, i, withdraw=P)) for i in range(8)]
    out += [(NOW + 60 * k, message(NOW + 60 * k, 20, announce="192.0.2.0/24")) for k in range(17, 50)]
    out += [(NOW + 3000, message(NOW + 3000, i, announce=P)) for i in range(8)]
    return sorted(out, key=lambda m: m[0])


CONFIG = parse_config({"prefixes": [{"prefix": P, "asn": ORIGIN}], "bgp": {"baseline_min_hold": 1}})


def detections(received: list[Received]) -> set[tuple[str, str, str, float]]:
    core = build_engine(CONFIG)
    parser = RisParser()
    changes = []
    for receipt, text in received:
        parser.at_wall_clock(receipt)
        frame = parser.decode(text)
        for event in frame.events:
            changes.extend(core.apply(event))
        if frame.kind is FrameKind.KEEPALIVE and frame.timestamp is not None and frame.timestamp > core.now:
            changes.extend(core.advance(frame.timestamp))
        changes.extend(core.advance(receipt))
    changes.extend(core.flush())
    return {(c.change.value, c.detection.kind.value, str(c.detection.prefix), c.time) for c in changes}


CLEAN = detections(story())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(position=12, when=float(NOW + 10 * 365 * 86_400), keepalive=True)  # the KEEPALIVE of issue 18
@example(position=16, when=float(NOW - 291), keepalive=False)
@given(position=st.integers(1, len(story())),
       when=st.one_of(st.floats(NOW + 90_000, 2.0**32), st.floats(0, NOW)),
       keepalive=st.booleans())
def test_no_single_message_far_ahead_or_in_the_past_changes_the_detections(position: int, when: float,
                                                                           keepalive: bool) -> None:
    """Property: one message about another route (or a KEEPALIVE), stamped far ahead or in the past and
    received between two others, leaves every detection of the watched prefix as it was."""
    received = story()
    receipt = received[position - 1][0]
    text = message(when, 66, "KEEPALIVE") if keepalive else message(when, 66, announce="192.0.2.0/24")
    received.insert(position, (receipt, text))
    assert CLEAN and detections(received) == CLEAN
