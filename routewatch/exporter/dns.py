"""DNS metrics: per nameserver address (zone, nameserver, address) and per zone.

Every label value comes from the config (zones, resolvers) or from discovery
capped at ``limits.max_nameserver_addresses`` per zone. What is not known yet
(no probe answered, no serial seen, discovery not run) is left out rather than
exported as 0: an alert must not fire on a fake zero, and
``routewatch_dns_zone_state`` says ``unknown`` explicitly.

The join with BGP: each target's address is looked up in the core snapshot's
address risks, giving the peers whose longest match for the address is not one
of its service prefixes (the 2021-10-04 signal).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from routewatch.core.snapshot import CoreSnapshot
from routewatch.dns.health import Agreement, SerialState, ZoneVerdict
from routewatch.dns.snapshot import DnsSnapshot, TargetSnapshot, ZoneSnapshot
from routewatch.dns.targets import ProbeFailure, Transport
from routewatch.dns.trust import DnssecState

TARGET_LABELS = ["zone", "nameserver", "address"]


def dns_families(dns: DnsSnapshot, core: CoreSnapshot | None) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    yield from target_families(dns.targets, core)
    yield from zone_families(dns)
    yield from dnssec_families(dns)
    yield from query_families(dns)


def query_families(dns: DnsSnapshot) -> Iterator[GaugeMetricFamily]:
    """The configured queries (``zones[].queries``): pass or fail per address; ``query`` is "name type"."""
    success = _gauge("routewatch_dns_query_success",
                     "1 when the configured query's latest answer from the address passed (rcode and expect), else 0.",
                     [*TARGET_LABELS, "query"])
    for target in dns.targets:
        for result in target.queries.results if target.queries is not None else ():
            labels = [target.zone, target.nameserver, target.address, result.query]
            success.add_metric(labels, 1.0 if result.ok else 0.0)
    yield success


def dnssec_families(dns: DnsSnapshot) -> Iterator[GaugeMetricFamily]:
    """The DNSSEC check: a one-hot state per zone, the DS match, the earliest signature expiry per address."""
    state = _gauge("routewatch_dns_dnssec_state", "1 for the zone's DNSSEC state, 0 for the others.",
                   ["zone", "state"])
    ds_match = _gauge("routewatch_dns_dnssec_ds_match",
                      "1 when a DS at the parent matches a DNSKEY signing the DNSKEY RRset on every address; "
                      "absent when the parent holds no DS.", ["zone"])
    expiry = _gauge("routewatch_dns_dnssec_signature_expiry_timestamp_seconds",
                    "Earliest expiration of the valid RRSIGs (DNSKEY, SOA) the address serves.", TARGET_LABELS)
    glue = _gauge("routewatch_dns_zone_glue_agree",
                  "1 when the parent's glue equals the addresses the zone serves for its nameservers, else 0.",
                  ["zone"])
    for zone in dns.zones:
        for value in DnssecState:
            state.add_metric([zone.zone, value.value], 1.0 if zone.dnssec.state is value else 0.0)
        if zone.dnssec.ds_match is not None:
            ds_match.add_metric([zone.zone], 1.0 if zone.dnssec.ds_match else 0.0)
        if zone.discovery.ok is not None:
            glue.add_metric([zone.zone], 0.0 if zone.discovery.glue_mismatches else 1.0)
    for target in dns.targets:
        if target.dnssec is not None and target.dnssec.earliest_expiry is not None:
            expiry.add_metric([target.zone, target.nameserver, target.address], target.dnssec.earliest_expiry)
    yield from (state, ds_match, expiry, glue)


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def target_families(targets: tuple[TargetSnapshot, ...],
                    core: CoreSnapshot | None) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    up = _gauge("routewatch_dns_nameserver_up",
                "1 when the address's latest UDP SOA probe was healthy (answered, NOERROR, AA, SOA), else 0.",
                TARGET_LABELS)
    transport_up = _gauge("routewatch_dns_nameserver_transport_up",
                          "1 when the address's latest SOA probe over the transport was healthy, else 0.",
                          [*TARGET_LABELS, "transport"])
    lame = _gauge("routewatch_dns_nameserver_lame",
                  "1 when the address's latest probe was answered without authority (lame delegation), else 0.",
                  TARGET_LABELS)
    duration = _gauge("routewatch_dns_query_duration_seconds", "Round-trip time of the latest answered probe.",
                      [*TARGET_LABELS, "transport"])
    serial = _gauge("routewatch_dns_soa_serial", "SOA serial in the latest answer.", TARGET_LABELS)
    failures = CounterMetricFamily("routewatch_dns_probe_failures", "Failed probes by reason (all transports).",
                                   labels=[*TARGET_LABELS, "reason"])
    at_risk = _gauge("routewatch_dns_nameserver_peers_at_risk",
                     "Baseline peers whose longest-prefix match for the address is not a service prefix.",
                     TARGET_LABELS)
    baseline = _gauge("routewatch_dns_nameserver_baseline_peers",
                      "Baseline peers of the address's service prefixes (the denominator of peers at risk).",
                      TARGET_LABELS)
    risks = core.addresses if core is not None else {}
    for target in targets:
        labels = [target.zone, target.nameserver, target.address]
        if target.udp is not None:
            up.add_metric(labels, 1.0 if target.udp.failure is None else 0.0)
        for probe in (target.udp, target.tcp):
            if probe is not None:
                transport_up.add_metric([*labels, probe.transport.value], 1.0 if probe.failure is None else 0.0)
        latest = target.latest
        if latest is not None:
            lame.add_metric(labels, 1.0 if latest.failure is ProbeFailure.NOT_AUTHORITATIVE else 0.0)
        for transport in Transport:
            rtt = target.rtt(transport)
            if rtt is not None:
                duration.add_metric([*labels, transport.value], rtt)
        if target.serial is not None:
            serial.add_metric(labels, target.serial)
        for reason in ProbeFailure:
            failures.add_metric([*labels, reason.value], target.failures.get(reason, 0))
        risk = risks.get(ipaddress.ip_address(target.address))
        if risk is not None:
            at_risk.add_metric(labels, risk.peers_at_risk)
            baseline.add_metric(labels, risk.baseline_peers)
    yield from (up, transport_up, lame, duration, serial, failures, at_risk, baseline)


def zone_families(dns: DnsSnapshot) -> Iterator[GaugeMetricFamily]:
    z = ["zone"]
    state = _gauge("routewatch_dns_zone_state", "1 for the zone's current verdict, 0 for the others.",
                   ["zone", "state"])
    ns_up = _gauge("routewatch_dns_zone_nameservers_up", "Nameserver addresses of the zone answering healthily.", z)
    ns_total = _gauge("routewatch_dns_zone_nameservers",
                      "Nameserver addresses of the zone with a probe result (not-yet-probed ones are not counted).", z)
    over_cap = _gauge("routewatch_dns_zone_nameserver_addresses_over_cap",
                      "Addresses discovery found beyond limits.max_nameserver_addresses (counted, not probed).", z)
    serials = _gauge("routewatch_dns_zone_serials_agree",
                     "1 when the answering nameservers' SOA serials agree, 0 when not; absent until one is seen.", z)
    disagreement = _gauge("routewatch_dns_zone_serial_disagreement_seconds",
                          "How long the SOA serials have disagreed; 0 while they agree.", z)
    grace = _gauge("routewatch_dns_zone_serial_grace_seconds",
                   "How long the SOA serials may disagree before it counts (dns.serial_grace).", z)
    ns_sets = _gauge("routewatch_dns_zone_ns_sets_agree",
                     "1 when the parent's NS set equals the zone's own, 0 when not; absent until both are known.", z)
    delegated = _gauge("routewatch_dns_zone_delegated",
                       "1 when the parent delegates the zone, 0 when it answers NXDOMAIN for it; absent when no "
                       "parent server answered (or the zone's servers are pinned).", z)
    discovery = _gauge("routewatch_dns_discovery_success", "1 when the last delegation discovery succeeded, else 0.", z)
    discovered = _gauge("routewatch_dns_discovery_last_success_timestamp_seconds",
                        "When delegation discovery last succeeded.", z)
    single = _gauge("routewatch_dns_zone_single_point",
                    "1 when every nameserver address shares one prefix (kind=prefix) or one origin AS (kind=origin).",
                    ["zone", "kind"])
    resolver = _gauge("routewatch_dns_resolver_up", "1 when the recursive resolver's latest answer was healthy.",
                      ["zone", "resolver"])
    for zone in dns.zones:
        label = [zone.zone]
        grace.add_metric(label, zone.serial_grace)
        for verdict in ZoneVerdict:
            state.add_metric([*label, verdict.value], 1.0 if zone.verdict is verdict else 0.0)
        ns_up.add_metric(label, zone.addresses_up)
        ns_total.add_metric(label, zone.addresses_total)
        over_cap.add_metric(label, zone.addresses_over_cap)
        _serial_metrics(zone, dns.time, serials, disagreement)
        if zone.ns_sets is not Agreement.UNKNOWN:
            ns_sets.add_metric(label, 1.0 if zone.ns_sets is Agreement.AGREE else 0.0)
        if zone.parent_ns or zone.discovery.delegation_gone:
            delegated.add_metric(label, 0.0 if zone.discovery.delegation_gone else 1.0)
        if zone.discovery.ok is not None:
            discovery.add_metric(label, 1.0 if zone.discovery.ok else 0.0)
        if zone.discovery.last_success is not None:
            discovered.add_metric(label, zone.discovery.last_success)
        for kind, flag in (("prefix", zone.diversity.single_prefix), ("origin", zone.diversity.single_origin)):
            if flag is not None:
                single.add_metric([*label, kind], 1.0 if flag else 0.0)
        for answer in zone.resolvers:
            resolver.add_metric([*label, answer.resolver], 1.0 if answer.ok else 0.0)
    yield from (state, ns_up, ns_total, over_cap, serials, disagreement, grace, ns_sets, delegated, discovery,
                discovered, single, resolver)


def _serial_metrics(zone: ZoneSnapshot, now: float, serials: GaugeMetricFamily,
                    disagreement: GaugeMetricFamily) -> None:
    label = [zone.zone]
    if zone.serials is SerialState.UNKNOWN:
        return
    agree = zone.serials is SerialState.AGREE
    serials.add_metric(label, 1.0 if agree else 0.0)
    since = zone.serial_disagreeing_since
    disagreement.add_metric(label, 0.0 if agree or since is None else max(0.0, now - since))
