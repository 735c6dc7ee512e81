"""docs/metrics.md lists exactly the metrics the exporter can emit, with the right type and labels."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from routewatch.exporter.state import ExportState
from tests.support.metrics import full_state, scrape

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
ROW = re.compile(r"^\| `(routewatch_[a-z_]+)` \| ([a-z]+)[^|]*\|\s*([^|]*?)\s*\|")


def documented() -> dict[str, tuple[str, frozenset[str]]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            name, kind, labels = match.groups()
            assert name not in rows, f"{name} is documented twice"
            rows[name] = (kind, frozenset(re.findall(r"`([a-z_]+)`", labels)))
    return rows


def emitted(state: ExportState) -> dict[str, tuple[str, frozenset[str]]]:
    text = scrape(state).decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    out: dict[str, tuple[str, frozenset[str]]] = {}
    for name, kind in types.items():
        out[name] = ("gauge" if kind == "gauge" else "counter", frozenset())
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name = sample.name
            kind, labels = out.get(name, ("gauge", frozenset()))
            out[name] = (kind, labels | frozenset(sample.labels))
    return out


def test_every_emitted_metric_is_documented_and_every_documented_one_is_emitted() -> None:
    docs = documented()
    metrics = emitted(full_state())
    assert sorted(set(metrics) - set(docs)) == [], "emitted but not documented in docs/metrics.md"
    assert sorted(set(docs) - set(metrics)) == [], "documented but never emitted"
    for name, (kind, labels) in metrics.items():
        assert docs[name] == (kind, labels), f"{name}: docs say {docs[name]}, the exporter emits {(kind, labels)}"


def test_counters_end_in_total_and_everything_is_namespaced() -> None:
    for name, (kind, _) in documented().items():
        assert name.startswith("routewatch_")
        assert (kind == "counter") == name.endswith("_total"), name
