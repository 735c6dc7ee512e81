"""The JSON API's answers without a server: before the first snapshot, unknown endpoints, evidence bounded."""

from __future__ import annotations

import orjson

from routewatch.core.detection import Detection, DetectionKind
from routewatch.core.snapshot import CoreSnapshot
from routewatch.exporter.api import MAX_LISTED, JsonApi, detection_json
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox
from routewatch.model import parse_prefix


def test_before_the_first_snapshot_the_api_says_so_and_still_judges_the_prefix_text() -> None:
    api = JsonApi(SnapshotBox(ExportState(ProcessStatus("9.9.9"))))
    assert api("/api/v1/detections") == (503, b'{"error":"no core snapshot yet"}\n')
    assert api("/api/v1/prefixes/192.0.2.0/24")[0] == 503
    assert api("/api/v1/prefixes/192.0.2.1/24")[0] == 400
    assert api("/api/v1/other")[0] == 404


def test_a_prefix_not_watched_is_404_and_an_empty_core_lists_nothing() -> None:
    api = JsonApi(SnapshotBox(ExportState(ProcessStatus("9.9.9"), core=CoreSnapshot(time=5.0))))
    code, body = api("/api/v1/prefixes/2001:db8::/32")
    assert (code, orjson.loads(body)) == (404, {"error": "2001:db8::/32 is not watched"})
    assert orjson.loads(api("/api/v1/detections")[1]) == {
        "time": 5.0, "open": [], "open_total": 0, "recently_closed": [], "recently_closed_total": 0}


def test_evidence_lists_and_nesting_are_cut_whatever_a_detector_put_in() -> None:
    watched = parse_prefix("192.0.2.0/24")
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(20):
        deep = {"next": deep}
    evidence = {"origins": list(range(64512, 65512)), "sample_paths": [f"1 {n}" for n in range(500)],
                "covering": {"a", "b"}, "deep": deep, "when": watched}
    detection = Detection(DetectionKind.ORIGIN, parse_prefix("192.0.2.0/25"), watched, 1.0, evidence=evidence)
    rendered = detection_json(detection, None)
    assert rendered["asns"] == list(range(64512, 64512 + MAX_LISTED))
    assert len(rendered["sample_paths"]) == len(rendered["evidence"]["sample_paths"]) == MAX_LISTED
    assert rendered["evidence"]["covering"] == ["a", "b"] and rendered["evidence"]["when"] == "192.0.2.0/24"
    assert rendered["subprefixes"] == ["192.0.2.0/25"]
    assert len(orjson.dumps(rendered)) < 3000
