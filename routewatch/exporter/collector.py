"""The collector the HTTP server registers: one read of the current state per scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from .bgp import core_families, prefix_families
from .dns import dns_families
from .process import process_families
from .sources import source_families
from .state import ExportState, SnapshotBox


class ExportCollector(Collector):
    """Renders an ``ExportState``; parts not known yet (no core, no DNS snapshot) are absent."""

    def __init__(self, box: SnapshotBox) -> None:
        self._box = box

    def collect(self) -> Iterator[Metric]:
        yield from families(self._box.current)


def families(state: ExportState) -> Iterator[Metric]:
    yield from process_families(state.process)
    if state.core is not None:
        yield from prefix_families(state.core)
        yield from core_families(state.core)
    yield from source_families(state.sources, state.max_collectors, state.max_ignored_types)
    if state.dns is not None:
        yield from dns_families(state.dns, state.core)
