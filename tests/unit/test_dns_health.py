"""Zone judgement: agreement states, serial grace, diversity, verdicts, target caps and retention."""

from __future__ import annotations

import ipaddress

from routewatch.core.routes import RouteView, StaticRoutes
from routewatch.dns.health import (
    NO_ADDRESS_ANSWERS,
    NOT_DELEGATED,
    Agreement,
    SerialState,
    ZoneVerdict,
    diversity,
    down_reason,
    lagging,
    ns_set_agreement,
    serial_state,
    serials_agree,
    zone_verdict,
)
from routewatch.dns.state import merge_targets
from routewatch.dns.targets import Target, cap_targets

NS = frozenset({"a.ns.facebook.com.", "b.ns.facebook.com."})


def view(prefix: str, origin: int | None = 32934, visible: bool = True) -> RouteView:
    return RouteView(ipaddress.ip_network(prefix), visible, origin)


def test_ns_set_agreement() -> None:
    assert ns_set_agreement(NS, NS) is Agreement.AGREE
    assert ns_set_agreement(NS, NS | {"c.ns.facebook.com."}) is Agreement.DISAGREE
    assert ns_set_agreement(None, NS) is Agreement.UNKNOWN


def test_serial_agreement_uses_serial_arithmetic() -> None:
    assert serials_agree([5, 5, 5]) is Agreement.AGREE
    assert serials_agree([5, 6]) is Agreement.DISAGREE
    assert serials_agree([]) is Agreement.UNKNOWN
    assert serials_agree([0, 2**32]) is Agreement.AGREE


def test_serial_disagreement_converges_within_grace_then_disagrees() -> None:
    assert serial_state(Agreement.DISAGREE, 1000.0, 1300.0, 600.0) is SerialState.CONVERGING
    assert serial_state(Agreement.DISAGREE, 1000.0, 1600.0, 600.0) is SerialState.DISAGREE
    assert serial_state(Agreement.DISAGREE, None, 1600.0, 600.0) is SerialState.DISAGREE
    assert serial_state(Agreement.AGREE, 1000.0, 1300.0, 600.0) is SerialState.AGREE
    assert serial_state(Agreement.UNKNOWN, None, 0.0, 600.0) is SerialState.UNKNOWN


def test_lagging_across_wraparound() -> None:
    assert lagging({"a": 4294967295, "b": 2, "c": 2}) == ("a",)
    assert lagging({"a": 0, "b": 2**31}) == ()


def test_facebook_2021_all_four_behind_one_origin() -> None:
    routes = StaticRoutes([view("129.134.30.0/23"), view("129.134.30.0/24"), view("129.134.31.0/24"),
                           view("185.89.218.0/23"), view("185.89.218.0/24"), view("185.89.219.0/24")])
    addresses = ["129.134.30.12", "129.134.31.12", "185.89.218.12", "185.89.219.12"]
    result = diversity(addresses, {a: routes.route_for(a) for a in addresses})
    assert result.single_origin is True
    assert result.single_prefix is False
    assert result.prefixes == ("129.134.30.0/24", "129.134.31.0/24", "185.89.218.0/24", "185.89.219.0/24")
    assert result.origins == (32934,)


def test_diversity_one_prefix_and_unknowns() -> None:
    same = {"192.0.2.1": view("192.0.2.0/24", 64500), "192.0.2.2": view("192.0.2.0/24", 64500)}
    assert diversity(same, same).single_prefix is True
    partly = {"192.0.2.1": view("192.0.2.0/24", 64500), "198.51.100.1": None}
    assert diversity(partly, partly).single_prefix is None
    assert diversity(partly, partly).single_origin is None
    spread = {
        "192.0.2.1": view("192.0.2.0/24", 64500),
        "198.51.100.1": None,
        "203.0.113.1": view("203.0.113.0/24", 64501),
    }
    assert diversity(spread, spread).single_prefix is False
    assert diversity(spread, spread).single_origin is False
    no_origin = {"192.0.2.1": view("192.0.2.0/24", None)}
    assert diversity(no_origin, no_origin).single_origin is None
    assert diversity([], {}).single_prefix is None


def test_static_routes_longest_match_and_family() -> None:
    routes = StaticRoutes([view("129.134.0.0/17"), view("129.134.30.0/23", visible=False)])
    found = routes.route_for("129.134.30.12")
    assert found is not None and str(found.prefix) == "129.134.30.0/23" and not found.visible
    assert routes.route_for("2a03:2880::1") is None
    assert routes.route_for("10.0.0.1") is None


def test_verdicts() -> None:
    assert zone_verdict(4, 4, ns_sets=Agreement.AGREE, serials=SerialState.AGREE) is ZoneVerdict.HEALTHY
    assert zone_verdict(3, 4) is ZoneVerdict.DEGRADED
    assert zone_verdict(0, 4) is ZoneVerdict.DOWN
    assert zone_verdict(0, 0) is ZoneVerdict.UNKNOWN
    assert zone_verdict(4, 4, ns_sets=Agreement.DISAGREE) is ZoneVerdict.DEGRADED
    assert zone_verdict(4, 4, serials=SerialState.DISAGREE) is ZoneVerdict.DEGRADED
    assert zone_verdict(4, 4, serials=SerialState.CONVERGING) is ZoneVerdict.HEALTHY
    assert zone_verdict(4, 4, discovery_ok=False) is ZoneVerdict.DEGRADED
    assert zone_verdict(4, 4, resolvers_failing=1) is ZoneVerdict.DEGRADED
    assert [v.exit_code for v in ZoneVerdict] == [0, 1, 2, 3]


def test_a_zone_its_parent_calls_nxdomain_is_down_whatever_its_servers_answer() -> None:
    assert zone_verdict(4, 4, delegated=False) is ZoneVerdict.DOWN
    assert zone_verdict(0, 0, delegated=False) is ZoneVerdict.DOWN  # no address known: still down, not unknown
    assert down_reason(ZoneVerdict.DOWN, delegated=False) == NOT_DELEGATED
    assert down_reason(ZoneVerdict.DOWN, delegated=True) == NO_ADDRESS_ANSWERS
    assert down_reason(ZoneVerdict.DEGRADED, delegated=True) == ""


def test_cap_keeps_a_stable_subset_and_counts_the_rest() -> None:
    targets = [Target("z.", f"ns{i}.z.", f"192.0.2.{i}") for i in range(5, 0, -1)]
    kept, dropped = cap_targets(targets + [Target("y.", "ns.y.", "192.0.2.9")], 3)
    assert [t.address for t in kept if t.zone == "z."] == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    assert dropped == 2
    assert Target("y.", "ns.y.", "192.0.2.9") in kept


def test_incomplete_discovery_keeps_known_targets_until_expiry() -> None:
    old = Target("z.", "a.z.", "192.0.2.1")
    new = Target("z.", "b.z.", "192.0.2.2")
    kept = merge_targets({old: 500.0}, [new], complete=False, now=100.0, keep_until=900.0)
    assert kept == {old: 500.0, new: 900.0}
    assert merge_targets({old: 500.0}, [], complete=False, now=600.0, keep_until=900.0) == {}
    assert merge_targets({old: 500.0}, [new], complete=True, now=100.0, keep_until=900.0) == {new: 900.0}
