"""/metrics keeps each prefix's lines between scrapes: the text is prometheus_client's own, in either format."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from routewatch.exporter.exposition import Exposition, families
from routewatch.exporter.state import ExportState, SnapshotBox
from tests.support.events import announce, peer, withdraw
from tests.support.metrics import ORIGIN, full_state, watched_monitor

ACCEPTS = [
    "",  # the Prometheus text format 0.0.4
    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4",  # what Prometheus sends
    "application/openmetrics-text; version=1.0.0; escaping=underscores",
    "text/plain;version=1.0.0;escaping=allow-utf-8",
]
PREFIXES = [f"10.{i}.0.0/16" for i in range(40)]


class _All(Collector):
    def __init__(self, state: ExportState) -> None:
        self.state = state

    def collect(self):  # type: ignore[no-untyped-def]
        return families(self.state)


def reference(state: ExportState, accept: str) -> bytes:
    """What prometheus_client renders from every family in one go."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_All(state))
    return choose_encoder(accept)[0](registry)


def state_with_prefixes() -> ExportState:
    monitor = watched_monitor(*PREFIXES)
    monitor.apply_all(announce(0, peer(i), p, (64500 + i, ORIGIN)) for p in PREFIXES for i in range(3))
    monitor.apply_all(withdraw(5, peer(0), p) for p in PREFIXES[:10])
    monitor.advance(20)
    snapshot = monitor.snapshot()
    tricky = replace(snapshot.prefixes[0], description='quote " backslash \\ newline \n and ünïcode')
    hidden = replace(snapshot.prefixes[1], exported=False)
    snapshot = replace(snapshot, prefixes=(tricky, hidden, *snapshot.prefixes[2:]))
    return replace(full_state(), core=snapshot)


@pytest.mark.parametrize("accept", ACCEPTS)
def test_the_body_has_exactly_the_lines_prometheus_client_renders(accept: str) -> None:
    state = state_with_prefixes()
    exposition = Exposition(SnapshotBox(state))
    body, content_type = exposition(accept)
    expected = reference(state, accept)
    assert content_type == choose_encoder(accept)[1]
    assert sorted(body.decode().splitlines()) == sorted(expected.decode().splitlines())
    assert body == exposition(accept)[0]  # from the kept lines, the same bytes again
    if "openmetrics" in accept:
        assert body.endswith(b"# EOF\n") and body.count(b"# EOF") == 1
    families_in_order = [line.split()[2] for line in body.decode().splitlines() if line.startswith("# HELP ")]
    assert len(families_in_order) == len(set(families_in_order)), "a family was split in two"


def test_only_prefixes_whose_status_changed_are_formatted_again() -> None:
    monitor = watched_monitor(*PREFIXES)
    monitor.apply_all(announce(0, peer(i), p, (64500 + i, ORIGIN)) for p in PREFIXES for i in range(3))
    monitor.advance(20)
    box = SnapshotBox(replace(full_state(), core=monitor.snapshot()))
    exposition = Exposition(box)
    exposition("")
    assert exposition.formatted() == len(PREFIXES)
    exposition("")
    assert exposition.formatted() == len(PREFIXES)

    monitor.apply(withdraw(30, peer(1), PREFIXES[7]))
    monitor.advance(40)
    box.update(core=monitor.snapshot())
    body, _ = exposition("")
    assert exposition.formatted() == len(PREFIXES) + 1
    assert sorted(body.splitlines()) == sorted(reference(box.current, "").splitlines())
