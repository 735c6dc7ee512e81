"""Alert rules on the routes: withdrawn, missing, degraded, unknown, hijacked, more-specific."""

from __future__ import annotations

from routewatch.alerting.rule import (
    PAGE_KEEP_FIRING,
    PREFIX_KEYS,
    PREFIX_NAME,
    Group,
    Rule,
    Severity,
    by,
    with_prefix_info,
)

OFFENDER_KEYS = ("prefix", "subprefix", "asn")


def _state(state: str) -> str:
    """1 for prefixes every replica reports in ``state``."""
    return by("min", f'routewatch_bgp_prefix_state{{state="{state}"}}', PREFIX_KEYS) + " == 1"


def _ratio() -> str:
    return by("max", "routewatch_bgp_prefix_visibility_ratio", PREFIX_KEYS)


def _recovered_threshold() -> str:
    """Each prefix's recovered ratio: its own where it overrides the default, the exported default otherwise."""
    return (
        "(\n"
        f"  {by('max', 'routewatch_bgp_prefix_recovered_ratio_threshold', PREFIX_KEYS)}\n"
        "  or on (prefix)\n"
        f"  0 * {_ratio()} + scalar(max(routewatch_bgp_default_recovered_ratio_threshold))\n"
        ")"
    )


def _offenders(kind: str, gate: str) -> str:
    """Open detections of ``kind``, one series per offending (sub-prefix, AS), while every replica sees ``gate``."""
    detections = 'routewatch_bgp_detection_peers{kind="' + kind + '"}'
    return with_prefix_info(
        f"{by('max', detections, OFFENDER_KEYS)}\n"
        f"and on (prefix)\n"
        f"{by('min', gate, PREFIX_KEYS)} > 0"
    )


def _visibility_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchPrefixWithdrawn",
            group=Group.BGP,
            expr=with_prefix_info(f"{_ratio()}\nand on (prefix)\n{_state('withdrawn')}"),
            for_="1m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary=f"{PREFIX_NAME} is withdrawn",
            description=(
                "Only {{ $value | humanizePercentage }} of the collector peers that carried "
                "{{ $labels.prefix }} still see it with an expected origin."
            ),
            runbook="prefix-withdrawn",
        ),
        Rule(
            name="RoutewatchPrefixMissing",
            group=Group.BGP,
            expr=with_prefix_info(_state("missing")),
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary=f"{PREFIX_NAME} is not seen by any collector peer",
            description=(
                "routewatch has not seen {{ $labels.prefix }} with an expected origin since it started (or since "
                "its saved state was lost): it may have been withdrawn before, and there is no baseline to compare."
            ),
            runbook="prefix-missing",
        ),
        Rule(
            name="RoutewatchPrefixInsufficientBaseline",
            group=Group.BGP,
            expr=with_prefix_info(
                f"{by('max', 'routewatch_bgp_prefix_baseline_peers', PREFIX_KEYS)}\n"
                f"and on (prefix)\n{_state('insufficient-baseline')}"
            ),
            for_="1h",
            severity=Severity.INFO,
            summary=f"{PREFIX_NAME} has too few baseline peers to judge a withdrawal",
            description=(
                "Only {{ $value }} collector peers carried {{ $labels.prefix }} in the baseline window, fewer than "
                "its minimum baseline: routewatch cannot tell a withdrawal of it."
            ),
            runbook="prefix-insufficient-baseline",
        ),
        Rule(
            name="RoutewatchPrefixVisibilityDegraded",
            group=Group.BGP,
            expr=with_prefix_info(
                f"{_ratio()}\n< on (prefix)\n{_recovered_threshold()}\nand on (prefix)\n{_state('visible')}"
            ),
            for_="15m",
            severity=Severity.WARNING,
            summary=f"{PREFIX_NAME} is seen by fewer peers than usual",
            description=(
                "{{ $labels.prefix }} is seen by {{ $value | humanizePercentage }} of its baseline peers, "
                "below its recovered threshold but not withdrawn."
            ),
            runbook="prefix-visibility-degraded",
        ),
        Rule(
            name="RoutewatchPrefixVisibilityUnknown",
            group=Group.BGP,
            expr=with_prefix_info(_state("unknown")),
            for_="10m",
            severity=Severity.WARNING,
            summary=f"Visibility of {PREFIX_NAME} is unknown",
            description=(
                "No trustworthy collector feed remains for {{ $labels.prefix }}: routewatch can neither "
                "confirm nor deny that it is announced."
            ),
            runbook="prefix-visibility-unknown",
        ),
    ]


def _origin_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchPrefixOriginAnomaly",
            group=Group.BGP,
            expr=_offenders("origin", "routewatch_bgp_prefix_unexpected_origin_peers"),
            for_="1m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="{{ $labels.subprefix }} originated by AS{{ $labels.asn }}, {{ $value }} peers",
            description=(
                "{{ $value }} collector peers see {{ $labels.subprefix }} (at or under {{ $labels.prefix }}) "
                "originated by AS{{ $labels.asn }}, outside its expected origins (possible hijack)."
            ),
            runbook="prefix-origin-anomaly",
        ),
        Rule(
            name="RoutewatchPrefixUnexpectedMoreSpecific",
            group=Group.BGP,
            expr=_offenders("more-specific", "routewatch_bgp_prefix_more_specific_peers"),
            for_="10m",
            severity=Severity.INFO,
            summary="{{ $labels.subprefix }} from AS{{ $labels.asn }} is announced under {{ $labels.prefix }}",
            description=(
                "{{ $value }} collector peers see {{ $labels.subprefix }}, a more-specific of {{ $labels.prefix }} "
                "from the expected origin AS{{ $labels.asn }} that is not in the configuration."
            ),
            runbook="prefix-unexpected-more-specific",
        ),
    ]


def _gauge_above_zero(metric: str) -> str:
    return with_prefix_info(by("min", metric, PREFIX_KEYS) + " > 0")


def _path_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchPrefixUnexpectedNeighbor",
            group=Group.BGP,
            expr=_gauge_above_zero("routewatch_bgp_prefix_unexpected_neighbor_peers"),
            for_="2m",
            severity=Severity.CRITICAL,
            summary=f"{PREFIX_NAME} is seen through an AS its declared neighbours do not allow",
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
            expr=_gauge_above_zero("routewatch_bgp_prefix_path_rule_peers"),
            for_="5m",
            severity=Severity.WARNING,
            summary=f"{PREFIX_NAME} is seen with a path its rules flag",
            description="{{ $value }} collector peers see {{ $labels.prefix }} with a path that triggers one of its "
                        "path rules.",
            runbook="prefix-path-rule",
        ),
        Rule(
            name="RoutewatchPrefixNew",
            group=Group.BGP,
            expr=_gauge_above_zero("routewatch_bgp_prefix_unlisted_peers"),
            for_="10m",
            severity=Severity.INFO,
            summary="A watched AS announces {{ $labels.prefix }}, which nobody listed",
            description="{{ $value }} collector peers see {{ $labels.prefix }}, originated by a watched AS whose "
                        "prefixes should all be listed.",
            runbook="prefix-new",
        ),
    ]


def bgp_rules() -> list[Rule]:
    return [*_visibility_rules(), *_origin_rules(), *_path_rules()]
