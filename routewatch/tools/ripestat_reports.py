"""``check prefix`` and ``check asn`` answered from RIPEstat rather than from routes the core held.

The looking glass's routes still go through the same core as an archive's
(:func:`~routewatch.tools.reports.prefix_report`); what RIPEstat adds is
its own visibility ratio and the prefixes and origins its routing-status
lists without per-peer routes, which are shown and judged beside them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from routewatch.model import Prefix, RouteAnnouncement
from routewatch.sources.ripestat import RoutingStatus
from routewatch.tools.reports import (
    DEFAULT_WITHDRAWN_RATIO,
    AsnReport,
    OriginView,
    PrefixReport,
    PrefixView,
    VisibilityObservation,
    judge,
    prefix_report,
    unexpected_origins,
)


def _listed_view(prefix: Prefix, origins: Iterable[int], expected: frozenset[int], peers: int | None) -> PrefixView:
    """A prefix RIPEstat names with its origins but without per-peer routes."""
    return PrefixView(prefix, peers, None, (), tuple(
        OriginView((asn,), False, (asn in expected) if expected else None, None, None) for asn in sorted(set(origins))))


def ripestat_prefix_report(
    status: RoutingStatus, routes: Iterable[RouteAnnouncement], prefix: Prefix, expected: Iterable[int],
    min_visibility: float, withdrawn_ratio: float = DEFAULT_WITHDRAWN_RATIO,
) -> PrefixReport:
    """``check prefix`` from RIPEstat: the looking glass's peers, judged against RIPEstat's visibility.

    Visible peers come from the looking glass (every RRC peer); the ratio is
    RIPEstat's own (full-table RIS peers seeing the prefix, of all of them).
    More-specifics and exact-match origins that routing-status lists but the
    looking glass did not return are shown with their origins and judged too.
    """
    expected_set = frozenset(expected)
    observation = VisibilityObservation.of_prefix(prefix, expected_set)
    observation.apply_all(routes, established=True)
    report = prefix_report(observation, prefix, expected_set, min_visibility, source="ripestat",
                           withdrawn_ratio=withdrawn_ratio)
    shown = {v.prefix for v in report.more_specifics}
    listed: dict[Prefix, set[int]] = {}
    for related in status.more_specifics:
        if related.prefix not in shown and related.prefix != prefix and related.origin is not None:
            listed.setdefault(related.prefix, set()).add(related.origin)
    extra = tuple(_listed_view(p, o, expected_set, None) for p, o in sorted(listed.items()))  # type: ignore[type-var]
    exact = report.exact
    exact_origins = {asn for view in (exact.origins if exact else ()) for asn in view.origins}
    missing = set(status.origins) - exact_origins
    unexpected = report.unexpected + unexpected_origins(
        ([_listed_view(prefix, missing, expected_set, None)] if missing else []) + list(extra))
    visibility = status.visibility(prefix.version)
    ratio = visibility.ratio if visibility else None
    basis = (f"RIPEstat: {visibility.seeing} of {visibility.total} full-table RIS peers"
             if visibility else "RIPEstat gave no visibility")
    return replace(
        report,
        time=status.time if status.time is not None else report.time,
        ratio=ratio,
        ratio_basis=basis,
        more_specifics=report.more_specifics + extra,
        unexpected=unexpected,
        verdict=judge(report.visible_peers, ratio, min_visibility, unexpected, withdrawn_ratio),
    )


def ripestat_asn_report(
    asn: int, statuses: dict[Prefix, RoutingStatus], min_visibility: float, over_cap: int = 0
) -> AsnReport:
    """``check asn`` from RIPEstat: one routing-status per announced prefix."""
    expected = frozenset((asn,))
    reports = []
    for prefix, status in statuses.items():
        visibility = status.visibility(prefix.version)
        seeing = visibility.seeing if visibility else 0
        view = _listed_view(prefix, status.origins, expected, seeing)
        unexpected = unexpected_origins([view])
        ratio = visibility.ratio if visibility else None
        reports.append(PrefixReport(
            prefix=prefix, source="ripestat", time=status.time, expected_origins=(asn,),
            visible_peers=seeing, visible_peer_asns=None, ratio=ratio,
            ratio_basis=f"RIPEstat: {seeing} of {visibility.total if visibility else 0} full-table RIS peers",
            min_visibility=min_visibility, verdict=judge(seeing, ratio, min_visibility, unexpected),
            exact=view, unexpected=unexpected,
        ))
    times = [s.time for s in statuses.values() if s.time is not None]
    return AsnReport(asn, "ripestat", max(times) if times else None, min_visibility, tuple(reports), over_cap)
