"""The DNS, feed and process rules' promtool cases (see ``cases.py``)."""

from __future__ import annotations

from tests.oracle.alerting.cases import JOB, OTHER_TARGET, PODS, TARGET, Case, Series, scrape_labels
from tests.oracle.alerting.exported import selector

ZONE = {"zone": TARGET["zone"]}
OTHER_ZONE = {"zone": "example.org."}


def _target(name: str, values: str = "", target: dict[str, str] = TARGET, **extra: str) -> Series:
    return Series(name, {**target, **extra}, values)


def dns_cases() -> list[Case]:
    return [
        Case("RoutewatchNameserverDown", "UDP down for 3 minutes; a lame one is its own alert",
             [_target("routewatch_dns_nameserver_up", "1x2 0x10 1x5"),
              _target("routewatch_dns_nameserver_lame", "0x17"),
              _target("routewatch_dns_nameserver_up", "0x17", OTHER_TARGET),
              _target("routewatch_dns_nameserver_lame", "1x17", OTHER_TARGET)],
             fire_at="5m", fired=[(TARGET, 0)], quiet_before="2m", quiet_after="8m"),
        Case("RoutewatchNameserverLame", "answers without authority for 10 minutes",
             [_target("routewatch_dns_nameserver_lame", "0x2 1x30 0x5")],
             fire_at="12m", fired=[(TARGET, 1)], quiet_before="9m", quiet_after="18m"),
        Case("RoutewatchNameserverTcpFailing", "TCP fails while UDP answers; both failing is not TCP-only",
             [_target("routewatch_dns_nameserver_transport_up", "1x2 0x30 1x5", transport="tcp"),
              _target("routewatch_dns_nameserver_transport_up", "1x37", transport="udp"),
              _target("routewatch_dns_nameserver_transport_up", "0x37", OTHER_TARGET, transport="tcp"),
              _target("routewatch_dns_nameserver_transport_up", "0x37", OTHER_TARGET, transport="udp")],
             fire_at="12m", fired=[(TARGET, 0)], quiet_before="9m", quiet_after="18m"),
        Case("RoutewatchDnsAtRisk", "most baseline peers lost the service prefix",
             [_target("routewatch_dns_nameserver_peers_at_risk", "0x2 8x10 0x5"),
              _target("routewatch_dns_nameserver_baseline_peers", "10x17")],
             fire_at="4m", fired=[(TARGET, 0.8)], quiet_before="1m", quiet_after="9m"),
        Case("RoutewatchDnsQueryFailing", "a configured query fails at one address for 5 minutes",
             [_target("routewatch_dns_query_success", "1x2 0x20 1x5", query="www.example.com. A"),
              _target("routewatch_dns_query_success", "1x27", OTHER_TARGET, query="www.example.com. A")],
             fire_at="8m", fired=[({**TARGET, "query": "www.example.com. A"}, 0)], quiet_before="5m",
             quiet_after="12m"),
        Case("RoutewatchZoneDown", "no address answers",
             [Series("routewatch_dns_zone_nameservers", ZONE, "4x20"),
              Series("routewatch_dns_zone_nameservers_up", ZONE, "4x2 0x10 4x8")],
             fire_at="4m", fired=[(ZONE, 4)], quiet_before="1m", quiet_after="9m"),
        Case("RoutewatchZoneNotDelegated", "the parent answers NXDOMAIN on both pods; one pod alone does not page",
             [Series("routewatch_dns_zone_delegated", ZONE, "1x2 0x20 1x10"),
              Series("routewatch_dns_zone_delegated", OTHER_ZONE, pods=("0x32", "1x32"))],
             fire_at="8m", fired=[(ZONE, 0)], quiet_before="4m", quiet_after="16m"),
        Case("RoutewatchSoaSerialDisagreement", "serials disagree longer than the grace",
             [Series("routewatch_dns_zone_serial_disagreement_seconds", ZONE, "0x2 0+30x30 0x5"),
              Series("routewatch_dns_zone_serial_grace_seconds", ZONE, "300x38")],
             fire_at="13m", fired=[(ZONE, 690)], quiet_before="9m", quiet_after="18m"),
        Case("RoutewatchNsSetsDisagree", "parent and child NS sets differ for an hour",
             [Series("routewatch_dns_zone_ns_sets_agree", ZONE, "1x2 0x130 1x5")],
             fire_at="62m", fired=[(ZONE, 0)], quiet_before="30m", quiet_after="68m"),
        Case("RoutewatchGlueMismatch", "the parent's glue differs from the zone's addresses for an hour",
             [Series("routewatch_dns_zone_glue_agree", ZONE, "1x2 0x130 1x5"),
              Series("routewatch_dns_zone_glue_agree", OTHER_ZONE, "1x137")],
             fire_at="62m", fired=[(ZONE, 0)], quiet_before="30m", quiet_after="68m"),
        Case("RoutewatchZoneSinglePoint", "every nameserver in one origin AS for an hour",
             [Series("routewatch_dns_zone_single_point", {**ZONE, "kind": "origin"}, "1x130 0x5"),
              Series("routewatch_dns_zone_single_point", {**ZONE, "kind": "prefix"}, "0x135")],
             fire_at="62m", fired=[({**ZONE, "kind": "origin"}, 1)], quiet_before="30m", quiet_after="67m"),
        Case("RoutewatchResolverFailing", "a recursive resolver fails for 5 minutes",
             [Series("routewatch_dns_resolver_up", {**ZONE, "resolver": "::1"}, "1x2 0x20 1x5")],
             fire_at="7m", fired=[({**ZONE, "resolver": "::1"}, 0)], quiet_before="4m", quiet_after="13m"),
        Case("RoutewatchDnsDiscoveryFailing", "discovery fails for 30 minutes",
             [Series("routewatch_dns_discovery_success", ZONE, "1x2 0x70 1x5")],
             fire_at="32m", fired=[(ZONE, 0)], quiet_before="20m", quiet_after="38m"),
        Case("RoutewatchDnssecBogus", "bogus on both pods pages; bogus on one pod alone does not",
             [Series("routewatch_dns_dnssec_state", {**ZONE, "state": "bogus"}, "0x2 1x20 0x10"),
              Series("routewatch_dns_dnssec_state", {"zone": "example.org.", "state": "bogus"},
                     pods=("1x32", "0x32"))],
             fire_at="7m", fired=[(ZONE, 1)], quiet_before="4m", quiet_after="15m"),
        Case("RoutewatchDnssecExpiring", "the earliest signature's time left, until the zone is re-signed",
             [_target("routewatch_dns_dnssec_signature_expiry_timestamp_seconds", "7200x40 2592000x20"),
              _target("routewatch_dns_dnssec_signature_expiry_timestamp_seconds", "9000x60", OTHER_TARGET),
              Series("routewatch_dns_dnssec_state", {**ZONE, "state": "expiring"}, "1x40 0x20"),
              Series("routewatch_dns_dnssec_signature_expiry_timestamp_seconds",
                     {"zone": "example.org.", "nameserver": "ns1.example.org.", "address": "203.0.113.53"},
                     "2592000x60"),
              Series("routewatch_dns_dnssec_state", {"zone": "example.org.", "state": "expiring"}, "0x60")],
             fire_at="15m", fired=[(ZONE, 7200 - 900)], quiet_before="5m", quiet_after="25m"),
        Case("RoutewatchDnssecUnsigned", "a zone that must be signed has no DS, on both pods; one pod alone is quiet",
             [Series("routewatch_dns_dnssec_state", {**ZONE, "state": "unsigned"}, "0x2 1x30 0x12"),
              Series("routewatch_dns_dnssec_state", {**OTHER_ZONE, "state": "unsigned"}, pods=("1x44", "0x44"))],
             fire_at="13m", fired=[(ZONE, 1)], quiet_before="9m", quiet_after="21m"),
    ]


def _up(values: tuple[str, str]) -> list[dict[str, str]]:
    """``up`` as each Prometheus replica records it for each pod."""
    return [{"series": selector("up", scrape_labels(pod, replica)), "values": values[i]}
            for i, pod in enumerate(PODS) for replica in ("prometheus-k8s-0", "prometheus-k8s-1")]


def _processes(name: str, labels: dict[str, str], values: dict[str, str], job: str = JOB) -> list[dict[str, str]]:
    """A series from processes named by instance (not the two pods), as each Prometheus replica records it."""
    return [{"series": selector(name, {**labels, "job": job, "instance": instance, "prometheus_replica": replica}),
             "values": v}
            for instance, v in values.items() for replica in ("prometheus-k8s-0", "prometheus-k8s-1")]


def _shards() -> list[dict[str, str]]:
    """Three shards on instances a-c; b stops being scraped from 1m30s to 11m; d claims shard 2 from 5m to 11m;
    an unsharded pair of replicas of another job says nothing."""
    info = "routewatch_shard_info"
    return [
        *_processes(info, {"shard": "0", "shards": "3"}, {"a:9724": "1x30"}),
        *_processes(info, {"shard": "1", "shards": "3"}, {"b:9724": "1x2 stale _x19 1x8"}),
        *_processes(info, {"shard": "2", "shards": "3"}, {"c:9724": "1x30", "d:9724": "_x10 1x12 stale"}),
        *_processes("routewatch_shards", {}, {"a:9724": "3x30", "c:9724": "3x30"}),
        *_processes(info, {"shard": "0", "shards": "1"}, {"x:9724": "1x30", "y:9724": "1x30"}, job="other"),
    ]


def feed_cases() -> list[Case]:
    source = {"source": "ris-live"}
    collector = {**source, "collector": "rrc00"}
    return [
        Case("RoutewatchSourceDown", "disconnected for 5 minutes",
             [Series("routewatch_source_up", source, "1x2 0x20 1x3")],
             fire_at="7m", fired=[(source, 0)], quiet_before="5m", quiet_after="12m"),
        Case("RoutewatchSourceStale", "connected but lagging",
             [Series("routewatch_source_up", source, "1x25"),
              Series("routewatch_source_lag_seconds", source, "5x2 700x20 5x3")],
             fire_at="7m", fired=[(source, 700)], quiet_before="5m", quiet_after="12m"),
        Case("RoutewatchCollectorStale", "one collector stale while its source is up",
             [Series("routewatch_source_up", source, "1x37"),
              Series("routewatch_source_collector_up", collector, "1x2 0x30 1x5")],
             fire_at="12m", fired=[(collector, 0)], quiet_before="9m", quiet_after="18m"),
        Case("RoutewatchMessagesDropped", "the queue to the core overflows",
             [Series("routewatch_source_messages_dropped_total", source, "0x2 0+60x20 1200x20")],
             fire_at="10m", fired=[(source, 2)], quiet_before="1m", quiet_after="20m"),
        Case("RoutewatchComponentDown", "one pod's component down is enough",
             [Series("routewatch_component_up", {"component": "dns"}, pods=("1x2 0x20 1x3", "1x25"))],
             fire_at="7m", fired=[({"component": "dns"}, 0)], quiet_before="4m", quiet_after="12m"),
        Case("RoutewatchConfigReloadFailed", "one pod rejected its configuration",
             [Series("routewatch_config_last_reload_successful", {}, pods=("1x2 0x10 1x5", "1x17"))],
             fire_at="3m", fired=[({}, 0)], quiet_before="30s", quiet_after="7m"),
        Case("RoutewatchAbsent", "no pod is scraped successfully",
             [], extra_input=_up(("1x2 0x20 1x10", "1x2 stale _x19 1x10")),
             fire_at="7m", fired=[({"job": JOB}, 1)], quiet_before="4m", quiet_after="16m"),
        Case("RoutewatchShardAbsent", "a shard stops being scraped; two Prometheus replicas count once",
             [], extra_input=_shards(),
             fire_at="8m", fired=[({"job": JOB}, 2)], quiet_before="4m", quiet_after="14m"),
        Case("RoutewatchShardClaimedTwice", "two processes claim one shard; an unsharded pair says nothing",
             [], extra_input=_shards(),
             fire_at="10m30s", fired=[({"shard": "2", "shards": "3"}, 2)], quiet_before="8m", quiet_after="14m"),
    ]
