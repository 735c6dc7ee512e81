"""Interned prefixes are shared while used and freed when not; the route table's shared AS paths are bounded."""

from __future__ import annotations

import gc
import ipaddress
import weakref

from routewatch import model
from routewatch.core import table as table_module
from routewatch.core.table import RouteTable
from routewatch.model import Peer, RouteAnnouncement, intern_prefix, parse_prefix


def test_an_interned_prefix_is_one_object_while_held() -> None:
    held = intern_prefix(ipaddress.ip_network("198.51.100.0/24"))
    assert intern_prefix(ipaddress.ip_network("198.51.100.0/24")) is held
    assert parse_prefix("198.51.100.0/24") is held


def test_an_interned_prefix_nothing_holds_is_freed() -> None:
    # A prefix no other test uses: parse_prefix's bounded cache and a replay's decoder may hold theirs.
    gone = weakref.ref(intern_prefix(ipaddress.ip_network("203.0.113.240/28")))
    gc.collect()
    assert gone() is None
    again = intern_prefix(ipaddress.ip_network("203.0.113.240/28"))
    assert again == ipaddress.ip_network("203.0.113.240/28") and type(again) is model.IPv4Prefix


def test_a_feed_of_ever_new_prefixes_does_not_grow_the_table() -> None:
    """Three purges' worth of prefixes, each dropped at once: the table stays within twice the purge size."""
    start = len(model._INTERNED)
    for i in range(3 * model._Interned.MIN_PURGE):
        intern_prefix(ipaddress.IPv6Network(((0x20010DB8 << 96) | (i << 64), 64)))
    assert len(model._INTERNED) <= max(2 * start, 2 * model._Interned.MIN_PURGE)


def test_the_route_tables_shared_paths_are_bounded(monkeypatch: object) -> None:
    monkeypatch.setattr(table_module, "_PATHS_LIMIT", 4)  # type: ignore[attr-defined]
    table = RouteTable()
    peer = Peer("rrc00", "192.0.2.1", 64500)
    prefix = parse_prefix("192.0.2.0/24")
    for n in range(10):
        table.announce(RouteAnnouncement(0.0, peer, prefix, (64500, 64600 + n)))
        assert len(table._paths) <= 4
    assert table.peer_unicast_paths(prefix, 0) == [(64500, 64609)]
    shared = table.intern_path((64500, 64609))
    assert table.intern_path((64500, 64609)) is shared


def test_ever_new_long_paths_are_swept_by_their_hops_not_only_their_number() -> None:
    """One peer re-announcing one prefix with ever new 10,000-hop paths: the table keeps a bounded number of hops."""
    table = RouteTable()
    peer = Peer("rrc00", "192.0.2.1", 64500)
    prefix = parse_prefix("192.0.2.0/24")
    for n in range(300):
        table.announce(RouteAnnouncement(0.0, peer, prefix, (*range(100_000 + n, 110_000 + n), 64500)))
        assert sum(map(len, table._paths)) <= table_module._HOPS_SWEEP_MIN + 10_001  # type: ignore[attr-defined]
    assert table.peer_unicast_paths(prefix, 0) == [(*range(100_299, 110_299), 64500)]
