"""Interned AS paths are freed once no route holds them: a peer sending ever new long paths costs one path."""

from __future__ import annotations

from routewatch.core.table import RouteTable
from tests.support.events import announce, peer

PREFIX = "10.0.0.0/8"


def test_replaced_paths_are_swept_and_held_ones_kept() -> None:
    table = RouteTable()
    table.announce(announce(0, peer(2), PREFIX, (64502, 32934)))
    for n in range(20_000):
        table.announce(announce(n, peer(1), PREFIX, (64501, *range(n % 50 + 1), n)))
    assert len(table._paths) <= 2 * 4096  # swept: only the two paths in use survive each sweep
    assert (64502, 32934) in table._paths
    assert table.peer_unicast_paths(table.prefixes().__next__(), 1) == [(64501, *range(19_999 % 50 + 1), 19_999)]
