"""Rendering and reading the exporter's output in tests, and an ExportState with every part present."""

from __future__ import annotations

import ipaddress
from types import MappingProxyType

from prometheus_client.parser import text_string_to_metric_families

from routewatch.core.engine import Engine
from routewatch.core.path_policy import PathPolicies, PathPolicy, PathRule
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.dns.answers import QueryResult, QueryResults
from routewatch.dns.health import Agreement, Diversity, SerialState, ZoneVerdict
from routewatch.dns.signatures import AddressDnssec, SigningStatus
from routewatch.dns.snapshot import (
    DiscoverySnapshot,
    DnsSnapshot,
    ResolverSnapshot,
    TargetSnapshot,
    TransportSnapshot,
    ZoneSnapshot,
)
from routewatch.dns.targets import ProbeFailure, Target, Transport
from routewatch.dns.trust import DnssecState, ZoneDnssec
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.state import ComponentStatus, ExportState, ProcessStatus, SnapshotBox
from routewatch.model import parse_prefix
from routewatch.rpki.vrp import Vrp, VrpSourceKind, VrpSourceStatus
from routewatch.sources.health import CollectorHealth, SourceHealth
from tests.support.events import announce, peer

ORIGIN = 32934
HIJACKER = 64511


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(text: bytes, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def scrape(state: ExportState) -> bytes:
    return Exposition(SnapshotBox(state))("")[0]


def watched_monitor(*prefixes: str, paths: PathPolicies | None = None, asns: dict[int, int] | None = None,
                    overrides: dict[str, WithdrawalThresholds] | None = None, rpki: bool = False) -> Engine:
    """An engine watching ``prefixes`` expected from ``ORIGIN``; ``overrides`` gives some their own thresholds."""
    chosen = overrides or {}
    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset({ORIGIN}), chosen.get(p, WithdrawalThresholds()))
                      for p in prefixes], asns=asns)
    return Engine(watch, CoreSettings(baseline_min_hold=1.0, paths=paths or PathPolicies(), rpki=rpki))


ADDRESS = "192.0.2.53"
UNLISTING = 64499
"""A watched AS that alerts on new prefixes: the one it is seen originating is an unlisted prefix."""


def full_state() -> ExportState:
    policy = PathPolicy(upstreams=frozenset({174}), rules=(PathRule(max_length=8),))
    paths = PathPolicies(by_prefix={parse_prefix("192.0.2.0/24"): policy},
                         by_asn={UNLISTING: PathPolicy(new_prefixes=True)})
    m = watched_monitor("192.0.2.0/24", "203.0.113.0/24", paths=paths, asns={UNLISTING: 1},
                        overrides={"203.0.113.0/24": WithdrawalThresholds(withdrawn_ratio=0.3, recovered_ratio=0.6)})
    m.watch.asn_over_cap[ORIGIN] = 1
    m.add_address(ipaddress.ip_address(ADDRESS), [parse_prefix("192.0.2.0/24")], "example.com.", True)
    m.apply_all(announce(0, peer(i), "192.0.2.0/24", (64500 + i, ORIGIN)) for i in range(4))
    m.apply_all(announce(0, peer(i), "198.51.100.0/24", (64500 + i, UNLISTING)) for i in range(2))
    m.apply_all(announce(1, peer(i), "203.0.113.0/25", (64500 + i, HIJACKER)) for i in range(3))
    vrps = frozenset({Vrp(parse_prefix("192.0.2.0/24"), 24, ORIGIN, expires=2e9),
                      Vrp(parse_prefix("203.0.113.0/24"), 24, ORIGIN)})
    m.set_vrps(vrps)  # the /25 hijack is invalid
    m.advance(10)
    failures = MappingProxyType(dict.fromkeys(ProbeFailure, 0))
    probe = {t: TransportSnapshot(t, 9.0, None, 0.01, 5, True, "site", "") for t in Transport}
    target = TargetSnapshot(Target("example.com.", "a.ns.example.com.", ADDRESS), True, None,
                            probe[Transport.UDP], probe[Transport.TCP], failures, 2,
                            dnssec=AddressDnssec(SigningStatus.SIGNED, 9.0, earliest_expiry=1e9),
                            queries=QueryResults((QueryResult("www.example.com. A", True, "NOERROR", ""),)))
    zone = ZoneSnapshot(
        zone="example.com.", verdict=ZoneVerdict.HEALTHY, nameservers_up=1, nameservers_total=1, addresses_up=1,
        addresses_total=1, addresses_over_cap=0, serials=SerialState.AGREE, serial_newest=5, lagging=(),
        ns_sets=Agreement.AGREE, parent_ns=("ns.example.",), child_ns=("ns.example.",),
        discovery=DiscoverySnapshot(True, 8.0, 8.0, 0), diversity=Diversity(True, True),
        resolvers=(ResolverSnapshot("::1", 9.0, None, 0.02, failures),),
        dnssec=ZoneDnssec(DnssecState.SECURE, 1e9, ds_match=True),
    )
    source = SourceHealth("ris-live", True, 9.0, 1.0, 0, 10, 0, 0, MappingProxyType({"OPEN": 1}),
                          (CollectorHealth("rrc00", True, 9.0, 1.0),), path_subscriptions=1)
    bmp = SourceHealth("bmp", True, 9.0, 0.0, 0, 20, 1, 0, collectors=(CollectorHealth("192.0.2.1", True, 9.0, 0.0,
                                                                                         20, 1, 2),))
    process = ProcessStatus("t", True, 1.0, (ComponentStatus("dns", True),))
    rpki = (VrpSourceStatus("cache", VrpSourceKind.RTR, vrps, 7, 8.0, stale=False),
            VrpSourceStatus("roas", VrpSourceKind.JSON, vrps, 2, 5.0, stale=True, errors=3))
    return ExportState(process, core=m.snapshot(), dns=DnsSnapshot(10.0, (zone,), (target,)), sources=(source, bmp),
                       rpki_sources=rpki)
