"""BGP metrics: one family per signal, labelled only by configured (or capped) prefixes.

Label values never come from what a peer sends: more-specifics and unexpected
origins are counted under the watched prefix that covers them, so a hostile
peer announcing 100,000 more-specifics creates no new series. State that can
be unknown is exported as a state (``routewatch_bgp_prefix_state``), never as
NaN or a fake zero; the ratio is left out while the baseline is empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from routewatch.core.detection import DetectionKind
from routewatch.core.snapshot import CoreSnapshot, PrefixStatus
from routewatch.core.visibility import PrefixState

PREFIX_STATES = tuple(state.value for state in PrefixState)


class BgpCollector(Collector):
    """Turns the latest ``CoreSnapshot`` into metric families at scrape time."""

    def __init__(self, snapshot: Callable[[], CoreSnapshot | None]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily]:
        snap = self._snapshot()
        if snap is None:
            return
        yield from prefix_families(snap.prefixes)
        yield from core_families(snap)


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels if labels is not None else ["prefix"])


def prefix_families(statuses: Iterable[PrefixStatus]) -> Iterator[GaugeMetricFamily | InfoMetricFamily]:
    visible = _gauge("routewatch_bgp_prefix_visible_peers",
                     "Collector peers whose latest unicast route for the exact prefix has an expected origin.")
    asns = _gauge("routewatch_bgp_prefix_visible_peer_asns", "Distinct peer ASNs among the visible peers.")
    baseline = _gauge("routewatch_bgp_prefix_baseline_peers",
                      "Peers that held the prefix within the baseline window (frozen while withdrawn).")
    ratio = _gauge("routewatch_bgp_prefix_visibility_ratio",
                   "Baseline peers still seeing the prefix / baseline peers; absent while the baseline is empty.")
    withdrawn = _gauge("routewatch_bgp_prefix_withdrawn", "1 while a withdrawal detection is open for the prefix.")
    state = _gauge("routewatch_bgp_prefix_state", "1 for the prefix's current state, 0 for the others.",
                   ["prefix", "state"])
    unexpected = _gauge("routewatch_bgp_prefix_unexpected_origin_peers",
                        "Peers with a route at or under the prefix from an unexpected origin (hijack).")
    more_specific = _gauge("routewatch_bgp_prefix_more_specific_peers",
                           "Peers with an unconfigured more-specific of the prefix from an expected origin.")
    withdrawn_at = _gauge("routewatch_bgp_prefix_withdrawn_ratio_threshold",
                          "Ratio below which the prefix counts as withdrawn (after the hold-down).")
    recovered_at = _gauge("routewatch_bgp_prefix_recovered_ratio_threshold",
                          "Ratio at or above which a withdrawn prefix counts as recovered.")
    min_baseline = _gauge("routewatch_bgp_prefix_min_baseline_peers",
                          "Smallest baseline with which a withdrawal can be judged.")
    hold_down = _gauge("routewatch_bgp_prefix_hold_down_seconds",
                       "Seconds of data time the ratio must stay low before a withdrawal opens.")
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
        withdrawn.add_metric(label, 1.0 if status.withdrawn else 0.0)
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
        for upstream, peers in status.visible_peers_by_upstream:
            by_upstream.add_metric([*label, f"AS{upstream}"], peers)
        t = status.thresholds
        withdrawn_at.add_metric(label, t.withdrawn_ratio)
        recovered_at.add_metric(label, t.recovered_ratio)
        min_baseline.add_metric(label, t.min_baseline_peers)
        hold_down.add_metric(label, t.hold_down)
        info.add_metric(label, {
            "description": status.description,
            "group": status.group,
            "source": status.source,
            "origins": " ".join(f"AS{asn}" for asn in status.origins),
        })
    yield from (visible, asns, baseline, ratio, withdrawn, state, unexpected, more_specific, neighbor, path_rule,
                unlisted, by_upstream, withdrawn_at, recovered_at, min_baseline, hold_down, info)


def core_families(snap: CoreSnapshot) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
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
                      "Prefixes a watched ASN originates beyond its max_prefixes (counted, not watched).", ["asn"])
    for asn, count in sorted(snap.asn_over_cap.items()):
        over_cap.add_metric([str(asn)], count)
    yield over_cap
    updates = CounterMetricFamily("routewatch_bgp_updates", "Route updates applied to the core, by type.",
                                  labels=["type"])
    for kind in ("announce", "withdraw"):
        updates.add_metric([kind], snap.updates.get(kind, 0))
    yield updates
