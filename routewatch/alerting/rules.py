"""The alert rules, written once.

Every rule is one ``Rule`` value; ``prometheus.py`` and ``grafana.py`` render
the same expressions into a Prometheus rules file and into Grafana-managed
alert provisioning. Nothing about a rule lives anywhere else.

Three habits run through the expressions:

- **Page once with two replicas.** Every series is aggregated ``without
  (instance)``, so two routewatch replicas scraped by one Prometheus give one
  series, hence one alert, per prefix or zone. A "bad" signal must be seen by
  every live replica (``min`` of a badness gauge, ``max`` of a health gauge):
  a replica with a broken network alone cannot page anybody.
- **Thresholds come from the exporter** (``..._ratio_threshold``), never
  repeated here; the few numbers that are not exported are named constants.
- **The value is the number.** Each expression's value is what the
  description prints (a ratio, a count, a duration), via ``{{ $value }}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from textwrap import dedent

DEFAULT_JOB = "routewatch"

# Not exported by routewatch, so named here: how far behind a source may fall
# before it counts as stale, and what share of peers at risk makes a nameserver
# "at risk". (How long SOA serials may disagree is exported: dns.serial_grace.)
SOURCE_STALE_SECONDS = 600
DNS_RISK_SHARE = 0.5

# Rides out a failed scrape (every series goes stale for one evaluation) on a
# single-replica setup without resolving and re-sending a page.
PAGE_KEEP_FIRING = "2m"

METRIC_NAME = re.compile(r"\broutewatch_[a-z0-9_]+")


class Severity(StrEnum):
    """Who hears about it: ``page`` wakes someone, ``warning`` is seen the same day, ``ticket`` is filed."""

    PAGE = "page"
    WARNING = "warning"
    TICKET = "ticket"


class Group(StrEnum):
    """Rule groups: one per subject, so an operator can drop a whole area."""

    BGP = "bgp"
    DNS = "dns"
    FEED = "feed"


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert: what fires, for how long, who hears, and what they read.

    ``summary`` and ``description`` are Go templates in Prometheus' dialect
    (``{{ $value }}``, ``{{ $labels.prefix }}``); the Grafana rendering
    rewrites ``$value`` to Grafana's name for the same number.
    """

    name: str
    group: Group
    expr: str
    for_: str
    severity: Severity
    summary: str
    description: str
    runbook: str
    keep_firing_for: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        """Grafana's stable rule id (at most 40 characters): the alert name in kebab case."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.name).lower()[:40]

    def metric_names(self) -> set[str]:
        """The routewatch metrics the expression reads (the exporter must emit each one)."""
        return set(METRIC_NAME.findall(self.expr))


def _expr(text: str) -> str:
    return dedent(text).strip()


def _bgp_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchPrefixWithdrawn",
            group=Group.BGP,
            expr=_expr("""
                max without (instance) (routewatch_bgp_prefix_visibility_ratio)
                and
                min without (instance) (routewatch_bgp_prefix_withdrawn) == 1
            """),
            for_="1m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="{{ $labels.prefix }} is withdrawn",
            description=(
                "Only {{ $value | humanizePercentage }} of the collector peers that carried "
                "{{ $labels.prefix }} still see it with an expected origin."
            ),
            runbook="prefix-withdrawn",
        ),
        Rule(
            name="RoutewatchPrefixVisibilityDegraded",
            group=Group.BGP,
            expr=_expr("""
                (
                  max without (instance) (routewatch_bgp_prefix_visibility_ratio)
                  <
                  max without (instance) (routewatch_bgp_prefix_recovered_ratio_threshold)
                )
                and ignoring (state)
                min without (instance) (routewatch_bgp_prefix_state{state="visible"}) == 1
            """),
            for_="15m",
            severity=Severity.WARNING,
            summary="{{ $labels.prefix }} is seen by fewer peers than usual",
            description=(
                "{{ $labels.prefix }} is seen by {{ $value | humanizePercentage }} of its baseline peers, "
                "below its recovered threshold but not withdrawn."
            ),
            runbook="prefix-visibility-degraded",
        ),
        Rule(
            name="RoutewatchPrefixVisibilityUnknown",
            group=Group.BGP,
            expr=_expr("""
                min without (instance) (routewatch_bgp_prefix_state{state="unknown"}) == 1
            """),
            for_="10m",
            severity=Severity.WARNING,
            summary="Visibility of {{ $labels.prefix }} is unknown",
            description=(
                "No trustworthy collector feed remains for {{ $labels.prefix }}: routewatch can neither "
                "confirm nor deny that it is announced."
            ),
            runbook="prefix-visibility-unknown",
        ),
        Rule(
            name="RoutewatchPrefixOriginAnomaly",
            group=Group.BGP,
            expr=_expr("""
                min without (instance) (routewatch_bgp_prefix_unexpected_origin_peers) > 0
            """),
            for_="1m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="{{ $labels.prefix }} is announced from an unexpected origin",
            description=(
                "{{ $value }} collector peers see {{ $labels.prefix }} or a more-specific of it "
                "originated by an AS outside its expected origins (possible hijack)."
            ),
            runbook="prefix-origin-anomaly",
        ),
        Rule(
            name="RoutewatchPrefixUnexpectedMoreSpecific",
            group=Group.BGP,
            expr=_expr("""
                min without (instance) (routewatch_bgp_prefix_more_specific_peers) > 0
            """),
            for_="10m",
            severity=Severity.TICKET,
            summary="An unconfigured more-specific of {{ $labels.prefix }} is announced",
            description=(
                "{{ $value }} collector peers see a more-specific of {{ $labels.prefix }} from an expected "
                "origin that is not in the configuration."
            ),
            runbook="prefix-unexpected-more-specific",
        ),
        Rule(
            name="RoutewatchPrefixUnexpectedNeighbor",
            group=Group.BGP,
            expr=_expr("""
                min without (instance) (routewatch_bgp_prefix_unexpected_neighbor_peers) > 0
            """),
            for_="2m",
            severity=Severity.PAGE,
            summary="{{ $labels.prefix }} is seen through an AS its declared neighbours do not allow",
            description=(
                "{{ $value }} collector peers see {{ $labels.prefix }} with an AS left of its origin that is not "
                "a declared upstream, or right of a watched AS that is not a declared downstream: a forged "
                "origin, a new upstream, or a leak through an undeclared customer."
            ),
            runbook="prefix-unexpected-neighbor",
        ),
        Rule(
            name="RoutewatchPrefixPathRule",
            group=Group.BGP,
            expr=_expr("""
                min without (instance) (routewatch_bgp_prefix_path_rule_peers) > 0
            """),
            for_="5m",
            severity=Severity.WARNING,
            summary="{{ $labels.prefix }} is seen with a path its rules flag",
            description="{{ $value }} collector peers see {{ $labels.prefix }} with a path that triggers one of its "
                        "path rules.",
            runbook="prefix-path-rule",
        ),
        Rule(
            name="RoutewatchPrefixNew",
            group=Group.BGP,
            expr=_expr("""
                min without (instance) (routewatch_bgp_prefix_unlisted_peers) > 0
            """),
            for_="10m",
            severity=Severity.TICKET,
            summary="A watched AS announces {{ $labels.prefix }}, which nobody listed",
            description="{{ $value }} collector peers see {{ $labels.prefix }}, originated by a watched AS whose "
                        "prefixes should all be listed.",
            runbook="prefix-new",
        ),
    ]


def _dns_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchNameserverDown",
            group=Group.DNS,
            expr=_expr("""
                max without (instance) (routewatch_dns_nameserver_up) == 0
            """),
            for_="3m",
            severity=Severity.WARNING,
            summary="{{ $labels.nameserver }} ({{ $labels.address }}) does not answer for {{ $labels.zone }}",
            description=(
                "{{ $labels.nameserver }} at {{ $labels.address }} has not answered an authoritative SOA "
                "for {{ $labels.zone }} over UDP for 3 minutes."
            ),
            runbook="nameserver-down",
        ),
        Rule(
            name="RoutewatchZoneDown",
            group=Group.DNS,
            expr=_expr("""
                max without (instance) (routewatch_dns_zone_nameservers) > 0
                unless
                max without (instance) (routewatch_dns_zone_nameservers_up) > 0
            """),
            for_="2m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="No nameserver of {{ $labels.zone }} answers",
            description="None of the {{ $value }} nameserver addresses of {{ $labels.zone }} answers authoritatively.",
            runbook="zone-down",
        ),
        Rule(
            name="RoutewatchDnsAtRisk",
            group=Group.DNS,
            expr=_expr(f"""
                (
                  min without (instance) (routewatch_dns_nameserver_peers_at_risk)
                  /
                  max without (instance) (routewatch_dns_nameserver_baseline_peers)
                ) > {DNS_RISK_SHARE}
                and
                max without (instance) (routewatch_dns_nameserver_baseline_peers) > 0
            """),
            for_="2m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="The route to {{ $labels.nameserver }} ({{ $labels.address }}) is gone",
            description=(
                "{{ $value | humanizePercentage }} of the baseline peers no longer reach {{ $labels.address }} "
                "({{ $labels.nameserver }}, {{ $labels.zone }}) through its service prefix."
            ),
            runbook="dns-at-risk",
        ),
        Rule(
            name="RoutewatchSoaSerialDisagreement",
            group=Group.DNS,
            expr=_expr("""
                min without (instance) (routewatch_dns_zone_serial_disagreement_seconds)
                > min without (instance) (routewatch_dns_zone_serial_grace_seconds)
            """),
            for_="5m",
            severity=Severity.TICKET,
            summary="The nameservers of {{ $labels.zone }} serve different SOA serials",
            description="The SOA serials of {{ $labels.zone }} have disagreed for {{ $value | humanizeDuration }}.",
            runbook="soa-serial-disagreement",
        ),
        Rule(
            name="RoutewatchDnsDiscoveryFailing",
            group=Group.DNS,
            expr=_expr("""
                max without (instance) (routewatch_dns_discovery_success) == 0
            """),
            for_="30m",
            severity=Severity.WARNING,
            summary="Delegation discovery for {{ $labels.zone }} fails",
            description=(
                "routewatch has not been able to discover the nameservers of {{ $labels.zone }} for 30 "
                "minutes; it keeps probing the last good ones."
            ),
            runbook="dns-discovery-failing",
        ),
        *_dnssec_rules(),
    ]


def _dnssec_rules() -> list[Rule]:
    """Bogus is as bad as unreachable (validating resolvers answer SERVFAIL); expiring is a day's work."""
    return [
        Rule(
            name="RoutewatchDnssecBogus",
            group=Group.DNS,
            expr=_expr("""
                min without (instance) (routewatch_dns_dnssec_state{state="bogus"}) == 1
            """),
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="DNSSEC of {{ $labels.zone }} is bogus",
            description=(
                "{{ $labels.zone }} fails DNSSEC validation (a DS matching no key, an expired or failing "
                "signature, or an address serving it unsigned): validating resolvers answer SERVFAIL."
            ),
            runbook="dnssec-bogus",
        ),
        Rule(
            name="RoutewatchDnssecExpiring",
            group=Group.DNS,
            expr=_expr("""
                min by (job, zone) (
                  min without (instance) (routewatch_dns_dnssec_signature_expiry_timestamp_seconds)
                ) - time()
                and on (job, zone)
                min without (instance) (routewatch_dns_dnssec_state{state="expiring"}) == 1
            """),
            for_="10m",
            severity=Severity.WARNING,
            summary="DNSSEC signatures of {{ $labels.zone }} expire soon",
            description=(
                "The earliest RRSIG that a nameserver of {{ $labels.zone }} serves expires in "
                "{{ $value | humanizeDuration }}; re-sign the zone before then."
            ),
            runbook="dnssec-expiring",
        ),
    ]


def _feed_rules(job: str) -> list[Rule]:
    return [
        Rule(
            name="RoutewatchSourceDown",
            group=Group.FEED,
            expr=_expr("""
                max without (instance) (routewatch_source_up) == 0
            """),
            for_="5m",
            severity=Severity.WARNING,
            summary="BGP source {{ $labels.source }} is down",
            description="Source {{ $labels.source }} has been disconnected on every routewatch replica for 5 minutes.",
            runbook="source-down",
        ),
        Rule(
            name="RoutewatchSourceStale",
            group=Group.FEED,
            expr=_expr(f"""
                min without (instance) (routewatch_source_lag_seconds) > {SOURCE_STALE_SECONDS}
                unless
                max without (instance) (routewatch_source_up) == 0
            """),
            for_="5m",
            severity=Severity.WARNING,
            summary="BGP source {{ $labels.source }} is stale",
            description="Source {{ $labels.source }} is connected but its data is {{ $value | humanizeDuration }} old.",
            runbook="source-stale",
        ),
        Rule(
            name="RoutewatchAbsent",
            group=Group.FEED,
            expr=f'absent(up{{job="{job}"}} == 1)',
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="routewatch is not being scraped",
            description=(
                f"No routewatch target of job {job} has been scraped successfully for 5 minutes: "
                "nothing watches the routes and nameservers."
            ),
            runbook="routewatch-absent",
            labels={"job": job},
        ),
        *_shard_rules(),
    ]


def _shard_rules() -> list[Rule]:
    """Sharded installs (``sharding.shards`` > 1): every part watched, each by one process.

    Claimed-twice counts the processes reporting a shard, so it is the one rule
    that must not aggregate replicas away: a sharded install runs one process
    per shard (the StatefulSet restarts it), not replicas of each.
    """
    return [
        Rule(
            name="RoutewatchShardAbsent",
            group=Group.FEED,
            expr=_expr("""
                count by (job) (max without (instance) (routewatch_shard_info))
                < max without (instance) (routewatch_shards)
            """),
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.PAGE,
            summary="A shard of {{ $labels.job }} is missing",
            description=(
                "Only {{ $value }} of the configured shards of {{ $labels.job }} are scraped: the prefixes, ASNs "
                "and zones of the missing shard are watched by nobody."
            ),
            runbook="shard-absent",
        ),
        Rule(
            name="RoutewatchShardClaimedTwice",
            group=Group.FEED,
            expr=_expr("""
                count by (shard, shards) (routewatch_shard_info{shards!="1"}) > 1
            """),
            for_="5m",
            severity=Severity.WARNING,
            summary="Shard {{ $labels.shard }} is claimed by {{ $value }} processes",
            description=(
                "{{ $value }} processes watch shard {{ $labels.shard }} of {{ $labels.shards }}: a repeated "
                "ROUTEWATCH_SHARD or sharding.shard, so another shard may be missing."
            ),
            runbook="shard-claimed-twice",
        ),
    ]


def rules(job: str = DEFAULT_JOB) -> tuple[Rule, ...]:
    """Every rule, in the order the rendered files list them; ``job`` is routewatch's scrape job."""
    return (*_bgp_rules(), *_dns_rules(), *_feed_rules(job))
