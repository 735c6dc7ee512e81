"""/metrics keeps each prefix's lines between scrapes, written directly yet exactly as prometheus_client writes them."""

from __future__ import annotations

import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import replace

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import PrefixStatus
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
TEXT, OPENMETRICS = ACCEPTS[0], ACCEPTS[1]


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


def step_by_step() -> Iterator[tuple[str, ExportState, int]]:
    """States one after another as the core publishes them, each with how many statuses it newly brings."""
    first = state_with_prefixes()
    assert first.core is not None
    core = first.core

    def state(*statuses: PrefixStatus) -> ExportState:
        return replace(first, core=replace(core, prefixes=statuses))

    def moved(status: PrefixStatus, prefix: str) -> PrefixStatus:
        return replace(status, prefix=parse_prefix(prefix))

    p = list(core.prefixes)
    yield "first", first, len(p) - 1  # one is not exported
    p[7] = replace(p[7], visible_peers=1, visible_peer_asns=1, ratio=1 / 3)
    yield "one status changed", state(*p), 1
    yield "quiet: the same statuses in a new tuple", state(*p), 0
    p.insert(3, moved(p[5], "10.200.0.0/16"))
    yield "a prefix added", state(*p), 1
    del p[20]
    yield "a prefix removed", state(*p), 0
    del p[2]
    p.insert(30, moved(p[9], "10.201.0.0/16"))
    yield "one added and one removed, as many as before", state(*p), 1
    p[1], p[10] = replace(p[1], exported=True), replace(p[10], exported=False)
    yield "a hidden prefix shown, another hidden", state(*p), 1
    p[12] = replace(p[12])
    yield "a status replaced by an equal one", state(*p), 1
    p[-2:] = []
    yield "the last two removed (a block now partly filled)", state(*p), 0
    yield "no prefix", state(), 0
    yield "the first again", first, len(core.prefixes) - 1


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("accept", [TEXT, OPENMETRICS], ids=["text", "openmetrics"])
def test_kept_blocks_follow_every_change_between_scrapes(accept: str, gzip: bool) -> None:
    box = SnapshotBox(state_with_prefixes())
    exposition = Exposition(box, block=3)  # 40 prefixes: 14 blocks, most steps leave most of them as they were
    formatted = 0
    for step, state, new in step_by_step():
        box.update(core=state.core)
        for _ in range(2):  # the second scrape of a state is a quiet one, from the kept blocks
            body, content_type = exposition(accept, gzip=gzip)
            if gzip:
                reader = zlib.decompressobj(zlib.MAX_WBITS | 16)
                body = reader.decompress(body)
                assert reader.eof and not reader.unused_data, step
            assert body == Exposition(SnapshotBox(state))(accept)[0], step
            assert sorted(body.decode().splitlines()) == sorted(reference(state, accept).decode().splitlines()), step
            assert content_type == choose_encoder(accept)[1]
        formatted += new
        assert exposition.formatted() == formatted, step


def test_scrapes_from_several_threads_each_get_one_published_state_whole() -> None:
    states = [state for _, state, _ in step_by_step()]
    bodies = {Exposition(SnapshotBox(state))(OPENMETRICS)[0] for state in states}
    box = SnapshotBox(states[0])
    exposition = Exposition(box, block=3)
    seen: list[bytes] = []

    def scrape() -> None:
        for i in range(40):
            body = exposition(OPENMETRICS, gzip=i % 2 == 1)[0]
            seen.append(zlib.decompress(body, zlib.MAX_WBITS | 16) if i % 2 else body)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # let the threads change hands within a scrape
    try:
        threads = [threading.Thread(target=scrape) for _ in range(4)]
        for thread in threads:
            thread.start()
        for i in range(200):
            box.update(core=states[i % len(states)].core)
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(seen) == 160
    assert all(body in bodies for body in seen)


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
