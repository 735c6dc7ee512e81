"""Reading a prefix's baseline (the JSON API's detail, a nameserver address, a snapshot) never changes its judging.

Young holders mature with time alone; the sweep finds the prefixes where that
is due and re-judges them. A reader that counted the baseline in between must
not move the deadline the sweep looks at, or the prefix would keep its young
status until a route changes.
"""

from __future__ import annotations

from ipaddress import ip_address

from routewatch.core.engine import Engine
from routewatch.core.prefix_detail import prefix_detail
from routewatch.model import parse_prefix
from tests.unit.test_core_rpki import OWN, P, announce_from, monitor, status

MATURE = 400.0  # announced at 100, min_hold 300


def young_then(read: str) -> Engine:
    m = monitor(P, rpki=False)
    m.advance(1)
    announce_from(m, 100, P, OWN)
    m.advance(MATURE - 1)
    assert status(m).baseline_peers == 0
    m.advance(MATURE + 1)
    if read == "detail":
        detail = prefix_detail(m, parse_prefix(P))
        assert detail is not None and sum(c.baseline_peers for c in detail.collectors) == 5
    elif read == "address":
        m.add_address(ip_address("193.0.0.53"))
        m.flush()
    elif read == "snapshot":
        status(m)
    m.advance(MATURE + 60)  # the next sweep
    return m


def test_without_a_reader_the_sweep_matures_the_baseline() -> None:
    s = status(young_then("nothing"))
    assert (s.baseline_peers, s.state.value) == (5, "visible")


def test_the_prefix_detail_leaves_the_sweep_its_work() -> None:
    s = status(young_then("detail"))
    assert (s.baseline_peers, s.state.value) == (5, "visible")


def test_a_nameserver_address_counting_the_baseline_leaves_the_sweep_its_work() -> None:
    s = status(young_then("address"))
    assert (s.baseline_peers, s.state.value) == (5, "visible")


def test_a_snapshot_between_maturing_and_the_sweep_leaves_the_sweep_its_work() -> None:
    s = status(young_then("snapshot"))
    assert (s.baseline_peers, s.state.value) == (5, "visible")
