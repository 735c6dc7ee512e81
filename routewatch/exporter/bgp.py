"""BGP metrics: one family per signal, labelled only by configured (or capped) prefixes.

Label values never come from what a peer sends: more-specifics and unexpected
origins are counted under the watched prefix that covers them, so a hostile
peer announcing 100,000 more-specifics creates no new series. State that can
be unknown is exported as a state (``routewatch_bgp_prefix_state``), never as
NaN or a fake zero; the ratio is left out while the baseline is empty.

Thresholds are exported once as the default (``routewatch_bgp_default_*``) and
per prefix only where a prefix overrides it, so a prefix costs fourteen samples
rather than eighteen; the rules take a prefix's own threshold or else the default.
RPKI adds seven more where VRP sources are configured (state one-hot, invalid
peers, the earliest ROA expiry, ROA changes that invalidated routes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from routewatch.core.detection import DetectionKind
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import CoreSnapshot, PrefixStatus
from routewatch.core.visibility import PrefixState
from routewatch.exporter.detections import detection_families
from routewatch.rpki.validation import RpkiState

PREFIX_STATES = tuple(state.value for state in PrefixState)
RPKI_STATES = tuple(state.value for state in RpkiState)
DEFAULT_THRESHOLDS = WithdrawalThresholds()


class BgpCollector(Collector):
    """Turns the latest ``CoreSnapshot`` into metric families at scrape time."""

    def __init__(self, snapshot: Callable[[], CoreSnapshot | None],
                 default: WithdrawalThresholds = DEFAULT_THRESHOLDS) -> None:
        self._snapshot = snapshot
        self._default = default

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily]:
        snap = self._snapshot()
        if snap is None:
            return
        yield from prefix_families(snap.prefixes, self._default)
        yield from core_families(snap, self._default)


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels if labels is not None else ["prefix"])


def prefix_families(
    statuses: Iterable[PrefixStatus], default: WithdrawalThresholds = DEFAULT_THRESHOLDS,
) -> Iterator[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily]:
    """The per-prefix families; thresholds only for prefixes that override ``default`` (exported once)."""
    visible = _gauge("routewatch_bgp_prefix_visible_peers",
                     "Collector peers whose latest unicast route for the exact prefix has an expected origin.")
    asns = _gauge("routewatch_bgp_prefix_visible_peer_asns", "Distinct peer ASNs among the visible peers.")
    baseline = _gauge("routewatch_bgp_prefix_baseline_peers",
                      "Peers that held the prefix within the baseline window (frozen while withdrawn).")
    ratio = _gauge("routewatch_bgp_prefix_visibility_ratio",
                   "Baseline peers still seeing the prefix / baseline peers; absent while the baseline is empty.")
    state = _gauge("routewatch_bgp_prefix_state", "1 for the prefix's current state, 0 for the others.",
                   ["prefix", "state"])
    unexpected = _gauge("routewatch_bgp_prefix_unexpected_origin_peers",
                        "Peers with a route at or under the prefix from an unexpected origin (hijack).")
    more_specific = _gauge("routewatch_bgp_prefix_more_specific_peers",
                           "Peers with an unconfigured more-specific of the prefix from an expected origin.")
    neighbor = _gauge("routewatch_bgp_prefix_unexpected_neighbor_peers",
                      "Peers whose path has an AS the declared upstreams or downstreams do not allow (forged origin, "
                      "leak); only where a neighbour policy applies.")
    path_rule = _gauge("routewatch_bgp_prefix_path_rule_peers",
                       "Peers whose path triggers one of the prefix's path rules; only where it has some.")
    unlisted = _gauge("routewatch_bgp_prefix_unlisted_peers",
                      "Peers carrying this prefix, found for a watched AS with new_prefixes and listed nowhere.")
    by_upstream = _gauge("routewatch_bgp_prefix_visible_peers_by_upstream",
                         "Visible peers whose path reaches the origin through this declared upstream.",
                         ["prefix", "upstream"])
    refused = CounterMetricFamily("routewatch_bgp_prefix_more_specifics_refused",
                                  "Announcements of more-specifics refused beyond limits.max_more_specifics.",
                                  labels=["prefix"])
    rpki_invalid = _gauge("routewatch_bgp_prefix_rpki_invalid_peers",
                          "Peers whose latest route for the prefix or a more-specific under it is RPKI-invalid; "
                          "absent before the first VRP set.")
    rpki_state = _gauge("routewatch_bgp_prefix_rpki_state",
                        "1 for the prefix's RPKI state as its expected origins announce it, 0 for the others; "
                        "unknown before the first VRP set; only where VRP sources are configured.",
                        ["prefix", "state"])
    rpki_expires = _gauge("routewatch_bgp_prefix_rpki_expires_timestamp_seconds",
                          "Earliest expiry of the VRPs keeping the prefix valid; only where the VRP source gives one.")
    roa_invalidations = CounterMetricFamily(
        "routewatch_bgp_prefix_rpki_roa_invalidations",
        "VRP set changes that made routes seen at or under the prefix invalid (rpki-roa-would-invalidate); "
        "only where VRP sources are configured.", labels=["prefix"])
    overrides = threshold_families("routewatch_bgp_prefix", " (only where the prefix overrides the default)",
                                   ["prefix"])
    info = InfoMetricFamily("routewatch_bgp_prefix", "What each watched prefix is and why it is watched.",
                            labels=["prefix"])
    for status in statuses:
        if not status.exported:
            continue
        label = [str(status.prefix)]
        visible.add_metric(label, status.visible_peers)
        asns.add_metric(label, status.visible_peer_asns)
        baseline.add_metric(label, status.baseline_peers)
        if status.ratio is not None:
            ratio.add_metric(label, status.ratio)
        for name in PREFIX_STATES:
            state.add_metric([*label, name], 1.0 if status.state.value == name else 0.0)
        unexpected.add_metric(label, status.unexpected_origin_peers)
        more_specific.add_metric(label, status.more_specific_peers)
        if status.unexpected_neighbor_peers is not None:
            neighbor.add_metric(label, status.unexpected_neighbor_peers)
        if status.path_rule_peers is not None:
            path_rule.add_metric(label, status.path_rule_peers)
        if status.unlisted_peers is not None:
            unlisted.add_metric(label, status.unlisted_peers)
        refused.add_metric(label, status.more_specifics_refused)
        for upstream, peers in status.visible_peers_by_upstream:
            by_upstream.add_metric([*label, f"AS{upstream}"], peers)
        if status.rpki_state is not None:
            for name in RPKI_STATES:
                rpki_state.add_metric([*label, name], 1.0 if status.rpki_state.value == name else 0.0)
            roa_invalidations.add_metric(label, status.rpki_roa_invalidations)
        if status.rpki_invalid_peers is not None:
            rpki_invalid.add_metric(label, status.rpki_invalid_peers)
        if status.rpki_expires is not None:
            rpki_expires.add_metric(label, status.rpki_expires)
        if status.thresholds != default:
            _add_thresholds(overrides, label, status.thresholds)
        info.add_metric(label, {
            "description": status.description,
            "group": status.group,
            "source": status.source,
            "origins": " ".join(f"AS{asn}" for asn in status.origins),
        })
    families: tuple[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily, ...] = (
        visible, asns, baseline, ratio, state, unexpected, more_specific, neighbor, path_rule, unlisted, by_upstream,
        refused, rpki_invalid, rpki_state, rpki_expires, roa_invalidations, *overrides, info)
    yield from families


def threshold_families(prefix: str, scope: str, labels: list[str]) -> tuple[GaugeMetricFamily, ...]:
    """The four thresholds' families, named ``<prefix>_...``."""
    return (
        _gauge(f"{prefix}_withdrawn_ratio_threshold",
               f"Ratio below which a prefix counts as withdrawn (after the hold-down){scope}.", labels),
        _gauge(f"{prefix}_recovered_ratio_threshold",
               f"Ratio at or above which a withdrawn prefix counts as recovered{scope}.", labels),
        _gauge(f"{prefix}_min_baseline_peers", f"Smallest baseline with which a withdrawal can be judged{scope}.",
               labels),
        _gauge(f"{prefix}_hold_down_seconds",
               f"Seconds of data time the ratio must stay low before a withdrawal opens{scope}.", labels),
    )


def _add_thresholds(families: tuple[GaugeMetricFamily, ...], label: list[str], t: WithdrawalThresholds) -> None:
    for family, number in zip(families, (t.withdrawn_ratio, t.recovered_ratio, t.min_baseline_peers, t.hold_down),
                              strict=True):
        family.add_metric(label, number)


def core_families(
    snap: CoreSnapshot, default: WithdrawalThresholds = DEFAULT_THRESHOLDS,
) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    defaults = threshold_families("routewatch_bgp_default", " (the default of every prefix)", [])
    _add_thresholds(defaults, [], default)
    yield from defaults
    yield from detection_families(snap)
    detections = _gauge("routewatch_bgp_detections_open", "Detections open now, by kind.", ["kind"])
    by_kind = Counter(d.kind.value for d in snap.open_detections)
    for detection_kind in DetectionKind:
        detections.add_metric([detection_kind.value], by_kind.get(detection_kind.value, 0))
    yield detections
    routes = _gauge("routewatch_bgp_tracked_routes", "(prefix, peer, path id) routes held in the route table.", [])
    routes.add_metric([], snap.tracked_routes)
    yield routes
    data_time = _gauge("routewatch_bgp_data_timestamp_seconds",
                       "Data time of the latest BGP event applied to the core.", [])
    data_time.add_metric([], snap.time)
    yield data_time
    over_cap = _gauge("routewatch_bgp_asn_prefixes_over_cap",
                      "Prefixes a watched ASN originates, or carries through an undeclared downstream, beyond its "
                      "max_prefixes (counted, not watched).", ["asn"])
    for asn, count in sorted(snap.asn_over_cap.items()):
        over_cap.add_metric([str(asn)], count)
    yield over_cap
    updates = CounterMetricFamily("routewatch_bgp_updates", "Route updates applied to the core, by type.",
                                  labels=["type"])
    for kind in ("announce", "withdraw"):
        updates.add_metric([kind], snap.updates.get(kind, 0))
    yield updates
