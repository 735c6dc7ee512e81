"""Alert rules on RPKI route origin validation: invalid routes, ROA coverage and expiry, VRP sources.

Networks that drop RPKI-invalid routes (most large transit networks now do)
turn an invalid announcement of your own prefix into an outage, so that one
pages; a prefix whose own announcement the VRP set calls invalid, a prefix no
ROA covers and a ROA about to expire are found before an outage and are
handled the same day or read when convenient. A ROA change that makes routes
seen now invalid is an event, not a state: its alert fires on the increase of
its counter and resolves an hour later. The VRP sources are watched
like the BGP feeds: a stale set is a state (its last good VRPs stay in use),
and no set at all leaves every prefix's state ``unknown``.
"""

from __future__ import annotations

from routewatch.alerting.rule import (
    PAGE_KEEP_FIRING,
    PREFIX_KEYS,
    PREFIX_NAME,
    Group,
    Rule,
    Severity,
    by,
    expr,
    with_prefix_info,
)

#: How long before a ROA's expiry it is reported: the default of ``rpki.expiry_warning``. Not exported by
#: routewatch (the ``rpki-roa-expiring`` detection reads the config's own value), so named here.
ROA_EXPIRY_WARNING_SECONDS = 7 * 86400
#: How long a ROA change that invalidated routes keeps its alert firing: the change is an instant (its
#: detection opens and closes at once), so the rule reads the counter of such changes over this window.
ROA_CHANGE_WINDOW = "1h"
ROA_INVALIDATIONS = "routewatch_bgp_prefix_rpki_roa_invalidations_total"
SOURCE_KEYS = ("source",)


def _rpki_state(state: str) -> str:
    """1 for prefixes every replica reports in RPKI ``state`` (with their expected origins)."""
    return by("min", f'routewatch_bgp_prefix_rpki_state{{state="{state}"}}', PREFIX_KEYS) + " == 1"


def _route_rules() -> list[Rule]:
    return [
        Rule(
            name="RoutewatchPrefixRpkiInvalid",
            group=Group.RPKI,
            expr=with_prefix_info(
                f"{by('min', 'routewatch_bgp_prefix_rpki_invalid_peers', PREFIX_KEYS)} > 0\n"
                "unless on (prefix)\n"
                f"{by('max', 'routewatch_bgp_prefix_unexpected_origin_peers', PREFIX_KEYS)} > 0"
            ),
            for_="2m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary=f"{PREFIX_NAME} is RPKI-invalid at {{{{ $value }}}} peers",
            description=(
                "{{ $value }} collector peers see {{ $labels.prefix }} (or a more-specific under it) "
                "RPKI-invalid (wrong origin AS, or longer than the ROA's max length) while no unexpected origin "
                "is seen: your own announcement, which networks that drop invalid routes do not carry."
            ),
            runbook="prefix-rpki-invalid",
        ),
        Rule(
            name="RoutewatchPrefixRpkiStateInvalid",
            group=Group.RPKI,
            expr=with_prefix_info(_rpki_state("invalid")),
            for_="5m",
            severity=Severity.WARNING,
            summary=f"The VRP set makes {PREFIX_NAME} RPKI-invalid",
            description=(
                "The ROAs in the VRP set make {{ $labels.prefix }} invalid when announced by its expected "
                "origins: once announced (or as soon as networks pick up the set) validating networks drop it."
            ),
            runbook="prefix-rpki-state-invalid",
        ),
        Rule(
            name="RoutewatchPrefixRoaWouldInvalidate",
            group=Group.RPKI,
            expr=with_prefix_info(
                f"{by('max', f'increase({ROA_INVALIDATIONS}[{ROA_CHANGE_WINDOW}])', PREFIX_KEYS)} > 0"
            ),
            for_="0s",
            severity=Severity.WARNING,
            summary=f"A ROA change made routes of {PREFIX_NAME} RPKI-invalid",
            description=(
                "A VRP set change in the last hour made routes seen then at or under "
                "{{ $labels.prefix }} invalid that were valid or not found before (the rpki-roa-would-invalidate "
                "detection has the VRPs before and after, and the routes): networks that drop invalid routes "
                "will drop them once they load the same set."
            ),
            runbook="prefix-roa-would-invalidate",
        ),
        Rule(
            name="RoutewatchPrefixRpkiNotCovered",
            group=Group.RPKI,
            expr=with_prefix_info(_rpki_state("not-found")),
            for_="1h",
            severity=Severity.INFO,
            summary=f"No ROA covers {PREFIX_NAME}",
            description=(
                "No VRP covers {{ $labels.prefix }}: its RPKI state is not-found, so validating networks cannot "
                "tell its announcements from a hijack's."
            ),
            runbook="prefix-rpki-not-covered",
        ),
        Rule(
            name="RoutewatchPrefixRoaExpiring",
            group=Group.RPKI,
            expr=with_prefix_info(
                f"{by('max', 'routewatch_bgp_prefix_rpki_expires_timestamp_seconds', PREFIX_KEYS)} - time()\n"
                f"< {ROA_EXPIRY_WARNING_SECONDS}"
            ),
            for_="10m",
            severity=Severity.WARNING,
            summary=f"The ROA keeping {PREFIX_NAME} valid expires soon",
            description=(
                "The earliest expiry of the VRPs that keep {{ $labels.prefix }} valid is in "
                "{{ $value | humanizeDuration }}: unless its ROA (or a certificate above it) is renewed, the "
                "prefix becomes not-found or invalid."
            ),
            runbook="prefix-roa-expiring",
        ),
    ]


def _source_rules() -> list[Rule]:
    loaded_sources = f"count({by('max', 'routewatch_rpki_source_last_update_timestamp_seconds', SOURCE_KEYS)})"
    return [
        Rule(
            name="RoutewatchRpkiSourceStale",
            group=Group.RPKI,
            expr=expr(f"""
                {by("min", "routewatch_rpki_source_stale", SOURCE_KEYS)} == 1
                and on ()
                {loaded_sources} > 0
            """),
            for_="15m",
            severity=Severity.WARNING,
            summary="VRP source {{ $labels.source }} is stale",
            description=(
                "VRP source {{ $labels.source }} has failed to load or refresh its set for 15 minutes on every "
                "routewatch replica: validation uses its last good set (none if it never loaded), which ages."
            ),
            runbook="rpki-source-stale",
        ),
        Rule(
            name="RoutewatchRpkiNoVrps",
            group=Group.RPKI,
            expr=expr(f"""
                count({by("max", "routewatch_rpki_source_stale", SOURCE_KEYS)})
                unless
                {loaded_sources}
            """),
            for_="10m",
            severity=Severity.WARNING,
            summary="routewatch has no VRP set",
            description=(
                "None of the {{ $value }} configured VRP sources has delivered a set: every prefix's RPKI state "
                "is unknown and no RPKI alert can fire."
            ),
            runbook="rpki-no-vrps",
        ),
    ]


def rpki_rules() -> list[Rule]:
    return [*_route_rules(), *_source_rules()]
