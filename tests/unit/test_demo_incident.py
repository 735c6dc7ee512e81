"""The demo's reconstructed incident: the story it tells, and a config the daemon accepts."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import orjson

from routewatch.config.schema import parse_config
from routewatch.demo.dns import (
    NAMESERVERS,
    PARENT_ADDRESS,
    STAND_IN_AGGREGATE,
    STAND_IN_SERVICE,
    DemoDns,
    with_stand_ins,
)
from routewatch.demo.incident import (
    AGGREGATE,
    DNS_PREFIXES,
    HIJACKED,
    HIJACKER,
    ORIGIN,
    OUTAGE,
    RESTARTING_COLLECTOR,
    RETURN,
    StepKind,
    peers,
    timeline,
)
from routewatch.demo.player import frame
from routewatch.demo.run import demo_config
from routewatch.sources.ris_live.parse import RisParser


def test_the_story_is_the_same_every_time_and_in_time_order() -> None:
    steps = timeline()
    assert steps == timeline()
    assert [s.at for s in steps] == sorted(s.at for s in steps)


def test_most_peers_withdraw_the_dns_prefixes_and_bring_them_back_while_the_aggregate_stays() -> None:
    steps = timeline()
    gone = {s.peer for s in steps if s.kind is StepKind.WITHDRAW and set(s.prefixes) == set(DNS_PREFIXES)}
    assert len(gone) / len(peers()) > 0.9
    assert all(OUTAGE <= s.at < RETURN for s in steps if s.kind is StepKind.WITHDRAW and s.peer in gone
               and DNS_PREFIXES[0] in s.prefixes)
    assert not any(AGGREGATE in s.prefixes for s in steps if s.kind is StepKind.WITHDRAW)
    back = {s.peer for s in steps if s.kind is StepKind.ANNOUNCE and s.at >= RETURN}
    assert back == gone


def test_one_collector_restarts_and_the_hijack_comes_from_a_documentation_as_under_a_watched_prefix() -> None:
    steps = timeline()
    down = {s.peer.collector for s in steps if s.kind is StepKind.SESSION_DOWN}
    assert down == {RESTARTING_COLLECTOR}
    hijack = [s for s in steps if HIJACKED in s.prefixes and s.kind is StepKind.ANNOUNCE]
    assert hijack and all(s.path[-1] == HIJACKER for s in hijack)
    assert ipaddress.ip_network(HIJACKED).subnet_of(ipaddress.ip_network("185.89.219.0/24"))  # type: ignore[arg-type]
    assert all(s.path[-1] == ORIGIN for s in steps if s.kind is StepKind.ANNOUNCE and HIJACKED not in s.prefixes)


def test_every_message_reads_as_ris_live_and_the_generated_config_is_valid(tmp_path: Path) -> None:
    parser = RisParser()
    for n, step in enumerate(timeline()):
        parsed = parser.decode(orjson.dumps(frame(step, 1_700_000_000.0 + n, n)))
        assert parsed.collector == step.peer.collector
        assert parsed.events, step
    config = parse_config(demo_config("ws://127.0.0.1:1/v1/ws/", 60.0, "127.0.0.1", 9724, tmp_path))
    assert {str(p.prefix) for p in config.prefixes} == {*DNS_PREFIXES, AGGREGATE}
    assert config.bgp.thresholds.hold_down == 1.0


def test_with_its_own_dns_the_demo_watches_facebook_com_through_a_loopback_service_prefix(tmp_path: Path) -> None:
    dns = DemoDns("knotd", tmp_path / "dns", port=20_053)
    config = parse_config(demo_config("ws://127.0.0.1:1/v1/ws/", 60.0, "127.0.0.1", 9724, tmp_path, dns))
    (zone,) = config.zones
    assert zone.zone == "facebook.com." and [str(a) for a in zone.parent_servers] == [PARENT_ADDRESS]
    assert {str(a) for a in zone.service_prefixes} == set(NAMESERVERS.values())
    service = ipaddress.ip_network(STAND_IN_SERVICE)
    assert all([str(p) for p in prefixes] == [STAND_IN_SERVICE] and ipaddress.ip_address(a) in service
               for a, prefixes in zone.service_prefixes.items())
    assert ipaddress.ip_address(PARENT_ADDRESS) not in service
    assert config.dns.port == 20_053 and config.dns.rediscover_interval == 60.0
    assert {str(p.prefix) for p in config.prefixes} == {*DNS_PREFIXES, AGGREGATE}


def test_the_stand_ins_are_announced_and_withdrawn_with_the_prefixes_they_stand_in_for() -> None:
    for step in timeline():
        moved = with_stand_ins(step)
        assert (STAND_IN_SERVICE in moved.prefixes) == (DNS_PREFIXES[0] in step.prefixes)
        assert (STAND_IN_AGGREGATE in moved.prefixes) == (AGGREGATE in step.prefixes)
        assert moved.prefixes[:len(step.prefixes)] == step.prefixes and moved.kind is step.kind
    assert ipaddress.ip_network(STAND_IN_SERVICE).subnet_of(ipaddress.ip_network(STAND_IN_AGGREGATE))  # type: ignore[arg-type]
