"""Watched ASes with declared downstreams (carriers): their RIS Live path subscription, its cap, and the core's side.

A carrier's subscription brings routes of prefixes nobody watches; the core
watches the ones it carries through an undeclared downstream (a customer's
route leaked), counted against the AS's ``max_prefixes``, and drops the rest.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import DetectionKind
from routewatch.daemon.core_sink import watch_targets
from routewatch.daemon.persist import dump_state, load_state
from routewatch.errors import ConfigError
from routewatch.model import parse_prefix
from routewatch.sources.ris_live.client import initial_subscriptions, is_path_subscription
from tests.support.events import announce, peer
from tests.support.metrics import full_state, samples, scrape

CARRIER = 65000
CUSTOMER = 64501


def carriers_config(count: int, **limits: int) -> dict[str, object]:
    return {"asns": [{"asn": CARRIER + i, "downstreams": [CUSTOMER]} for i in range(count)],
            "sources": [{"type": "ris-live"}], "limits": limits}


def test_a_carrier_gets_a_path_subscription_beside_its_origin_one() -> None:
    config = parse_config({"asns": [{"asn": CARRIER, "downstreams": [CUSTOMER]}, {"asn": 64510},
                                    {"asn": 64520, "upstreams": [174]}]})
    subs = initial_subscriptions(watch_targets(build_engine(config).watch), None)
    paths = [s["path"] for s in subs if "path" in s]
    assert paths == ["64510$", "64520$", f"{CARRIER}$", str(CARRIER)]  # upstreams alone need no paths through it
    assert [s["path"] for s in subs if is_path_subscription(s)] == [str(CARRIER)]


def test_an_empty_downstream_list_is_declared_and_subscribed() -> None:
    config = parse_config({"asns": [{"asn": CARRIER, "downstreams": []}]})
    assert watch_targets(build_engine(config).watch).carriers == (CARRIER,)


def test_carriers_over_the_cap_are_refused_with_the_cost_and_the_ases() -> None:
    parse_config(carriers_config(16))
    with pytest.raises(ConfigError) as caught:
        parse_config(carriers_config(17))
    (problem,) = caught.value.problems
    assert problem.startswith("limits.max_path_subscriptions: 17 asns[] entries declare downstreams (AS65000, ")
    assert "over the cap of 16" in problem and "every path through that AS" in problem
    parse_config(carriers_config(17, max_path_subscriptions=17))
    parse_config({**carriers_config(17), "sources": [{"type": "mrt"}]})  # no subscription, no cap


def test_the_cap_holds_per_shard() -> None:
    sharded = {**carriers_config(20), "sharding": {"shards": 2, "shard": 0}}
    config = parse_config(sharded)
    most = max(sum(a.downstreams is not None for a in config.part(s).asns) for s in (0, 1))
    assert most < 20  # the carriers are divided between the shards
    parse_config({**sharded, "limits": {"max_path_subscriptions": most}})
    with pytest.raises(ConfigError, match=rf"limits.max_path_subscriptions: {most} asns\[\] entries declare "
                                          r"downstreams \(shard \d of 2\)"):
        parse_config({**sharded, "limits": {"max_path_subscriptions": most - 1}})


def test_a_leaked_customer_route_is_watched_and_opens_a_neighbor_detection() -> None:
    m = build_engine(parse_config({"asns": [{"asn": CARRIER, "downstreams": [CUSTOMER], "max_prefixes": 2}]}))
    quiet = m.apply_all(announce(0, peer(i), "198.51.100.0/24", (6939, CARRIER, CUSTOMER)) for i in range(3))
    assert quiet == [] and len(m.watch) == 0  # a declared customer's route is dropped as before
    changes = m.apply_all(announce(10, peer(i), "203.0.113.0/24", (6939, CARRIER, CARRIER, 65010, CUSTOMER))
                          for i in range(3))
    assert [(c.change.value, c.detection.kind, c.detection.evidence["neighbors"]) for c in changes] == [
        ("opened", DetectionKind.NEIGHBOR, [65010])]
    watched = m.watch.get(parse_prefix("203.0.113.0/24"))
    assert watched is not None and watched.source == f"path:{CARRIER}" and watched.origins == {CUSTOMER}
    assert watched.description == f"carried by AS{CARRIER}"


def test_leaked_prefixes_have_a_cap_of_their_own_kept_across_a_restart() -> None:
    config = parse_config({"asns": [{"asn": CARRIER, "downstreams": [CUSTOMER], "max_prefixes": 2}]})
    m = build_engine(config)
    m.apply_all(announce(0, peer(1), f"203.0.{n}.0/24", (6939, CARRIER, 65010 + n, CUSTOMER)) for n in range(5))
    assert len(m.watch) == 2 and m.watch.asn_over_cap[CARRIER] == 3
    m.apply_all([announce(1, peer(1), "192.0.2.0/24", (6939, CARRIER))])  # its own prefix still has a place
    assert m.watch.get(parse_prefix("192.0.2.0/24")) is not None
    restored = build_engine(config)
    load_state(restored, dump_state(m), validate=False)
    assert restored.watch.carried_count[CARRIER] == 2 and restored.watch.asn_prefix_count[CARRIER] == 1
    restored.apply_all([announce(2, peer(1), "203.0.9.0/24", (6939, CARRIER, 65099, CUSTOMER))])
    assert restored.watch.get(parse_prefix("203.0.9.0/24")) is None  # still at the cap after the restart
    assert config.max_prefix_series() == 4


def test_the_exporter_counts_path_subscriptions_for_sources_that_have_them() -> None:
    state = full_state()
    (ris, bmp) = state.sources
    found = samples(scrape(replace(state, sources=(replace(ris, path_subscriptions=3), bmp))))
    assert found[("routewatch_source_path_subscriptions", (("source", "ris-live"),))] == 3
    assert ("routewatch_source_path_subscriptions", (("source", "bmp"),)) not in found
