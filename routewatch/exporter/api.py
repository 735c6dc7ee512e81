"""The read-only JSON API beside ``/metrics``: open detections with their evidence, and one prefix's status.

An alert can say which AS and which prefix (``routewatch_bgp_detection_info``)
but not the paths, the peers per collector or the history; BGPalerter users
had those from its pull API. Two endpoints, served by the same server, with
the same TLS and basic auth as ``/metrics``:

- ``GET /api/v1/detections``: open detections (and the most recently closed),
  each with its kind, prefix, watched prefix, start, the ASes and sub-prefixes
  it is about, the prefix's description and group, and its evidence.
- ``GET /api/v1/prefixes/<prefix>``: a watched prefix's state, peers, baseline,
  ratio, thresholds, visibility per collector, origins seen and its open
  detections; 404 for a prefix not watched, 400 for one that is not a prefix.

Everything is rendered from the published snapshot, except the per-collector
view and the origins seen, which ``detail`` reads from the core on demand. The
output is bounded whatever peers send: at most ``MAX_DETECTIONS`` detections
per list and ``MAX_LISTED`` items per evidence list, with the totals said.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import orjson

from routewatch.core.detection import Detection, DetectionKind
from routewatch.core.prefix_detail import PrefixDetail
from routewatch.core.snapshot import CoreSnapshot, PrefixStatus
from routewatch.exporter.state import SnapshotBox
from routewatch.model import Prefix, parse_prefix

log = logging.getLogger(__name__)

PREFIX = "/api/v1/"
MAX_DETECTIONS = 1000
"""Most detections in one list (open, or recently closed); ``*_total`` says how many there were."""
MAX_LISTED = 20
"""Most items of any list inside a detection's evidence (the core lists at most 10 offenders already)."""
_MAX_DEPTH = 8

Detail = Callable[[Prefix], PrefixDetail | None]
Response = tuple[int, bytes]

#: Which evidence key names the ASes a detection is about, per kind (origins otherwise).
_ASN_KEYS = {DetectionKind.NEIGHBOR: "neighbors"}


def _json(code: int, body: dict[str, Any]) -> Response:
    return code, orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS) + b"\n"


def _error(code: int, message: str) -> Response:
    return _json(code, {"error": message})


def _bounded(value: Any, depth: int = 0) -> Any:
    """``value`` with every list cut to ``MAX_LISTED`` items and nesting to ``_MAX_DEPTH`` levels."""
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {str(k): _bounded(v, depth + 1) for k, v in list(value.items())[:MAX_LISTED * 2]}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [_bounded(v, depth + 1) for v in list(items)[:MAX_LISTED]]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _ints(value: Any) -> list[int]:
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool)] if isinstance(value, list) else []


def detection_json(detection: Detection, status: PrefixStatus | None) -> dict[str, Any]:
    """One detection: what, where, since when, about which ASes and sub-prefixes, for whom, and its evidence."""
    evidence = detection.evidence
    offenders = evidence.get("offenders")
    listed = offenders if isinstance(offenders, list) else []
    subprefixes = [str(o["prefix"]) for o in listed if isinstance(o, dict) and "prefix" in o]
    return {
        "kind": detection.kind.value,
        "prefix": str(detection.prefix),
        "watched_prefix": str(detection.watched),
        "start": detection.start,
        "end": detection.end,
        "asns": _ints(evidence.get(_ASN_KEYS.get(detection.kind, "origins")))[:MAX_LISTED],
        "subprefixes": (subprefixes or ([str(detection.prefix)] if detection.prefix != detection.watched else []))
        [:MAX_LISTED],
        "peers": evidence.get("peers"),
        "sample_paths": _bounded(evidence.get("sample_paths", [])),
        "description": status.description if status is not None else detection.description,
        "group": status.group if status is not None else "",
        "evidence": _bounded(evidence),
    }


def _listing(detections: tuple[Detection, ...], core: CoreSnapshot | None) -> tuple[list[dict[str, Any]], int]:
    shown = detections[-MAX_DETECTIONS:]
    return [detection_json(d, core.status(d.watched) if core is not None else None) for d in shown], len(detections)


def _thresholds(status: PrefixStatus) -> dict[str, Any]:
    t = status.thresholds
    return {"withdrawn_ratio": t.withdrawn_ratio, "recovered_ratio": t.recovered_ratio,
            "hold_down_seconds": t.hold_down, "min_baseline_peers": t.min_baseline_peers}


def _detail_json(detail: PrefixDetail | None) -> dict[str, Any]:
    if detail is None:
        return {"collectors": None, "collectors_total": None, "origins_seen": None, "origins_seen_total": None}
    return {
        "collectors": [{"collector": c.collector, "visible_peers": c.visible_peers,
                        "baseline_peers": c.baseline_peers, "stale": c.stale} for c in detail.collectors],
        "collectors_total": detail.collectors_total,
        "origins_seen": [{"asn": o.asn, "peers": o.peers, "expected": o.expected} for o in detail.origins],
        "origins_seen_total": detail.origins_total,
    }


def prefix_json(status: PrefixStatus, core: CoreSnapshot, detail: PrefixDetail | None) -> dict[str, Any]:
    """A watched prefix as the metrics see it, with its per-collector detail and open detections."""
    open_here = tuple(d for d in core.open_detections if d.watched == status.prefix)
    detections, total = _listing(open_here, core)
    return {
        "prefix": str(status.prefix),
        "time": core.time,
        "description": status.description,
        "group": status.group,
        "source": status.source,
        "exported": status.exported,
        "state": status.state.value,
        "visible_peers": status.visible_peers,
        "visible_peer_asns": status.visible_peer_asns,
        "baseline_peers": status.baseline_peers,
        "visibility_ratio": status.ratio,
        "withdrawn_since": status.withdrawn_since,
        "thresholds": _thresholds(status),
        "expected_origins": list(status.origins),
        "unexpected_origin_peers": status.unexpected_origin_peers,
        "more_specific_peers": status.more_specific_peers,
        "more_specifics_refused": status.more_specifics_refused,
        "rpki_state": status.rpki_state.value if status.rpki_state is not None else None,
        **_detail_json(detail),
        "open_detections": detections,
        "open_detections_total": total,
    }


class JsonApi:
    """Answers ``GET /api/v1/...`` from the published snapshot (and ``detail`` for one prefix's collectors)."""

    def __init__(self, box: SnapshotBox, detail: Detail | None = None) -> None:
        self._box = box
        self._detail = detail

    def __call__(self, path: str) -> Response:
        """Status code and JSON body for ``path`` (query string already removed)."""
        route = path[len(PREFIX):]
        if route == "detections":
            return self.detections()
        if route.startswith("prefixes/"):
            return self.prefix(unquote(route[len("prefixes/"):]))
        return _error(404, f"no such endpoint: {path}")

    def detections(self) -> Response:
        state = self._box.current
        core = state.core
        if core is None:
            return _error(503, "no core snapshot yet")
        opened, open_total = _listing(core.open_detections, core)
        closed, closed_total = _listing(state.closed_detections, core)
        return _json(200, {"time": core.time, "open": opened, "open_total": open_total,
                           "recently_closed": closed, "recently_closed_total": closed_total})

    def prefix(self, text: str) -> Response:
        try:
            prefix = parse_prefix(text)
        except ValueError as exc:  # a zone index too
            return _error(400, f"not a prefix: {text[:100]!r} ({exc})"[:300])
        core = self._box.current.core
        if core is None:
            return _error(503, "no core snapshot yet")
        status = core.status(prefix)
        if status is None:
            return _error(404, f"{prefix} is not watched")
        return _json(200, prefix_json(status, core, self._lookup(prefix)))

    def _lookup(self, prefix: Prefix) -> PrefixDetail | None:
        """The per-collector detail, or None when it cannot be had now (the core busy or stopping)."""
        if self._detail is None:
            return None
        try:
            return self._detail(prefix)
        except Exception:  # noqa: BLE001 - the snapshot part still answers; the failure is logged
            log.warning("per-collector detail for %s failed", prefix, exc_info=True)
            return None
