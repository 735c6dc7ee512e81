"""Peers and collectors excluded by configuration count for nothing: not in visibility, baselines or detections.

Engines are built from parsed configs (``parse_config`` then ``build_engine``),
so the schema, its conversion into core values and the core are tested as one.
"""

from __future__ import annotations

from typing import Any

import pytest

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import ChangeKind, DetectionChange, DetectionKind
from routewatch.core.engine import Engine
from routewatch.daemon.tapped import build_tapped, carry_over
from routewatch.errors import ConfigError
from routewatch.model import Peer, parse_prefix
from tests.support.events import announce, peer, withdraw

P = "129.134.30.0/23"
OTHER = "157.240.0.0/17"
ORIGIN = 32934
HIJACKER = 64666
LEAKER = peer(3)  # 192.0.2.3, AS64503


def engine(bgp: dict[str, Any] | None = None, **extra: Any) -> Engine:
    prefixes = [{"prefix": P, "asn": ORIGIN, **extra}, {"prefix": OTHER, "asn": ORIGIN}]
    return build_engine(parse_config({"bgp": {"anomaly_min_peers": 2, **(bgp or {})}, "prefixes": prefixes}))


def establish(m: Engine, peers: list[Peer], *prefixes: str) -> None:
    m.apply_all(announce(0.0, p, prefix, (p.asn, 3356, ORIGIN)) for p in peers for prefix in prefixes or (P,))
    m.advance(1000.0)


def counts(m: Engine, prefix: str = P) -> tuple[int, int]:
    status = m.snapshot().status(parse_prefix(prefix))
    assert status is not None
    return status.visible_peers, status.baseline_peers


def hijack(m: Engine, peers: list[Peer], prefix: str) -> list[DetectionKind]:
    changes = m.apply_all(announce(2000.0, p, prefix, (p.asn, HIJACKER)) for p in peers)
    return [c.detection.kind for c in changes]


PEERS = [peer(i) for i in range(1, 6)]


@pytest.mark.parametrize("bgp", [
    {"exclude_peers": ["192.0.2.3"]},
    {"exclude_peers": ["192.0.2.0/30"]},  # .0-.3: peers 1, 2 and 3
    {"exclude_peers": ["AS64503"]},
    {"exclude_peers": [64503]},
])
def test_an_excluded_peer_counts_neither_visible_nor_in_the_baseline(bgp: dict[str, Any]) -> None:
    m = engine(bgp)
    establish(m, PEERS)
    visible, baseline = counts(m)
    assert visible == baseline == (2 if "/30" in str(bgp) else 4)
    m.apply_all([withdraw(1100.0, LEAKER, P)])
    m.advance(2000.0)
    assert counts(m) == (visible, baseline)


def test_without_the_exclusion_the_same_withdrawal_moves_visibility() -> None:
    m = engine()
    establish(m, PEERS)
    m.apply_all([withdraw(1100.0, LEAKER, P)])
    m.advance(2000.0)
    assert counts(m) == (4, 5)


def test_an_excluded_collector_takes_all_its_peers_out() -> None:
    m = engine({"exclude_collectors": ["rrc01"]})
    establish(m, [*PEERS, peer(6, "rrc01"), peer(7, "rrc01")])
    assert counts(m) == (5, 5)
    assert hijack(m, [peer(6, "rrc01"), peer(7, "rrc01")], P) == []


def test_excluded_peers_hijacking_open_nothing_and_others_do() -> None:
    leakers = [peer(1), peer(2)]
    excluded = engine({"exclude_peers": ["192.0.2.1", "AS64502"]})
    establish(excluded, PEERS)
    assert hijack(excluded, leakers, P) == []
    assert hijack(excluded, leakers, "129.134.31.0/24") == []  # a more-specific too
    assert excluded.open_detections() == []
    control = engine()
    establish(control, PEERS)
    assert hijack(control, leakers, P) == [DetectionKind.ORIGIN]


def test_a_prefix_exclusion_applies_to_that_prefix_and_its_more_specifics_only() -> None:
    m = engine(exclude_peers=["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    establish(m, PEERS, P, OTHER)
    assert counts(m, P) == (2, 2)
    assert counts(m, OTHER) == (5, 5)
    m.apply_all([withdraw(1100.0, LEAKER, P), withdraw(1100.0, LEAKER, OTHER)])
    m.advance(2000.0)
    assert counts(m, P) == (2, 2)
    assert counts(m, OTHER) == (4, 5)
    leakers = [peer(1), peer(2)]
    assert hijack(m, leakers, "129.134.31.0/24") == []
    assert hijack(m, leakers, "157.240.1.0/24") == [DetectionKind.ORIGIN]


def test_a_watched_prefix_inside_an_excluding_one_inherits_its_exclusions() -> None:
    inner = "129.134.31.0/24"
    config = parse_config({"prefixes": [
        {"prefix": P, "asn": ORIGIN, "exclude_peers": ["AS64503"]},
        {"prefix": inner, "asn": ORIGIN, "exclude_peers": ["192.0.2.4"]},
    ]})
    m = build_engine(config)
    establish(m, PEERS, inner)
    assert counts(m, inner) == (3, 3)


def test_config_errors_name_every_bad_exclusion_with_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({
            "bgp": {"exclude_peers": ["AS3453", "192.0.2.1/24", "not-a-peer", True], "exclude_collectors": [""]},
            "prefixes": [{"prefix": P, "asn": ORIGIN, "exclude_peers": ["AS99999999999"]}],
        })
    problems = caught.value.problems
    assert any(p.startswith("bgp.exclude_peers[1]:") and "did you mean 192.0.2.0/24" in p for p in problems)
    assert any(p.startswith("bgp.exclude_peers[2]:") and "neither a peer address" in p for p in problems)
    assert any(p.startswith("bgp.exclude_peers[3]:") and "got a boolean" in p for p in problems)
    assert any(p.startswith("bgp.exclude_collectors[0]:") for p in problems)
    assert any(p.startswith("prefixes[0].exclude_peers[0]:") and "out of range" in p for p in problems)
    assert len(problems) == 5, problems


def test_peers_are_kept_canonical() -> None:
    config = parse_config({"bgp": {"exclude_peers": [3453, "as64500", "2001:DB8::1", "10.0.0.0/8"]}})
    assert config.bgp.exclude_peers == ["AS3453", "AS64500", "2001:db8::1", "10.0.0.0/8"]


def test_a_reload_excluding_the_hijacking_peers_closes_what_they_kept_open() -> None:
    before = build_tapped(parse_config({"bgp": {"anomaly_min_peers": 2}, "prefixes": [{"prefix": P, "asn": ORIGIN}]}),
                          bootstrapped=True)
    establish(before, PEERS)
    assert hijack(before, [peer(1), peer(2)], P) == [DetectionKind.ORIGIN]
    changed: list[DetectionChange] = []
    after = carry_over(before, parse_config({"bgp": {"anomaly_min_peers": 2, "exclude_peers": ["192.0.2.0/30"]},
                                             "prefixes": [{"prefix": P, "asn": ORIGIN}]}), changed.extend)
    assert [(c.change, c.detection.kind) for c in changed] == [(ChangeKind.CLOSED, DetectionKind.ORIGIN)]
    assert after.open_detections() == []
    assert counts(after) == (2, 2)
