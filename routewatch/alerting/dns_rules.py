"""Alert rules on the nameservers: down, lame, TCP-only failure, zone down or no longer delegated, at risk,
agreement (serials, NS sets, glue), diversity, DNSSEC."""

from __future__ import annotations

from routewatch.alerting.rule import PAGE_KEEP_FIRING, TARGET_KEYS, Group, Rule, Severity, by, expr

# Not exported by routewatch, so named here: what share of peers at risk makes a nameserver "at risk".
DNS_RISK_SHARE = 0.5

ZONE_KEYS = ("zone",)
NAMESERVER = "{{ $labels.nameserver }} ({{ $labels.address }})"


def _target_rules() -> list[Rule]:
    lame = by("min", "routewatch_dns_nameserver_lame", TARGET_KEYS) + " == 1"
    return [
        Rule(
            name="RoutewatchNameserverDown",
            group=Group.DNS,
            expr=expr(f"""
                {by("max", "routewatch_dns_nameserver_up", TARGET_KEYS)} == 0
                unless on (zone, nameserver, address)
                {lame}
            """),
            for_="3m",
            severity=Severity.WARNING,
            summary=f"{NAMESERVER} does not answer for {{{{ $labels.zone }}}}",
            description=(
                "{{ $labels.nameserver }} at {{ $labels.address }} has not answered an authoritative SOA "
                "for {{ $labels.zone }} over UDP for 3 minutes."
            ),
            runbook="nameserver-down",
        ),
        Rule(
            name="RoutewatchNameserverLame",
            group=Group.DNS,
            expr=lame,
            for_="10m",
            severity=Severity.WARNING,
            summary=f"{NAMESERVER} is lame for {{{{ $labels.zone }}}}",
            description=(
                "{{ $labels.nameserver }} at {{ $labels.address }} answers for {{ $labels.zone }} without "
                "authority (lame delegation): resolvers that pick it get no authoritative answer."
            ),
            runbook="nameserver-lame",
        ),
        Rule(
            name="RoutewatchNameserverTcpFailing",
            group=Group.DNS,
            expr=expr(f"""
                {by("max", 'routewatch_dns_nameserver_transport_up{transport="tcp"}', TARGET_KEYS)} == 0
                and on (zone, nameserver, address)
                {by("max", 'routewatch_dns_nameserver_transport_up{transport="udp"}', TARGET_KEYS)} == 1
            """),
            for_="10m",
            severity=Severity.WARNING,
            summary=f"{NAMESERVER} fails over TCP only, for {{{{ $labels.zone }}}}",
            description=(
                "{{ $labels.nameserver }} at {{ $labels.address }} answers {{ $labels.zone }} over UDP but not over "
                "TCP: truncated answers, DNSSEC-signed ones and zone transfers fail."
            ),
            runbook="nameserver-tcp-failing",
        ),
        Rule(
            name="RoutewatchDnsAtRisk",
            group=Group.DNS,
            expr=expr(f"""
                (
                  {by("min", "routewatch_dns_nameserver_peers_at_risk", TARGET_KEYS)}
                  /
                  {by("max", "routewatch_dns_nameserver_baseline_peers", TARGET_KEYS)}
                ) > {DNS_RISK_SHARE}
                and
                {by("max", "routewatch_dns_nameserver_baseline_peers", TARGET_KEYS)} > 0
            """),
            for_="2m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="The route to {{ $labels.nameserver }} ({{ $labels.address }}) is gone",
            description=(
                "{{ $value | humanizePercentage }} of the baseline peers no longer reach {{ $labels.address }} "
                "({{ $labels.nameserver }}, {{ $labels.zone }}) through its service prefix."
            ),
            runbook="dns-at-risk",
        ),
        Rule(
            name="RoutewatchDnsQueryFailing",
            group=Group.DNS,
            expr=by("max", "routewatch_dns_query_success", (*TARGET_KEYS, "query")) + " == 0",
            for_="5m",
            severity=Severity.WARNING,
            summary=f"{NAMESERVER} fails the configured query {{{{ $labels.query }}}}",
            description=(
                "For 5 minutes {{ $labels.nameserver }} at {{ $labels.address }} has answered the configured query "
                "{{ $labels.query }} of {{ $labels.zone }} with a wrong rcode or without the expected records."
            ),
            runbook="dns-query-failing",
        ),
    ]


def _zone_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchZoneDown",
            group=Group.DNS,
            expr=expr(f"""
                {by("max", "routewatch_dns_zone_nameservers", ZONE_KEYS)} > 0
                unless on (zone)
                {by("max", "routewatch_dns_zone_nameservers_up", ZONE_KEYS)} > 0
            """),
            for_="2m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="No nameserver of {{ $labels.zone }} answers",
            description="None of the {{ $value }} nameserver addresses of {{ $labels.zone }} answers authoritatively.",
            runbook="zone-down",
        ),
        Rule(
            name="RoutewatchZoneNotDelegated",
            group=Group.DNS,
            expr=by("max", "routewatch_dns_zone_delegated", ZONE_KEYS) + " == 0",
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="The parent of {{ $labels.zone }} says it does not exist",
            description=(
                "The parent zone's servers answer NXDOMAIN for {{ $labels.zone }}: the delegation is gone, so "
                "resolvers never reach its nameservers, whatever those still answer."
            ),
            runbook="zone-not-delegated",
        ),
        Rule(
            name="RoutewatchSoaSerialDisagreement",
            group=Group.DNS,
            expr=expr(f"""
                {by("min", "routewatch_dns_zone_serial_disagreement_seconds", ZONE_KEYS)}
                > on (zone)
                {by("min", "routewatch_dns_zone_serial_grace_seconds", ZONE_KEYS)}
            """),
            for_="5m",
            severity=Severity.INFO,
            summary="The nameservers of {{ $labels.zone }} serve different SOA serials",
            description="The SOA serials of {{ $labels.zone }} have disagreed for {{ $value | humanizeDuration }}.",
            runbook="soa-serial-disagreement",
        ),
        Rule(
            name="RoutewatchNsSetsDisagree",
            group=Group.DNS,
            expr=by("max", "routewatch_dns_zone_ns_sets_agree", ZONE_KEYS) + " == 0",
            for_="1h",
            severity=Severity.WARNING,
            summary="The parent's and the zone's own NS sets of {{ $labels.zone }} differ",
            description=(
                "The delegation of {{ $labels.zone }} in its parent lists other nameservers than the zone's own "
                "NS records: one side was not updated."
            ),
            runbook="ns-sets-disagree",
        ),
        Rule(
            name="RoutewatchGlueMismatch",
            group=Group.DNS,
            expr=by("max", "routewatch_dns_zone_glue_agree", ZONE_KEYS) + " == 0",
            for_="1h",
            severity=Severity.WARNING,
            summary="The parent's glue for {{ $labels.zone }} differs from what the zone serves",
            description=(
                "The parent's glue addresses for an in-zone nameserver of {{ $labels.zone }} are not the addresses "
                "the zone itself serves for it: a renumbering done on one side only."
            ),
            runbook="glue-mismatch",
        ),
        Rule(
            name="RoutewatchZoneSinglePoint",
            group=Group.DNS,
            expr=by("min", "routewatch_dns_zone_single_point", ("zone", "kind")) + " == 1",
            for_="1h",
            severity=Severity.INFO,
            summary="Every nameserver of {{ $labels.zone }} shares one {{ $labels.kind }}",
            description=(
                "All nameserver addresses of {{ $labels.zone }} sit in one {{ $labels.kind }} (prefix or origin AS): "
                "one withdrawal takes the whole zone down, as on 2021-10-04."
            ),
            runbook="zone-single-point",
        ),
        Rule(
            name="RoutewatchResolverFailing",
            group=Group.DNS,
            expr=by("max", "routewatch_dns_resolver_up", ("zone", "resolver")) + " == 0",
            for_="5m",
            severity=Severity.WARNING,
            summary="Resolver {{ $labels.resolver }} cannot resolve {{ $labels.zone }}",
            description=(
                "The recursive resolver {{ $labels.resolver }} has not answered {{ $labels.zone }} healthily for "
                "5 minutes: this is what users behind it see."
            ),
            runbook="resolver-failing",
        ),
        Rule(
            name="RoutewatchDnsDiscoveryFailing",
            group=Group.DNS,
            expr=by("max", "routewatch_dns_discovery_success", ZONE_KEYS) + " == 0",
            for_="30m",
            severity=Severity.WARNING,
            summary="Delegation discovery for {{ $labels.zone }} fails",
            description=(
                "routewatch has not been able to discover the nameservers of {{ $labels.zone }} for 30 "
                "minutes; it keeps probing the last good ones."
            ),
            runbook="dns-discovery-failing",
        ),
    ]


def _dnssec_rules() -> list[Rule]:
    """Bogus is as bad as unreachable (validating resolvers answer SERVFAIL); a zone that must be signed and is
    not pages too (the configured protection is gone); expiring is a day's work."""
    return [
        Rule(
            name="RoutewatchDnssecBogus",
            group=Group.DNS,
            expr=by("min", 'routewatch_dns_dnssec_state{state="bogus"}', ZONE_KEYS) + " == 1",
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
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
            expr=expr(f"""
                {by("min", "routewatch_dns_dnssec_signature_expiry_timestamp_seconds", ZONE_KEYS)} - time()
                and on (zone)
                {by("min", 'routewatch_dns_dnssec_state{state="expiring"}', ZONE_KEYS)} == 1
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
        Rule(
            name="RoutewatchDnssecUnsigned",
            group=Group.DNS,
            expr=by("min", 'routewatch_dns_dnssec_state{state="unsigned"}', ZONE_KEYS) + " == 1",
            for_="10m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="{{ $labels.zone }} must be signed, but its parent holds no DS",
            description=(
                "{{ $labels.zone }} is configured as must_be_signed, but the parent holds no DS record for it: "
                "resolvers no longer validate it, so forged answers would be accepted."
            ),
            runbook="dnssec-unsigned",
        ),
    ]


def dns_rules() -> list[Rule]:
    return [*_target_rules(), *_zone_rules(), *_dnssec_rules()]
