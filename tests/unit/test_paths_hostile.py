"""Hostile input to the path detectors: 100,000 distinct forged paths from one peer add no series, bounded memory.

Two floods: forged upstreams of a watched prefix (each path names a new AS
left of the origin), and routes of ever new prefixes through a watched AS with
declared downstreams, each through a new undeclared customer (each would be a
carried prefix, but the AS's ``max_prefixes`` is reached first). Series are
counted in the exporter's output; memory is what ``tracemalloc`` sees grow
between the first 10,000 and the full 100,000 paths, so the second 90,000 may
add no more than a fixed allowance, whatever the machine's speed. Allocations
made in ``routewatch.model`` are left out and the prefix interning table is
purged before each measurement: it keeps dead entries until it has doubled (at
least 65,536 of them, more after earlier tests in the same process), a bound of
its own, and their keys hold the network numbers the test made (32 bytes each),
which would otherwise pass for a leak of the path detectors.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import routewatch.model
from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import DetectionKind
from routewatch.core.engine import Engine
from routewatch.exporter.state import ExportState, ProcessStatus
from routewatch.model import IPv4Prefix, RouteAnnouncement, intern_prefix
from tests.support.events import announce, peer
from tests.support.metrics import samples, scrape

P = "129.134.30.0/23"
ORIGIN = 32934
CARRIER = 65000
CUSTOMER = 64501
FLOOD = 100_000
WARM = 10_000
ALLOWANCE = 2 << 20
"""Bytes the last 90,000 forged paths may add: a few evidence samples and counters, not one entry per path."""

CONFIG = {
    "prefixes": [{"prefix": P, "asn": ORIGIN, "upstreams": [174, 3356]}],
    "asns": [{"asn": CARRIER, "downstreams": [CUSTOMER], "max_prefixes": 50}],
}


def series(m: Engine) -> int:
    text = scrape(ExportState(ProcessStatus("t", True, 1.0, ()), core=m.snapshot()))
    return sum(1 for name, _ in samples(text) if name.startswith("routewatch_bgp_"))


def growth(m: Engine, forged: Callable[[int], RouteAnnouncement]) -> tuple[int, int]:
    """Bytes still held after forged paths WARM..FLOOD over what was held after the first WARM, and the series
    exported after the first WARM."""
    def flood(first: int, last: int) -> None:
        for n in range(first, last):
            m.apply(forged(n))
        m.flush()

    flood(0, WARM)
    warm_series = series(m)
    gc.collect()
    tracemalloc.start()
    try:
        before = held()
        flood(WARM, FLOOD)
        gc.collect()
        return held() - before, warm_series
    finally:
        tracemalloc.stop()


def held() -> int:
    """Bytes traced now, except those allocated in routewatch.model (the interning table; see the docstring)."""
    routewatch.model._INTERNED.purge()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, routewatch.model.__file__)])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def test_forged_upstreams_of_a_watched_prefix_add_no_series_and_bounded_memory() -> None:
    m = build_engine(parse_config(CONFIG))
    m.apply_all(announce(0, peer(i), P, (64500 + i, 174, ORIGIN)) for i in range(5))
    prefix = intern_prefix(IPv4Prefix(P))
    hostile = (peer(1), peer(2))  # two peers, so that the detection opens (anomaly_min_peers)
    grew, warm_series = growth(m, lambda n: RouteAnnouncement(100.0 + n, hostile[n % 2], prefix,
                                                    (64501 + n % 2, 100_000 + n, ORIGIN)))
    (detection,) = [d for d in m.open_detections() if d.kind is DetectionKind.NEIGHBOR]
    assert detection.evidence["neighbors"] == [100_000, 100_001]  # as opened: evidence is not rewritten per path
    assert len(detection.evidence["sample_paths"]) <= 3
    assert series(m) == warm_series  # the detection's own series came with the first forged paths; none since
    assert grew < ALLOWANCE, f"{grew} bytes"


def test_leaks_of_ever_new_prefixes_through_a_carrier_stop_at_its_cap_with_bounded_memory() -> None:
    m = build_engine(parse_config(CONFIG))
    m.apply_all(announce(0, peer(i), P, (64500 + i, 174, ORIGIN)) for i in range(5))
    hostile = peer(1)

    def leak(n: int) -> RouteAnnouncement:  # 10.0.0.0/24, 10.0.1.0/24, ...: prefixes nobody watches
        prefix = intern_prefix(IPv4Prefix((0x0A000000 + (n << 8), 24)))
        return RouteAnnouncement(100.0 + n, hostile, prefix, (64501, CARRIER, 100_000 + n, CUSTOMER))

    grew, warm_series = growth(m, leak)
    assert len(m.watch) == 1 + 50  # the configured prefix and the carrier's cap
    assert series(m) == warm_series
    assert len(exported_prefixes(m)) == 1 + 50
    assert 0 < m.watch.asn_over_cap[CARRIER] <= FLOOD - 50
    assert grew < ALLOWANCE, f"{grew} bytes"


def exported_prefixes(m: Engine) -> set[str]:
    text = scrape(ExportState(ProcessStatus("t", True, 1.0, ()), core=m.snapshot()))
    return {dict(labels)["prefix"] for name, labels in samples(text) if dict(labels).get("prefix")}
