"""The offenders of open detections as bounded series: which AS, which sub-prefix.

An origin page that cannot say which AS, or a more-specific page that cannot
say which prefix, sends on-call to the logs. While an origin or
more-specific detection is open, each of its offending (sub-prefix, origin AS)
pairs becomes one series under the watched prefix it falls under:

- ``routewatch_bgp_detection_info{prefix, kind, asn, subprefix, group}`` (1),
- ``routewatch_bgp_detection_peers{prefix, kind, asn, subprefix}`` (peers
  that saw it when the detection opened).

These label values come from what peers announce, so they are capped: at most
``MAX_OFFENDERS`` per watched prefix and kind, the ones seen by the most
peers, and only while the detection is open. A hostile peer announcing
100,000 more-specifics under one prefix adds three series to it, no more.
Withdrawals have no offender; they are ``routewatch_bgp_prefix_state``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily

from routewatch.core.detection import Detection, DetectionKind
from routewatch.core.snapshot import CoreSnapshot
from routewatch.model import Prefix

MAX_OFFENDERS = 3
OFFENDER_KINDS = (DetectionKind.ORIGIN, DetectionKind.MORE_SPECIFIC)


@dataclass(frozen=True, slots=True)
class Offender:
    """One offending (sub-prefix, origin AS) of an open detection, under its watched prefix."""

    watched: Prefix
    kind: DetectionKind
    subprefix: str
    asn: str
    peers: int


def _offenders_of(detection: Detection) -> Iterator[Offender]:
    """Each listed offender (prefix, origin AS) of a detection; one saved before offenders were listed is its own."""
    listed = detection.evidence.get("offenders")
    entries = listed if isinstance(listed, list) and listed else [
        {**detection.evidence, "prefix": str(detection.prefix)}]
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        peers = entry.get("peers")
        origins = entry.get("origins") or [None]
        for asn in origins if isinstance(origins, list) else [None]:
            yield Offender(detection.watched, detection.kind, str(entry.get("prefix", detection.prefix)),
                           "" if asn is None else str(asn), peers if isinstance(peers, int) else 0)


def offenders(snap: CoreSnapshot, limit: int = MAX_OFFENDERS) -> list[Offender]:
    """The top ``limit`` offenders per (watched prefix, kind) by peers, in a stable order."""
    by_key: dict[tuple[str, str], list[Offender]] = {}
    for detection in snap.open_detections:
        if detection.kind in OFFENDER_KINDS:
            for offender in _offenders_of(detection):
                by_key.setdefault((str(offender.watched), offender.kind.value), []).append(offender)
    kept: list[Offender] = []
    for key in sorted(by_key):
        ranked = sorted(by_key[key], key=lambda o: (-o.peers, o.subprefix, o.asn))
        kept.extend(ranked[:limit])
    return kept


def detection_families(snap: CoreSnapshot) -> Iterator[GaugeMetricFamily]:
    info = GaugeMetricFamily("routewatch_bgp_detection_info",
                             f"1 for each offender of an open origin or more-specific detection (at most "
                             f"{MAX_OFFENDERS} per prefix and kind, by peers).",
                             labels=["prefix", "kind", "asn", "subprefix", "group"])
    peers = GaugeMetricFamily("routewatch_bgp_detection_peers",
                              "Collector peers that saw the offender when its detection opened.",
                              labels=["prefix", "kind", "asn", "subprefix"])
    for offender in offenders(snap):
        status = snap.status(offender.watched)
        if status is not None and not status.exported:
            continue
        group = status.group if status is not None else ""
        labels = [str(offender.watched), offender.kind.value, offender.asn, offender.subprefix]
        info.add_metric([*labels, group], 1.0)
        peers.add_metric(labels, offender.peers)
    yield from (info, peers)
