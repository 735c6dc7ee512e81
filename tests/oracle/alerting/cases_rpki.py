"""The RPKI rules' promtool cases (see ``cases.py``)."""

from __future__ import annotations

from tests.oracle.alerting.cases import OTHER, PREFIX, Case, Series, _prefix, info

INVALID_PEERS = "routewatch_bgp_prefix_rpki_invalid_peers"
EXPIRES = "routewatch_bgp_prefix_rpki_expires_timestamp_seconds"
STAYRTR = {"source": "stayrtr"}
JSON_EXPORT = {"source": "rpki-client"}


def _rpki_state(prefix: str, state: str, values: str = "", pods: tuple[str, str] | None = None) -> Series:
    return Series("routewatch_bgp_prefix_rpki_state", {"prefix": prefix, "state": state}, values, pods)


def invalid_at_peers() -> Case:
    """Own routes invalid at 5 peers page; invalid routes of a hijacker are the origin rule's page, not this one."""
    return Case(
        "RoutewatchPrefixRpkiInvalid", "invalid at peers pages once; an invalid hijack is left to the origin rule",
        [
            Series(INVALID_PEERS, {"prefix": PREFIX}, "0x2 5x10 0x10"),
            Series("routewatch_bgp_prefix_unexpected_origin_peers", {"prefix": PREFIX}, "0x22"),
            info(PREFIX, "1x22"),
            Series(INVALID_PEERS, {"prefix": OTHER}, "3x22"),
            Series("routewatch_bgp_prefix_unexpected_origin_peers", {"prefix": OTHER}, "3x22"),
            info(OTHER, "1x22"),
        ],
        fire_at="4m", fired=[(_prefix(), 5)], quiet_before="2m", quiet_after="10m",
    )


def state_invalid() -> Case:
    return Case(
        "RoutewatchPrefixRpkiStateInvalid", "the VRP set makes the prefix invalid on both pods; one pod alone is quiet",
        [
            _rpki_state(PREFIX, "invalid", "0x2 1x20 0x5"),
            info(PREFIX, "1x27"),
            _rpki_state(OTHER, "invalid", pods=("1x27", "0x27")),
            info(OTHER, "1x27"),
        ],
        fire_at="8m", fired=[(_prefix(), 1)], quiet_before="5m", quiet_after="13m",
    )


def not_covered() -> Case:
    return Case(
        "RoutewatchPrefixRpkiNotCovered", "no covering VRP for an hour",
        [_rpki_state(PREFIX, "not-found", "1x150 0x10"), info(PREFIX, "1x160")],
        fire_at="62m", fired=[(_prefix(), 1)], quiet_before="50m", quiet_after="78m",
    )


def roa_would_invalidate() -> Case:
    """A change at 3m fires for the hour after it; a counter that restarts at 0 with its pod is no change."""
    counter = "routewatch_bgp_prefix_rpki_roa_invalidations_total"
    return Case(
        "RoutewatchPrefixRoaWouldInvalidate", "a ROA change that invalidated routes fires for an hour",
        [
            Series(counter, {"prefix": PREFIX}, "0x5 1x140"),
            info(PREFIX, "1x145"),
            Series(counter, {"prefix": OTHER}, pods=("3x10 0x135", "3x145")),
            info(OTHER, "1x145"),
        ],
        fire_at="10m", fired=[(_prefix(), 1)], quiet_before="2m", quiet_after="65m",
    )


def roa_expiring() -> Case:
    """Expiry 5 days after the start: the time left at 12m is 5 days less 12 minutes; 8 days away says nothing."""
    five_days, eight_days = 5 * 86400, 8 * 86400
    return Case(
        "RoutewatchPrefixRoaExpiring", "the earliest expiry's time left, until the ROA is renewed",
        [
            Series(EXPIRES, {"prefix": PREFIX}, f"{eight_days}x2 {five_days}x40 {eight_days}x5"),
            info(PREFIX, "1x47"),
            Series(EXPIRES, {"prefix": OTHER}, f"{eight_days}x47"),
            info(OTHER, "1x47"),
        ],
        fire_at="12m", fired=[(_prefix(), five_days - 720)], quiet_before="10m", quiet_after="23m",
    )


def source_stale() -> Case:
    """A stale source is reported on both pods; stale on one pod alone is quiet."""
    return Case(
        "RoutewatchRpkiSourceStale", "a source keeps its last good set for 15 minutes",
        [
            Series("routewatch_rpki_source_stale", STAYRTR, "0x2 1x40 0x5"),
            Series("routewatch_rpki_source_last_update_timestamp_seconds", STAYRTR, "100x47"),
            Series("routewatch_rpki_source_stale", JSON_EXPORT, pods=("1x47", "0x47")),
            Series("routewatch_rpki_source_last_update_timestamp_seconds", JSON_EXPORT, "100x47"),
        ],
        fire_at="18m", fired=[(STAYRTR, 1)], quiet_before="15m", quiet_after="23m",
    )


def no_vrps() -> Case:
    """Two sources, neither loaded for the first 15 minutes: one alert naming how many, none per source."""
    return Case(
        "RoutewatchRpkiNoVrps", "no source has delivered a set for 10 minutes",
        [
            Series("routewatch_rpki_source_stale", STAYRTR, "1x30 0x20"),
            Series("routewatch_rpki_source_stale", JSON_EXPORT, "1x50"),
            Series("routewatch_rpki_source_last_update_timestamp_seconds", STAYRTR, "_x30 900x20"),
        ],
        fire_at="12m", fired=[({}, 2)], quiet_before="9m", quiet_after="17m",
    )


def rpki_cases() -> list[Case]:
    return [invalid_at_peers(), state_invalid(), not_covered(), roa_would_invalidate(), roa_expiring(), source_stale(),
            no_vrps()]
