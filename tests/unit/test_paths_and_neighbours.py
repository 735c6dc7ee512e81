"""Paths and neighbours: forged origins, leaks through customers, path rules, new prefixes, per-upstream visibility.

Table-driven from BGPalerter's documented monitorPathNeighbors examples
(docs/path-neighbors.md) and ARTEMIS' hijack taxonomy (type-0 origin, type-1
forged neighbour, sub-prefix), then a replayed story through the core.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine, path_policies
from routewatch.core.detection import DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.path_policy import PathPolicies, PathPolicy, PathRule, collapse, new_neighbours
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import parse_prefix
from tests.support.events import announce, peer, withdraw

P = "129.134.30.0/23"
ORIGIN = 32934


def watched(origin: int = ORIGIN) -> WatchedPrefix:
    return WatchedPrefix(parse_prefix(P), frozenset({origin}), WithdrawalThresholds())


# BGPalerter: AS100 has upstreams AS99 and AS98 and one downstream, AS101.
BGPALERTER = {100: (frozenset({99, 98}), frozenset({101}))}


@pytest.mark.parametrize(("path", "new"), [
    ((10, 20, 30, 100, 101), {30}),        # AS30 is not an upstream of AS100
    ((10, 20, 30, 100), {30}),
    ((10, 20, 99, 100, 101), set()),       # AS99 upstream, AS101 downstream
    ((10, 20, 99, 100, 104), {104}),       # AS104 is not a downstream
    ((100, 104), {104}),
    ((10, 20, 99, 99, 100, 100, 101), set()),  # prepending collapsed first
])
def test_bgpalerter_documented_neighbour_examples(path: tuple[int, ...], new: set[int]) -> None:
    assert new_neighbours(None, watched(101), path, BGPALERTER) == new


def test_empty_lists_allow_no_neighbour_a_stub_network() -> None:
    stub = {100: (None, frozenset())}
    assert new_neighbours(None, watched(100), (10, 99, 100), stub) == set()  # upstreams not checked
    assert new_neighbours(None, watched(5), (10, 100, 5), stub) == {5}


UPSTREAMS = PathPolicy(upstreams=frozenset({174, 3356}))


@pytest.mark.parametrize(("path", "new"), [
    ((6939, 174, ORIGIN), set()),                    # a declared upstream
    ((6939, 174, ORIGIN, ORIGIN, ORIGIN), set()),    # prepended origin
    ((6939, 64666, ORIGIN), {64666}),                # ARTEMIS type-1: forged origin behind AS64666
    ((6939, 64666, 64666, ORIGIN), {64666}),
    ((6939, 174, 64666), set()),                     # type-0: an origin hijack is the origin detector's
    ((ORIGIN,), set()),                              # the collector peer is the origin: no upstream seen
])
def test_artemis_taxonomy_against_declared_upstreams(path: tuple[int, ...], new: set[int]) -> None:
    assert new_neighbours(UPSTREAMS, watched(), path, {}) == new


def rule(**kw: object) -> PathRule:
    compiled = {k: re.compile(v) if k in ("match", "not_match") else v for k, v in kw.items()}  # type: ignore[arg-type]
    return PathRule(**compiled)  # type: ignore[arg-type]


@pytest.mark.parametrize(("r", "path", "triggered"), [
    (rule(match=r".*2194,1234$"), (5, 2194, 1234), True),       # BGPalerter writes paths with commas
    (rule(match=r".*2194,1234$"), (5, 2194, 1234, 7), False),
    (rule(match=r"^174 "), (174, 3356, ORIGIN), True),           # or with spaces
    (rule(match=r" 64666 "), (174, 3356, ORIGIN), False),
    (rule(match=r"3356", not_match=r"^174"), (174, 3356, ORIGIN), False),
    (rule(max_length=3), (1, 2, 3, 4), True),
    (rule(max_length=3), (1, 2, 3), False),
    (rule(min_length=3), (1, 2), True),
    (rule(match=r"3356", max_length=3), (174, 3356, ORIGIN), False),  # matched, but the length is right
    (rule(match=r"3356", max_length=3), (1, 174, 3356, ORIGIN), True),
    (rule(not_match=r"64512$", max_length=3), (1, 2, 3), False),        # within the bound: never triggered
    (rule(not_match=r"64512$", max_length=3), (1, 2, 3, 4), True),
    (rule(not_match=r"64512$", max_length=3), (1, 2, 3, 64512), False),  # too long, but not_match matches
    (rule(match=r"^174", min_length=3), (174, ORIGIN), True),
    (rule(match=r"^174", min_length=3), (3356, ORIGIN), False),
])
def test_path_rules_as_bgpalerter_reads_them(r: PathRule, path: tuple[int, ...], triggered: bool) -> None:
    assert r.triggered_by(path) is triggered


def as_written(r: PathRule, path: tuple[int, ...]) -> bool:
    """The rule read in the order its docstring states it: expressions first, then the bounds."""
    text = " ".join(map(str, path))
    if r.match is not None and not r.match.search(text):
        return False
    if r.not_match is not None and r.not_match.search(text):
        return False
    if r.min_length is None and r.max_length is None:
        return True
    return (r.min_length is not None and len(path) < r.min_length) or (
        r.max_length is not None and len(path) > r.max_length)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([174, 3356, 64512, ORIGIN]), min_size=1, max_size=6),
       st.sampled_from([None, r"^174 ", r"64512$", r"3356"]), st.sampled_from([None, r"64512", r" 174 "]),
       st.sampled_from([None, 2, 3]), st.sampled_from([None, 3, 4]))
def test_path_rules_read_bounds_first_to_the_same_verdict(path: list[int], match: str | None, not_match: str | None,
                                                          min_length: int | None, max_length: int | None) -> None:
    r = PathRule(re.compile(match) if match else None, re.compile(not_match) if not_match else None,
                 min_length, max_length)
    assert r.triggered_by(tuple(path)) is as_written(r, tuple(path))


def test_collapse_keeps_each_run_once() -> None:
    assert collapse((1, 2, 2, 2, 3, 3)) == (1, 2, 3)


CONFIG = {
    "prefixes": [
        {"prefix": P, "asn": ORIGIN, "upstreams": [174, 3356],
         "path": [{"match": " 64999 ", "description": "through the scrubbing centre"}]},
        {"prefix": "198.51.100.0/24", "asn": 64501},
    ],
    "asns": [{"asn": 65000, "downstreams": [64501]}, {"asn": 64510, "new_prefixes": True, "upstreams": [1299]}],
}


def engine() -> Engine:
    return build_engine(parse_config(CONFIG))


def detections(m: Engine, kind: DetectionKind) -> list[str]:
    return sorted(str(d.prefix) for d in m.open_detections() if d.kind is kind)


def test_a_forged_origin_opens_a_neighbor_detection_and_no_origin_detection_then_closes() -> None:
    m = engine()
    m.apply_all(announce(0, peer(i), P, (64500 + i, 174 if i % 2 else 3356, ORIGIN)) for i in range(10))
    churn = m.apply_all(announce(100, peer(i), P, (64500 + i, 3356 if i % 2 else 174, ORIGIN)) for i in range(10))
    assert churn == []  # silent churn between declared upstreams
    changes = m.apply_all(announce(200, peer(i), P, (64500 + i, 64666, ORIGIN)) for i in range(3))
    opened = [c for c in changes if c.change.value == "opened"]
    assert [(c.detection.kind, str(c.detection.prefix)) for c in opened] == [(DetectionKind.NEIGHBOR, P)]
    assert opened[0].detection.evidence["neighbors"] == [64666]
    assert opened[0].detection.evidence["declared_upstreams"] == [174, 3356]
    assert detections(m, DetectionKind.ORIGIN) == []
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None and status.unexpected_neighbor_peers == 3
    assert dict(status.visible_peers_by_upstream) == {174: 3, 3356: 4}
    closed = m.apply_all(announce(300, peer(i), P, (64500 + i, 174, ORIGIN)) for i in range(3))
    assert [(c.change.value, c.detection.kind) for c in closed] == [("closed", DetectionKind.NEIGHBOR)]
    assert dict(m.snapshot().status(parse_prefix(P)).visible_peers_by_upstream) == {174: 6, 3356: 4}


def test_a_leak_through_an_undeclared_customer_names_the_customer() -> None:
    m = engine()
    m.apply_all(announce(0, peer(i), "198.51.100.0/24", (6939, 65000, 64501)) for i in range(5))
    assert detections(m, DetectionKind.NEIGHBOR) == []
    changes = m.apply_all(announce(100, peer(i), "198.51.100.0/24", (6939, 65000, 65010, 64501)) for i in range(2))
    (opened,) = changes
    assert opened.detection.kind is DetectionKind.NEIGHBOR and opened.detection.evidence["neighbors"] == [65010]


def test_a_path_rule_broken_and_mended() -> None:
    m = engine()
    m.apply_all(announce(0, peer(i), P, (64500 + i, 174, ORIGIN)) for i in range(5))
    opened = m.apply_all(announce(100, peer(i), P, (64500 + i, 64999, 174, ORIGIN)) for i in range(2))
    assert [(c.change.value, c.detection.kind) for c in opened] == [("opened", DetectionKind.PATH)]
    assert opened[0].detection.evidence["rules"] == ["through the scrubbing centre"]
    closed = m.apply_all(withdraw(200, peer(i), P) for i in range(2))
    assert [(c.change.value, c.detection.kind) for c in closed] == [("closed", DetectionKind.PATH)]


def test_a_watched_as_originating_an_unlisted_prefix_is_a_new_prefix_only_where_asked() -> None:
    m = engine()
    changes = m.apply_all(announce(0, peer(i), "203.0.113.0/24", (6939, 1299, 64510)) for i in range(3))
    assert [(c.change.value, c.detection.kind, str(c.detection.prefix)) for c in changes] == [
        ("opened", DetectionKind.NEW_PREFIX, "203.0.113.0/24")]
    quiet = build_engine(parse_config({"asns": [{"asn": 64510}]}))
    assert quiet.apply_all(announce(0, peer(i), "203.0.113.0/24", (6939, 64510)) for i in range(3)) == []
    assert quiet.snapshot().status(parse_prefix("203.0.113.0/24")) is not None  # still watched, as before


def test_without_policies_nothing_changes_and_no_field_is_set() -> None:
    m = Engine(WatchSet([watched()]), CoreSettings())
    m.apply_all(announce(0, peer(i), P, (64500 + i, 64666, ORIGIN)) for i in range(5))
    status = m.snapshot().status(parse_prefix(P))
    assert status is not None and status.unexpected_neighbor_peers is None and status.visible_peers_by_upstream == ()
    assert path_policies(parse_config({"prefixes": [{"prefix": P, "asn": ORIGIN}]})) == PathPolicies()


def test_a_hostile_peer_cycling_forged_upstreams_keeps_evidence_and_series_bounded() -> None:
    m = engine()
    m.apply_all(announce(0, peer(i), P, (64500 + i, 174, ORIGIN)) for i in range(5))
    series = len(m.snapshot().prefixes)
    for n in range(20_000):
        m.apply(announce(100 + n, peer(1 + n % 2), P, (64501, 100_000 + n, ORIGIN)))
    m.flush()
    (detection,) = [d for d in m.open_detections() if d.kind is DetectionKind.NEIGHBOR]
    assert len(detection.evidence["sample_paths"]) <= 3 and len(detection.evidence["neighbors"]) <= 2
    assert len(m.snapshot().prefixes) == series


def test_config_rejects_a_bad_regular_expression_with_its_path() -> None:
    from routewatch.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config({"prefixes": [{"prefix": P, "asn": ORIGIN, "path": [{"match": "(unclosed"}]}]})
    assert caught.value.problems[0].startswith("prefixes[0].path[0].match: ")
