"""Property: whatever a RIS Live server sends first, the live path neither raises nor goes blind.

Any interleaving of garbage (bytes, broken JSON, hostile envelopes: timestamps
far ahead or beyond 2^53, odd hosts, zone indexes, wrong types) goes through
the feed's own batch handling into a real core; then a well-formed withdrawal
by eight of ten peers must still open once the wall clock passes the hold-down.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routewatch.config.to_core import build_engine
from routewatch.core.visibility import PrefixState
from routewatch.daemon.core_sink import CoreDriver
from routewatch.model import parse_prefix
from routewatch.sources.base import SourceContext
from routewatch.sources.inbox import Chunk
from routewatch.sources.ris_live.feed import RisLiveFeed
from tests.support.live_harness import FakeClock, live_config

PREFIX = "198.51.100.0/24"
NOW = 1_700_000_000.0

_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    st.sampled_from([2**60, 1e26, NOW + 10 * 365 * 86_400, -1, "rrc00", PREFIX, "2001:db8::%eth0/48",
                                     "fe80::1%eth0", [], {}, [[1, 2]]]))
_data = st.fixed_dictionaries({}, optional={
    "timestamp": _values, "peer": st.one_of(_values, st.just("192.0.2.1")),
    "peer_asn": st.one_of(_values, st.just("64501")),
    "host": st.one_of(_values, st.sampled_from(["rrc00", "RRC00.ripe.net", " ", "x" * 300])),
    "type": st.one_of(_values, st.sampled_from(["UPDATE", "KEEPALIVE", "RIS_PEER_STATE", "OPEN"])),
    "path": st.one_of(_values, st.lists(st.one_of(st.integers(), st.lists(st.integers(), max_size=3)), max_size=5)),
    "announcements": st.one_of(_values, st.lists(st.fixed_dictionaries({}, optional={
        "next_hop": _values, "prefixes": st.one_of(_values, st.lists(_values, max_size=3))}), max_size=2)),
    "withdrawals": st.one_of(_values, st.lists(_values, max_size=3)),
    "state": _values,
})
_envelope = st.fixed_dictionaries({}, optional={
    "type": st.one_of(_values, st.sampled_from(["ris_message", "ris_error", "ris_subscribe_ok", "pong"])),
    "data": st.one_of(_values, _data),
})
_garbage = st.one_of(st.binary(max_size=40), st.text(max_size=40).map(str.encode),
                     _envelope.map(lambda e: json.dumps(e).encode()),
                     _data.map(lambda d: json.dumps({"type": "ris_message", "data": d}).encode()))


def message(n: int, t: float, kind: str) -> bytes:
    data: dict[str, Any] = {"timestamp": t, "peer": f"192.0.2.{n}", "peer_asn": str(64500 + n), "id": "m",
                            "host": "rrc00", "type": "UPDATE"}
    if kind == "announce":
        data.update(path=[64500 + n, 32934], origin="IGP",
                    announcements=[{"next_hop": f"192.0.2.{n}", "prefixes": [PREFIX]}])
    else:
        data["withdrawals"] = [PREFIX]
    return json.dumps({"type": "ris_message", "data": data}).encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_garbage, min_size=1, max_size=8), max_size=6))
def test_garbage_first_never_raises_and_never_blinds_the_monitor(batches: list[list[bytes]]) -> None:
    config = live_config("ws://127.0.0.1:9/", [{"prefix": PREFIX, "asn": 32934,
                                                 "thresholds": {"hold_down": 30, "min_baseline_peers": 3}}],
                         bgp={"baseline_min_hold": 60})
    clock = FakeClock(NOW)
    feed = RisLiveFeed(config.sources[0], SourceContext(config, clock))
    core = build_engine(config)
    sink = CoreDriver(core)
    for n, batch in enumerate(batches):
        feed._apply(sink, [Chunk(float(n), NOW, batch)])
    good = [message(n, NOW + 1, "announce") for n in range(1, 11)]
    feed._apply(sink, [Chunk(0.0, NOW + 1, good)])
    clock.advance(300)
    feed._apply(sink, [Chunk(0.0, NOW + 300, [message(n, NOW + 300, "withdraw") for n in range(1, 9)])])
    sink.advance(NOW + 400)
    sink.flush()
    status = core.snapshot().status(parse_prefix(PREFIX))
    assert core.now <= NOW + 400
    assert status is not None and status.state is PrefixState.WITHDRAWN, status
