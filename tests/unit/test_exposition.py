"""/metrics keeps each prefix's lines between scrapes, written directly yet exactly as prometheus_client writes them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from routewatch.core.settings import WithdrawalThresholds
from routewatch.exporter.bgp import BgpCollector
from routewatch.exporter.exposition import Exposition, families
from routewatch.exporter.offline import render, render_core
from routewatch.exporter.state import ExportState, SnapshotBox
from routewatch.model import parse_prefix
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


def state_with_every_prefix_series() -> ExportState:
    """full_state's core (upstreams, path rules, an unlisted prefix, RPKI, a threshold override) plus odd values."""
    state = full_state()
    assert state.core is not None
    first = state.core.prefixes[0]
    odd = replace(first, prefix=parse_prefix("2001:db8::/32"), ratio=2 / 3, group='team "a"\\b',
                  source="asn\nnew", rpki_expires=1.7e9, origins=(64500, 4200000000))
    return replace(state, core=replace(state.core, prefixes=(*state.core.prefixes, odd)))


@pytest.mark.parametrize("accept", ACCEPTS)
def test_every_per_prefix_series_is_written_as_prometheus_client_writes_it(accept: str) -> None:
    state = state_with_every_prefix_series()
    body, _ = Exposition(SnapshotBox(state))(accept)
    lines = body.decode().splitlines()
    for needed in ("_visible_peers_by_upstream{", "_path_rule_peers{", "_unlisted_peers{", "_rpki_state{",
                   "_rpki_expires_timestamp_seconds{", "_prefix_withdrawn_ratio_threshold{", 'prefix="2001:db8::/32"'):
        assert any(needed in line for line in lines), needed
    assert sorted(lines) == sorted(reference(state, accept).decode().splitlines())


def test_the_replay_rendering_is_byte_for_byte_the_collectors() -> None:
    state = state_with_every_prefix_series()
    assert state.core is not None
    core = state.core
    default = WithdrawalThresholds()
    assert render_core(core, default) == render([BgpCollector(lambda: core, default)])
