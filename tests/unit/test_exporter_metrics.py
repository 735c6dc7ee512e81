"""What the exporter renders from snapshots: label bounds, unknown as a state, the DNS-BGP join."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from types import MappingProxyType

from routewatch.dns.health import Agreement, Diversity, SerialState, ZoneVerdict
from routewatch.dns.snapshot import DiscoverySnapshot, DnsSnapshot, TargetSnapshot, TransportSnapshot, ZoneSnapshot
from routewatch.dns.targets import ProbeFailure, Target, Transport
from routewatch.exporter.exposition import Exposition, families
from routewatch.exporter.state import ComponentStatus, ExportState, ProcessStatus, SnapshotBox
from routewatch.model import FeedState, parse_prefix
from routewatch.rpki.vrp import Vrp, VrpSourceKind, VrpSourceStatus
from routewatch.sources.health import CollectorHealth, SourceHealth
from tests.support.events import announce, collector_state, peer, withdraw
from tests.support.metrics import ORIGIN, samples, scrape, value, watched_monitor

WATCHED = "10.0.0.0/8"
HOSTILE = 64666


def test_a_hostile_peer_announcing_100000_more_specifics_creates_no_series() -> None:
    m = watched_monitor(WATCHED)
    m.apply_all(announce(0, peer(i), WATCHED, (64500 + i, ORIGIN)) for i in range(5))
    m.advance(10)
    process = ProcessStatus("test")
    before = samples(scrape(ExportState(process, core=m.snapshot())))
    attacker = peer(200, asn=HOSTILE)
    network = int(ipaddress.ip_address("10.0.0.0"))
    m.apply_all(
        announce(20, attacker, str(ipaddress.ip_network((network + n * 2, 31))), (HOSTILE,)) for n in range(100_000)
    )
    m.advance(30)
    after_text = scrape(ExportState(process, core=m.snapshot()))
    after = samples(after_text)
    assert set(after) == set(before), "series appeared or vanished"
    assert value(after_text, "routewatch_bgp_prefix_unexpected_origin_peers", prefix=WATCHED) == 1
    assert value(after_text, "routewatch_bgp_prefix_more_specific_peers", prefix=WATCHED) == 0
    assert m.snapshot().tracked_routes == 1_005  # limits.max_more_specifics: the rest are refused and counted
    assert value(after_text, "routewatch_bgp_prefix_more_specifics_refused_total", prefix=WATCHED) == 99_000


def test_an_unknown_feed_is_a_state_not_a_zero() -> None:
    m = watched_monitor(WATCHED)
    m.apply_all(announce(0, peer(i), WATCHED, (64500 + i, ORIGIN)) for i in range(5))
    m.apply(collector_state(100, "rrc00", FeedState.STALE))
    m.advance(101)
    text = scrape(ExportState(ProcessStatus("test"), core=m.snapshot()))
    states = {s: value(text, "routewatch_bgp_prefix_state", prefix=WATCHED, state=s)
              for s in ("visible", "pending", "withdrawn", "unknown", "insufficient-baseline", "missing")}
    assert states == {"visible": 0, "pending": 0, "withdrawn": 0, "unknown": 1, "insufficient-baseline": 0,
                      "missing": 0}
    assert value(text, "routewatch_bgp_prefix_withdrawn", prefix=WATCHED) is None  # state says it, once


def test_nothing_known_yet_renders_only_the_process() -> None:
    text = scrape(ExportState(ProcessStatus("1.2.3", components=(ComponentStatus("dns", False, 3),))))
    got = samples(text)
    assert got == {
        ("routewatch_build_info", (("version", "1.2.3"),)): 1.0,
        ("routewatch_config_last_reload_successful", ()): 1.0,
        ("routewatch_component_up", (("component", "dns"),)): 0.0,
        ("routewatch_component_restarts_total", (("component", "dns"),)): 3.0,
        ("routewatch_bootstrap_degraded", ()): 0.0,
        ("routewatch_state_restore_rejected", ()): 0.0,
        ("routewatch_shard_info", (("shard", "0"), ("shards", "1"))): 1.0,
        ("routewatch_shards", ()): 1.0,
    }


def _probe(transport: Transport, failure: ProbeFailure | None, rtt: float | None,
           serial: int | None) -> TransportSnapshot:
    return TransportSnapshot(transport, 100.0, failure, rtt, serial, failure is None, None, "")


def _zone(name: str, verdict: ZoneVerdict, serials: SerialState, since: float | None = None) -> ZoneSnapshot:
    return ZoneSnapshot(
        zone=name, verdict=verdict, nameservers_up=1, nameservers_total=2, addresses_up=1, addresses_total=2,
        addresses_over_cap=0, serials=serials, serial_newest=None, lagging=(), ns_sets=Agreement.UNKNOWN,
        parent_ns=(), child_ns=(), discovery=DiscoverySnapshot(None, None, None, 0),
        diversity=Diversity(True, None), serial_disagreeing_since=since,
    )


def _target(address: str, udp: TransportSnapshot | None, tcp: TransportSnapshot | None = None) -> TargetSnapshot:
    failures = dict.fromkeys(ProbeFailure, 0)
    if udp is not None and udp.failure is not None:
        failures[udp.failure] = 4
    return TargetSnapshot(Target("example.com.", "a.ns.example.com.", address), None if udp is None else
                          udp.failure is None, None, udp, tcp, MappingProxyType(failures), 5)


def test_dns_targets_join_the_core_risk_and_unknowns_are_absent() -> None:
    m = watched_monitor("192.0.2.0/24")
    m.add_address(ipaddress.ip_address("192.0.2.53"), [parse_prefix("192.0.2.0/24")], "example.com.", True)
    m.apply_all(announce(0, peer(i), "192.0.2.0/24", (64500 + i, ORIGIN)) for i in range(4))
    m.apply_all(announce(0, peer(i), "192.0.0.0/16", (64500 + i, ORIGIN)) for i in range(4))
    m.advance(10)
    m.apply_all(withdraw(20, peer(i), "192.0.2.0/24") for i in range(3))
    m.advance(21)
    dns = DnsSnapshot(100.0, (
        _zone("example.com.", ZoneVerdict.DEGRADED, SerialState.DISAGREE, since=40.0),
        _zone("example.net.", ZoneVerdict.UNKNOWN, SerialState.UNKNOWN),
    ), (
        _target("192.0.2.53", _probe(Transport.UDP, None, 0.012, 7), _probe(Transport.TCP, ProbeFailure.TIMEOUT,
                                                                              None, None)),
        _target("198.51.100.53", _probe(Transport.UDP, ProbeFailure.REFUSED, 0.002, None)),
        _target("203.0.113.53", None),
    ))
    text = scrape(ExportState(ProcessStatus("t"), core=m.snapshot(), dns=dns))
    a = {"zone": "example.com.", "nameserver": "a.ns.example.com.", "address": "192.0.2.53"}
    b = {**a, "address": "198.51.100.53"}
    c = {**a, "address": "203.0.113.53"}
    assert value(text, "routewatch_dns_nameserver_peers_at_risk", **a) == 3
    assert value(text, "routewatch_dns_nameserver_baseline_peers", **a) == 4
    assert value(text, "routewatch_dns_nameserver_peers_at_risk", **b) is None  # no route tracked: no fake 0
    assert value(text, "routewatch_dns_nameserver_up", **a) == 1  # UDP healthy even though TCP timed out
    assert value(text, "routewatch_dns_nameserver_up", **b) == 0
    assert value(text, "routewatch_dns_nameserver_up", **c) is None  # never probed
    assert value(text, "routewatch_dns_query_duration_seconds", **a, transport="udp") == 0.012
    assert value(text, "routewatch_dns_query_duration_seconds", **a, transport="tcp") is None
    assert value(text, "routewatch_dns_soa_serial", **a) == 7
    assert value(text, "routewatch_dns_probe_failures_total", **b, reason="refused") == 4
    assert value(text, "routewatch_dns_probe_failures_total", **b, reason="timeout") == 0
    assert value(text, "routewatch_dns_zone_serials_agree", zone="example.com.") == 0
    assert value(text, "routewatch_dns_zone_serial_disagreement_seconds", zone="example.com.") == 60
    assert value(text, "routewatch_dns_zone_serials_agree", zone="example.net.") is None
    assert value(text, "routewatch_dns_zone_state", zone="example.net.", state="unknown") == 1
    assert value(text, "routewatch_dns_zone_state", zone="example.net.", state="down") == 0
    assert value(text, "routewatch_dns_zone_single_point", zone="example.com.", kind="prefix") == 1
    assert value(text, "routewatch_dns_zone_single_point", zone="example.com.", kind="origin") is None
    assert value(text, "routewatch_dns_discovery_success", zone="example.com.") is None
    assert value(text, "routewatch_dns_zone_delegated", zone="example.com.") is None  # no parent answered


def test_a_delegation_the_parent_calls_nxdomain_is_exported_as_not_delegated() -> None:
    gone = replace(_zone("gone.example.", ZoneVerdict.DOWN, SerialState.UNKNOWN),
                   discovery=DiscoverySnapshot(False, 100.0, None, 1, parent_answer="NXDOMAIN"))
    there = replace(_zone("there.example.", ZoneVerdict.HEALTHY, SerialState.AGREE), parent_ns=("ns.there.example.",))
    text = scrape(ExportState(ProcessStatus("t"), dns=DnsSnapshot(100.0, (gone, there), ())))
    assert value(text, "routewatch_dns_zone_delegated", zone="gone.example.") == 0
    assert value(text, "routewatch_dns_zone_state", zone="gone.example.", state="down") == 1
    assert value(text, "routewatch_dns_zone_delegated", zone="there.example.") == 1


def test_feed_derived_labels_are_capped() -> None:
    collectors = tuple(CollectorHealth(f"rrc{n:02d}", n % 2 == 0, 1000.0 + n, 2.0) for n in range(30))
    ignored = MappingProxyType({f"TYPE{n}": n + 1 for n in range(40)})
    health = SourceHealth("ris-live", True, 1030.0, 1.5, 2, 500, 3, 4, ignored, collectors, connect_failures=7)
    text = scrape(ExportState(ProcessStatus("t"), sources=(health,), max_collectors=8, max_ignored_types=5))
    got = samples(text)
    exported = {dict(k[1])["collector"] for k in got if k[0] == "routewatch_source_collector_up"}
    assert exported == {f"rrc{n:02d}" for n in range(8)}
    assert value(text, "routewatch_source_collectors_over_cap", source="ris-live") == 22
    types = {dict(k[1])["type"]: v for k, v in got.items() if k[0] == "routewatch_source_messages_ignored_total"}
    assert len(types) == 5 and types["TYPE39"] == 40 and types["other"] == sum(range(1, 37))
    assert sum(types.values()) == sum(ignored.values())
    assert value(text, "routewatch_source_collector_up", source="ris-live", collector="rrc01") == 0
    assert value(text, "routewatch_source_messages_dropped_total", source="ris-live") == 4
    assert value(text, "routewatch_source_connect_failures_total", source="ris-live") == 7
    assert value(text, "routewatch_source_reconnects_total", source="ris-live") == 2


def test_a_bmp_routers_messages_damage_and_peers_are_exported_and_ris_collectors_have_none() -> None:
    routers = (CollectorHealth("192.0.2.1", True, 50.0, 0.0, 120, 2, 3), CollectorHealth("192.0.2.2", False, 40.0,
                                                                                        10.0, 7, 0, 0))
    bmp = SourceHealth("bmp", True, 50.0, 0.0, 0, 127, 2, 0, collectors=routers)
    ris = SourceHealth("ris-live", True, 50.0, 1.0, 0, 10, 0, 0, collectors=(CollectorHealth("rrc00", True, 50.0),))
    text = scrape(ExportState(ProcessStatus("t"), sources=(bmp, ris)))
    assert value(text, "routewatch_source_collector_messages_total", source="bmp", collector="192.0.2.1") == 120
    assert value(text, "routewatch_source_collector_messages_malformed_total", source="bmp",
                 collector="192.0.2.1") == 2
    assert value(text, "routewatch_source_collector_peers_up", source="bmp", collector="192.0.2.1") == 3
    assert value(text, "routewatch_source_collector_up", source="bmp", collector="192.0.2.2") == 0
    assert value(text, "routewatch_source_collector_peers_up", source="bmp", collector="192.0.2.2") == 0
    assert value(text, "routewatch_source_collector_messages_total", source="ris-live", collector="rrc00") is None
    assert value(text, "routewatch_source_collector_peers_up", source="ris-live", collector="rrc00") is None


def test_a_source_not_started_has_no_up_series() -> None:
    text = scrape(ExportState(ProcessStatus("t"), sources=(SourceHealth("mrt", None),)))
    assert value(text, "routewatch_source_up", source="mrt") is None
    assert value(text, "routewatch_source_messages_total", source="mrt") == 0
    assert value(text, "routewatch_source_connect_failures_total", source="mrt") == 0


def test_every_family_is_rendered_from_one_state_read() -> None:
    reads = []

    class CountingBox(SnapshotBox):
        @property
        def current(self) -> ExportState:
            reads.append(1)
            return super().current

    Exposition(CountingBox(ExportState(ProcessStatus("t"), core=watched_monitor(WATCHED).snapshot())))("")
    assert len(reads) == 1
    assert [f.name for f in families(ExportState(ProcessStatus("t")))][:2] == [
        "routewatch_build_info", "routewatch_config_last_reload_successful"]


def test_rpki_gauges_are_unknown_before_the_first_set_then_count_invalid_routes() -> None:
    m = watched_monitor(WATCHED, rpki=True)
    m.apply_all(announce(0, peer(i), WATCHED, (64500 + i, ORIGIN)) for i in range(3))
    m.apply_all(announce(1, peer(i), "10.1.0.0/16", (64500 + i, HOSTILE)) for i in range(2))
    m.advance(10)

    def rpki(text: bytes) -> tuple[dict[str, float | None], float | None, float | None]:
        states = {s: value(text, "routewatch_bgp_prefix_rpki_state", prefix=WATCHED, state=s)
                  for s in ("valid", "invalid", "not-found", "unknown")}
        return (states, value(text, "routewatch_bgp_prefix_rpki_invalid_peers", prefix=WATCHED),
                value(text, "routewatch_bgp_prefix_rpki_expires_timestamp_seconds", prefix=WATCHED))

    before = rpki(scrape(ExportState(ProcessStatus("t"), core=m.snapshot())))
    assert before == ({"valid": 0, "invalid": 0, "not-found": 0, "unknown": 1}, None, None)
    m.set_vrps([Vrp(parse_prefix(WATCHED), 16, ORIGIN, expires=1.9e9)])
    after = rpki(scrape(ExportState(ProcessStatus("t"), core=m.snapshot())))
    assert after == ({"valid": 1, "invalid": 0, "not-found": 0, "unknown": 0}, 2, 1.9e9)


def test_a_failing_vrp_source_keeps_its_count_and_says_stale() -> None:
    vrps = frozenset({Vrp(parse_prefix(WATCHED), 16, ORIGIN)})
    never = VrpSourceStatus("cache", VrpSourceKind.RTR)
    failing = VrpSourceStatus("roas", VrpSourceKind.JSON, vrps, 4, 50.0, stale=True, errors=2)
    fresh = VrpSourceStatus("stayrtr", VrpSourceKind.RTR, vrps, 812, 60.0, stale=False, errors=1)
    text = scrape(ExportState(ProcessStatus("t"), rpki_sources=(never, failing, fresh)))

    def source(name: str) -> tuple[float | None, ...]:
        return tuple(value(text, f"routewatch_rpki_source_{metric}", source=name)
                     for metric in ("vrps", "serial", "last_update_timestamp_seconds", "stale", "errors_total"))

    assert source("cache") == (None, None, None, 1, 0)  # nothing known yet: absent, never zero VRPs
    assert source("roas") == (1, None, 50.0, 1, 2)  # a JSON export has no serial of its own
    assert source("stayrtr") == (1, 812, 60.0, 0, 1)


def test_no_vrp_source_no_rpki_source_series() -> None:
    names = {name for name, _ in samples(scrape(ExportState(ProcessStatus("t"))))}
    assert not any(name.startswith("routewatch_rpki_") for name in names)
    assert [f.name for f in families(ExportState(ProcessStatus("t"))) if f.name.startswith("routewatch_rpki")] == []
