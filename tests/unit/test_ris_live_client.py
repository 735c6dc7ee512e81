"""The client's pure parts: subscriptions, their acknowledgement keys, and the backoff."""

from __future__ import annotations

import ipaddress
import random

from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.daemon.core_sink import watch_targets
from routewatch.model import parse_prefix
from routewatch.sources.ris_live.client import ReconnectBackoff, initial_subscriptions, subscription_key


def test_one_subscription_per_prefix_and_address_and_path_only_for_asn_discovery() -> None:
    watch = WatchSet([WatchedPrefix(parse_prefix("129.134.30.0/23"), frozenset({32934}), WithdrawalThresholds())],
                     asns={32934: 50})
    watch.add_address(ipaddress.ip_address("2a03:2880:f0fc:c:face:b00c:0:35"))
    subs = initial_subscriptions(watch_targets(watch), "rrc21")
    assert subs == [
        {"type": "KEEPALIVE", "host": "rrc21"},
        {"type": "RIS_PEER_STATE", "host": "rrc21"},
        {"type": "UPDATE", "prefix": "129.134.30.0/23", "moreSpecific": True, "host": "rrc21"},
        {"type": "UPDATE", "prefix": "2a03:2880:f0fc:c:face:b00c:0:35/128", "moreSpecific": False,
         "lessSpecific": True, "host": "rrc21"},
        {"type": "UPDATE", "path": "32934$", "host": "rrc21"},
    ]
    assert "host" not in initial_subscriptions(watch_targets(watch), None)[0]


def test_acknowledgement_echo_matches_whatever_spelling_the_server_uses() -> None:
    sent = {"type": "UPDATE", "prefix": "2605:de00:bb::/48", "moreSpecific": True}
    echo = {"type": "UPDATE", "prefix": "2605:de00:bb:0:0:0:0:0/48", "moreSpecific": True, "lessSpecific": False,
            "host": None}
    assert subscription_key(sent) == subscription_key(echo) == ("2605:de00:bb::/48", None, "UPDATE")
    assert subscription_key({"path": "32934$"}) == (None, "32934$", None)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = ReconnectBackoff(initial=1.0, maximum=30.0, factor=2.0)
    rng = random.Random(7)
    delays = [backoff.delay(attempt, rng) for attempt in range(8)]
    for attempt, delay in enumerate(delays):
        base = min(30.0, 2.0**attempt)
        assert base / 2 <= delay <= base
    assert max(backoff.delay(100, rng) for _ in range(50)) <= 30.0
    assert len({round(backoff.delay(3, rng), 6) for _ in range(20)}) > 1  # jittered: clients do not stampede
