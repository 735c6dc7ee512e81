"""The BGP rules' promtool cases (see ``cases.py``)."""

from __future__ import annotations

from tests.oracle.alerting.cases import OTHER, OWNER, PREFIX, Case, Series, _prefix, _state, info

RATIO = "routewatch_bgp_prefix_visibility_ratio"


def withdrawn() -> Case:
    return Case(
        "RoutewatchPrefixWithdrawn", "pages once with the owner's labels; one pod alone does not page",
        [
            _state(PREFIX, "withdrawn", "0x3 1x10 0x10"),
            Series(RATIO, {"prefix": PREFIX}, "1x3 0.25x10 1x10"),
            info(PREFIX, "1x23"),
            _state(OTHER, "withdrawn", pods=("1x23", "0x23")),
            Series(RATIO, {"prefix": OTHER}, pods=("0.2x23", "1x23")),
            info(OTHER, "1x23", group="web", description=""),
        ],
        fire_at="3m30s", fired=[(_prefix(), 0.25)], quiet_before="1m", quiet_after="10m",
    )


def missing() -> Case:
    return Case(
        "RoutewatchPrefixMissing", "a prefix not seen since the start pages after 5 minutes",
        [_state(PREFIX, "missing", "0x2 1x15 0x5"), info(PREFIX, "1x22")],
        fire_at="7m", fired=[(_prefix(), 1)], quiet_before="5m", quiet_after="12m",
    )


def insufficient_baseline() -> Case:
    return Case(
        "RoutewatchPrefixInsufficientBaseline", "an unjudgeable prefix is reported after an hour",
        [
            _state(PREFIX, "insufficient-baseline", "1x150 0x10"),
            Series("routewatch_bgp_prefix_baseline_peers", {"prefix": PREFIX}, "2x150 9x10"),
            info(PREFIX, "1x160"),
        ],
        fire_at="62m", fired=[(_prefix(), 2)], quiet_before="50m", quiet_after="78m",
    )


def degraded() -> Case:
    """192.0.2.0/24 takes the default recovered threshold (0.8); 203.0.113.0/24 overrides it with 0.6."""
    return Case(
        "RoutewatchPrefixVisibilityDegraded", "below the default or its own recovered threshold for 15 minutes",
        [
            Series(RATIO, {"prefix": PREFIX}, "1x2 0.7x40 1x10"),
            _state(PREFIX, "visible", "1x52"),
            info(PREFIX, "1x52"),
            Series(RATIO, {"prefix": OTHER}, "1x2 0.7x40 1x10"),
            Series("routewatch_bgp_prefix_recovered_ratio_threshold", {"prefix": OTHER}, "0.6x52"),
            _state(OTHER, "visible", "1x52"),
            info(OTHER, "1x52"),
            Series("routewatch_bgp_default_recovered_ratio_threshold", {}, "0.8x52"),
        ],
        fire_at="17m", fired=[(_prefix(), 0.7)], quiet_before="10m", quiet_after="22m",
    )


def unknown() -> Case:
    return Case(
        "RoutewatchPrefixVisibilityUnknown", "no trustworthy feed for 10 minutes",
        [_state(PREFIX, "unknown", "0x2 1x30 0x5"), info(PREFIX, "1x37")],
        fire_at="12m", fired=[(_prefix(), 1)], quiet_before="9m", quiet_after="18m",
    )


def _detection(kind: str, subprefix: str, asn: str, values: str = "",
               pods: tuple[str, str] | None = None) -> Series:
    labels = {"prefix": PREFIX, "kind": kind, "asn": asn, "subprefix": subprefix}
    return Series("routewatch_bgp_detection_peers", labels, values, pods)


def origin() -> Case:
    """Two hijacking origins page once each, named; a third seen by one pod alone does not page."""
    return Case(
        "RoutewatchPrefixOriginAnomaly", "each offending AS and sub-prefix is named, with the owner's labels",
        [
            _detection("origin", "192.0.2.0/25", "64511", "_x2 12x10 stale"),
            _detection("origin", "192.0.2.0/24", "64512", "_x2 3x10 stale"),
            Series("routewatch_bgp_prefix_unexpected_origin_peers", {"prefix": PREFIX}, "0x2 15x10 0x10"),
            info(PREFIX, "1x22"),
            Series("routewatch_bgp_detection_peers",
                   {"prefix": OTHER, "kind": "origin", "asn": "64513", "subprefix": "203.0.113.0/25"},
                   pods=("5x22", "_x22")),
            Series("routewatch_bgp_prefix_unexpected_origin_peers", {"prefix": OTHER}, pods=("5x22", "0x22")),
            info(OTHER, "1x22"),
        ],
        fire_at="3m",
        fired=[(_prefix(subprefix="192.0.2.0/24", asn="64512"), 3),
               (_prefix(subprefix="192.0.2.0/25", asn="64511"), 12)],
        quiet_before="1m", quiet_after="10m",
    )


def more_specific() -> Case:
    return Case(
        "RoutewatchPrefixUnexpectedMoreSpecific", "an unconfigured more-specific is named after 10 minutes",
        [
            _detection("more-specific", "192.0.2.128/25", "64500", "_x2 4x30 stale"),
            Series("routewatch_bgp_prefix_more_specific_peers", {"prefix": PREFIX}, "0x2 4x30 0x5"),
            info(PREFIX, "1x37"),
        ],
        fire_at="12m", fired=[(_prefix(subprefix="192.0.2.128/25", asn="64500"), 4)],
        quiet_before="9m", quiet_after="18m",
    )


def _above_zero(rule: str, metric: str, fire_at: str, quiet_before: str, quiet_after: str) -> Case:
    """A per-prefix peer count above zero on both pods fires; on one pod alone it does not."""
    return Case(
        rule, "peers on both pods; one pod alone says nothing",
        [
            Series(metric, {"prefix": PREFIX}, "0x2 3x30 0x10"),
            info(PREFIX, "1x42"),
            Series(metric, {"prefix": OTHER}, pods=("5x42", "0x42")),
            info(OTHER, "1x42"),
        ],
        fire_at=fire_at, fired=[(_prefix(), 3)], quiet_before=quiet_before, quiet_after=quiet_after,
    )


def bgp_cases() -> list[Case]:
    return [
        withdrawn(), missing(), insufficient_baseline(), degraded(), unknown(), origin(), more_specific(),
        _above_zero("RoutewatchPrefixUnexpectedNeighbor", "routewatch_bgp_prefix_unexpected_neighbor_peers",
                    "4m", "1m", "18m"),
        _above_zero("RoutewatchPrefixPathRule", "routewatch_bgp_prefix_path_rule_peers", "7m", "3m", "18m"),
        _above_zero("RoutewatchPrefixNew", "routewatch_bgp_prefix_unlisted_peers", "12m", "9m", "18m"),
    ]


__all__ = ["OWNER", "bgp_cases"]
