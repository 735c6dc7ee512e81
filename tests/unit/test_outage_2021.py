"""Replaying the reconstructed 2021-10-04 outage: what routewatch must say, and when."""

from __future__ import annotations

import ipaddress

import pytest

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import ChangeKind, DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.visibility import PrefixState
from routewatch.model import parse_prefix
from routewatch.tools.replay import ReplayReport, replay_events
from tests.support import outage_2021 as outage

HOLD_DOWN = 60.0


def config() -> dict:
    delegation = outage.delegation()
    service = {}
    for v4, prefixes in ((delegation["ns"]["a.ns.facebook.com."]["A"], ["129.134.30.0/23", "129.134.30.0/24"]),
                         (delegation["ns"]["c.ns.facebook.com."]["A"], ["185.89.218.0/23", "185.89.218.0/24"])):
        service[v4] = prefixes
    return {
        "prefixes": [{"prefix": p, "asn": outage.FACEBOOK, "description": "AS32934 DNS"}
                     for p in [outage.AGGREGATE, *outage.dns_prefixes()]],
        "zones": [{"zone": "facebook.com", "service_prefixes": service}],
    }


@pytest.fixture(scope="module")
def replayed() -> tuple[outage.Outage, Engine, ReplayReport, dict]:
    scenario = outage.build()
    monitor = build_engine(parse_config(config()))
    risk_at_1600: dict = {}
    report = ReplayReport()
    events = iter((e, False) for e in scenario.events)

    def before(limit: float):
        for item in events:
            yield item
            if item[0].time >= limit:
                return

    replay_events(monitor, before(outage.utc("2021-10-04 16:00:00")), report)
    monitor.advance(outage.utc("2021-10-04 16:00:00"))
    risk_at_1600 = {str(a): monitor.address_risk(a) for a in monitor.addresses}
    replay_events(monitor, events, report)
    monitor.advance(outage.END)
    return scenario, monitor, report, risk_at_1600


def test_each_dns_prefix_is_withdrawn_within_hold_down_plus_a_minute(replayed) -> None:
    scenario, _, report, _ = replayed
    opened = {str(c.detection.prefix): c for c in report.changes
              if c.change is ChangeKind.OPENED and c.detection.kind is DetectionKind.WITHDRAWAL}
    assert sorted(opened) == sorted(outage.dns_prefixes())
    for prefix, change in opened.items():
        majority = scenario.majority_gone_at[prefix]
        assert outage.OUTAGE <= change.detection.start <= majority
        assert change.time <= majority + HOLD_DOWN + 60, prefix
        assert change.detection.evidence["gone_from_percent"] >= 50


def test_each_closes_on_recovery_and_only_then(replayed) -> None:
    scenario, _, report, _ = replayed
    closed = [c for c in report.changes if c.change is ChangeKind.CLOSED]
    assert sorted(str(c.detection.prefix) for c in closed) == sorted(outage.dns_prefixes())
    for change in closed:
        assert outage.RETURN <= change.time <= scenario.back_at[str(change.detection.prefix)]


def test_nothing_else_is_raised(replayed) -> None:
    _, _, report, _ = replayed
    # no origin or more-specific detections, nothing for the aggregate, nothing for the
    # quiet-time session reset or the collector restart
    assert {c.detection.kind for c in report.changes} == {DetectionKind.WITHDRAWAL}
    assert all(str(c.detection.prefix) != outage.AGGREGATE for c in report.changes)
    assert len(report.changes) == 2 * len(outage.dns_prefixes())


def test_everything_is_visible_again_at_the_end(replayed) -> None:
    _, monitor, _, _ = replayed
    snap = monitor.snapshot()
    assert {s.state for s in snap.prefixes} == {PrefixState.VISIBLE}
    assert snap.status(parse_prefix(outage.AGGREGATE)).ratio == 1.0


def test_nameservers_are_at_risk_during_the_outage_though_the_aggregate_stayed(replayed) -> None:
    scenario, monitor, _, risk_at_1600 = replayed
    a_ns = outage.delegation()["ns"]["a.ns.facebook.com."]["A"]
    risk = risk_at_1600[a_ns]
    assert risk.baseline_peers >= len(scenario.peers) - len(
        [p for p in scenario.peers if p.collector == outage.RESTARTING_COLLECTOR])
    assert risk.peers_at_risk / risk.baseline_peers >= 0.8
    assert risk.matches.get(outage.AGGREGATE, 0) >= risk.peers_at_risk
    after = monitor.address_risk(ipaddress.ip_address(a_ns))
    assert after is not None and after.peers_at_risk == 0
