"""The rules against the series routewatch itself exports while replaying scenarios through its core.

Nothing here is hand-written input: the outage and the stale feeds are driven
through ``Engine`` and scraped from ``BgpCollector`` (see ``exported.py``).
Each scenario runs once with one replica and once with two scraped side by
side, which must page exactly as often.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.oracle.alerting import scenarios
from tests.oracle.alerting.exported import REPLICAS
from tests.oracle.alerting.promtool import RULES, checkpoint, expected_alert, run_tests
from tests.support import outage_2021 as outage
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

#: What the scenarios' config says of every prefix, joined onto each prefix alert from routewatch_bgp_prefix_info.
OWNER = {"group": "default", "description": scenarios.DESCRIPTION}


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool")


@pytest.fixture(scope="module")
def outage_replay() -> scenarios.Replayed:
    return scenarios.replay_outage()


@pytest.fixture(scope="module")
def stale_replay() -> scenarios.Replayed:
    return scenarios.replay_stale_feeds()


def _withdrawn(replay: scenarios.Replayed, when: str) -> list[dict[str, Any]]:
    """The withdrawal page expected for each DNS prefix, its value being the ratio exported at ``when``."""
    index = replay.scrape_index(when)
    return [
        expected_alert(RULES["RoutewatchPrefixWithdrawn"], {"prefix": prefix, **OWNER},
                       replay.recording.value("routewatch_bgp_prefix_visibility_ratio", index, prefix=prefix) or 0.0)
        for prefix in outage.dns_prefixes()
    ]


def _at_risk(replay: scenarios.Replayed, when: str) -> list[dict[str, Any]]:
    """The DNS-at-risk page expected for each nameserver address, its value being the exported share at ``when``."""
    index = replay.scrape_index(when)
    alerts = []
    for name, address in scenarios.nameservers().items():
        labels = target = {"zone": scenarios.ZONE, "nameserver": name, "address": address}
        at_risk = replay.recording.value("routewatch_dns_nameserver_peers_at_risk", index, **target)
        baseline = replay.recording.value("routewatch_dns_nameserver_baseline_peers", index, **target)
        assert at_risk is not None and baseline
        alerts.append(expected_alert(RULES["RoutewatchDnsAtRisk"], labels, at_risk / baseline))
    return alerts


def _outage_checks(replay: scenarios.Replayed) -> list[dict[str, Any]]:
    checks = []
    # a quiet-time peer session reset (13:30-13:32) and the minutes after it
    for when in ("13:30:30", "13:31:30", "13:33:00", "13:40:00"):
        checks += checkpoint(replay.offset(when), {})
    # the six DNS prefixes are withdrawn at most peers from ~15:39-15:43 with path hunting; a
    # collector restarts 15:44-15:47; the aggregate stays announced and raises nothing, but the
    # peers that fell back to it no longer reach the nameservers through their service prefixes
    for when in ("15:50:00", "16:10:00", "18:00:00", "20:59:00"):
        checks += checkpoint(replay.offset(when), {"RoutewatchPrefixWithdrawn": _withdrawn(replay, when),
                                                   "RoutewatchDnsAtRisk": _at_risk(replay, when)})
    # back from ~21:00, at >= 80 % of the baseline by 21:10 at the latest
    for when in ("21:20:00", "21:59:00"):
        checks += checkpoint(replay.offset(when), {})
    return checks


def _unknown(prefixes: list[str]) -> list[dict[str, Any]]:
    rule = RULES["RoutewatchPrefixVisibilityUnknown"]
    return [expected_alert(rule, {"prefix": p, **OWNER}, 1.0) for p in prefixes]


def _stale_checks(replay: scenarios.Replayed) -> list[dict[str, Any]]:
    every = [outage.AGGREGATE, *outage.dns_prefixes()]
    checks = []
    # four minutes without a trustworthy feed: quiet, before, during and after
    for when in ("12:50:00", "13:02:00", "13:04:00", "13:10:00"):
        checks += checkpoint(replay.offset(when), {})
    # eighteen minutes: "unknown" for every prefix after its ten minutes, and nothing else
    checks += checkpoint(replay.offset("13:45:00"), {})
    checks += checkpoint(replay.offset("13:52:00"), {"RoutewatchPrefixVisibilityUnknown": _unknown(every)})
    checks += checkpoint(replay.offset("14:00:00"), {})
    return checks


def _test(replay: scenarios.Replayed, instances: tuple[str, ...], checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "interval": f"{replay.recording.interval}s",
        "input_series": replay.recording.input_series(instances),
        "alert_rule_test": checks,
    }


@pytest.mark.parametrize("instances", [REPLICAS[:1], REPLICAS], ids=["one-replica", "two-replicas"])
def test_outage_pages_once_per_prefix_and_resolves(promtool: str, outage_replay: scenarios.Replayed,
                                                  instances: tuple[str, ...], tmp_path: Path) -> None:
    result = run_tests(promtool, [_test(outage_replay, instances, _outage_checks(outage_replay))], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("instances", [REPLICAS[:1], REPLICAS], ids=["one-replica", "two-replicas"])
def test_stale_feeds_are_unknown_only_when_long(promtool: str, stale_replay: scenarios.Replayed,
                                               instances: tuple[str, ...], tmp_path: Path) -> None:
    result = run_tests(promtool, [_test(stale_replay, instances, _stale_checks(stale_replay))], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_recording_carries_the_story(outage_replay: scenarios.Replayed) -> None:
    """Guards the checks above against a scenario that no longer shows what they rely on."""
    recording = outage_replay.recording
    during = outage_replay.scrape_index("16:10:00")
    after = outage_replay.scrape_index("21:20:00")
    for prefix in outage.dns_prefixes():
        assert recording.value("routewatch_bgp_prefix_state", during, prefix=prefix, state="withdrawn") == 1
        assert recording.value("routewatch_bgp_prefix_state", after, prefix=prefix, state="withdrawn") == 0
    assert recording.value("routewatch_bgp_prefix_state", during, prefix=outage.AGGREGATE, state="withdrawn") == 0
    assert recording.value("routewatch_bgp_prefix_visibility_ratio", during, prefix=outage.AGGREGATE) == 1
    for name, address in scenarios.nameservers().items():
        target = {"zone": scenarios.ZONE, "nameserver": name, "address": address}
        at_risk = recording.value("routewatch_dns_nameserver_peers_at_risk", during, **target)
        baseline = recording.value("routewatch_dns_nameserver_baseline_peers", during, **target)
        assert at_risk is not None and baseline and at_risk / baseline >= 0.8, name
        assert recording.value("routewatch_dns_nameserver_peers_at_risk", after, **target) == 0, name
