"""Per-peer route state for the prefixes routewatch cares about.

A route is keyed by (peer session, SAFI, prefix, ADD-PATH path id), as the
routers themselves key it. Visibility is derived from this state, never from
counting withdrawal messages: a peer that never sent a withdrawal but lost
its session has no route, and a peer that withdrew and re-announced has one.

Memory matters (a full table is ~1M prefixes x hundreds of peers): peers are
interned to small ints, a route is one dict entry from the peer's own index
object (or a packed int for multicast and ADD-PATH) to an interned AS path, so a
route costs about one dict slot and no object of its own. There is no reverse
index from peer to prefixes: a session reset scans the tracked prefixes, which
is rare and cheap next to carrying an index entry for every route.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from routewatch.model import AsPath, Peer, Prefix, RouteAnnouncement, RouteWithdrawal, Safi, origin_asns

_PATH_ID_BITS = 32
_SAFI_BITS = 8
_PACKED = 1 << 62
#: Most distinct AS paths kept for sharing; past it sharing starts again (a feed of ever new paths
#: cannot grow the table's memory beyond its routes').
_PATHS_LIMIT = 1 << 20
#: Fewest distinct paths before the first sweep of those no route holds.
_PATHS_SWEEP_MIN = 1 << 12
#: Fewest hops in the kept paths before a sweep: ever new 10,000-hop paths cost ~385 KB each, so their
#: number alone would let a few thousand of them hold over a GB before the first sweep.
_HOPS_SWEEP_MIN = 1 << 20
_SWEPT_REFS = 4


def route_key(peer_index: int, safi: int, path_id: int) -> int:
    """One int naming (peer, SAFI, path id) within a prefix.

    The common case (unicast, no ADD-PATH) is the peer index itself, an int
    object shared by every route of the peer, so such a route allocates
    nothing but its dict slot. Other routes pack all three above bit 62.
    """
    if safi == Safi.UNICAST and not path_id:
        return peer_index
    return _PACKED | (((peer_index << _SAFI_BITS) | (safi & 0xFF)) << _PATH_ID_BITS) | (path_id & 0xFFFFFFFF)


def key_peer(key: int) -> int:
    return key if key < _PACKED else (key ^ _PACKED) >> (_PATH_ID_BITS + _SAFI_BITS)


def key_safi(key: int) -> int:
    return Safi.UNICAST if key < _PACKED else (key >> _PATH_ID_BITS) & 0xFF


def key_path_id(key: int) -> int:
    return 0 if key < _PACKED else key & 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Route:
    """One route as a query returns it."""

    peer: Peer
    prefix: Prefix
    as_path: AsPath
    safi: int
    path_id: int


class RouteTable:
    """Routes by prefix and peer; sessions; nothing about time or thresholds."""

    def __init__(self) -> None:
        self.peers: list[Peer] = []
        self._peer_index: dict[Peer, int] = {}
        self._by_collector: dict[str, set[int]] = {}
        self._routes: dict[Prefix, dict[int, AsPath]] = {}
        self._paths: dict[AsPath, AsPath] = {}
        self._sweep_at = _PATHS_SWEEP_MIN
        self._hops = 0
        self._sweep_hops_at = _HOPS_SWEEP_MIN
        self._packed_peers: set[int] = set()
        self.dropped_prefixes = 0
        """How many times a prefix lost its last route: whoever keeps sets of held prefixes can tell when to prune."""

    def peer_index(self, peer: Peer) -> int:
        index = self._peer_index.get(peer)
        if index is None:
            index = len(self.peers)
            self.peers.append(peer)
            self._peer_index[peer] = index
            self._by_collector.setdefault(peer.collector, set()).add(index)
        return index

    def peers_of(self, collector: str) -> frozenset[int]:
        """Indexes of the peers seen through ``collector`` (none for a collector that only sent keepalives)."""
        return frozenset(self._by_collector.get(collector, ()))

    def intern_path(self, path: AsPath) -> AsPath:
        """One tuple per distinct path, shared by every route with it (bounded: see ``_PATHS_LIMIT``)."""
        found = self._paths.get(path)
        if found is None:
            if len(self._paths) >= min(self._sweep_at, _PATHS_LIMIT) or self._hops >= self._sweep_hops_at:
                self._sweep_paths()
            found = self._paths[path] = path
            self._hops += len(path)
        return found

    def _sweep_paths(self) -> None:
        """Forget paths no route holds any more, so replaced paths are freed (tuples cannot be weakly held).

        A path only this table's dict holds has four references while it is
        looked at (key and value, the loop and the call). Sweeping when the
        dict (or the hops in it) has doubled since the last sweep keeps the
        cost amortised constant and the dict at most twice the paths (and
        hops) in use.
        """
        held = {path: path for path in self._paths if sys.getrefcount(path) > _SWEPT_REFS}
        self._paths = held if len(held) < _PATHS_LIMIT else {}  # all still in use: sharing starts again
        self._sweep_at = max(_PATHS_SWEEP_MIN, 2 * len(self._paths))
        self._hops = sum(map(len, self._paths))
        self._sweep_hops_at = max(_HOPS_SWEEP_MIN, 2 * self._hops)

    # -- updates ------------------------------------------------------------------

    def announce(self, event: RouteAnnouncement) -> int:
        """Store the route; returns the peer index."""
        index = self.peer_index(event.peer)
        routes = self._routes.get(event.prefix)
        if routes is None:
            routes = self._routes[event.prefix] = {}
        key = route_key(index, event.safi, event.path_id)
        routes[key] = self.intern_path(event.as_path)
        if key is not index:
            self._packed_peers.add(index)
        return index

    def restore_route(self, prefix: Prefix, key: int, path: AsPath) -> None:
        """Put back a saved route (state restore)."""
        peer = key_peer(key)
        self._routes.setdefault(prefix, {})[route_key(self.peer_index(self.peers[peer]), key_safi(key),
                                                      key_path_id(key))] = self.intern_path(path)
        if key >= _PACKED:
            self._packed_peers.add(peer)

    def withdraw(self, event: RouteWithdrawal) -> int:
        """Drop the route if present; returns the peer index."""
        index = self.peer_index(event.peer)
        routes = self._routes.get(event.prefix)
        if routes is not None:
            routes.pop(route_key(index, event.safi, event.path_id), None)
            if not routes:
                del self._routes[event.prefix]
                self.dropped_prefixes += 1
        return index

    def drop_peer(self, peer: Peer) -> set[Prefix]:
        """A session went down: every route of the peer goes. Returns the prefixes touched."""
        index = self.peer_index(peer)
        touched: set[Prefix] = set()
        packed = index in self._packed_peers
        for prefix, routes in list(self._routes.items()):
            if packed:
                keys = [k for k in routes if key_peer(k) == index]
            else:
                keys = [index] if index in routes else []
            if not keys:
                continue
            touched.add(prefix)
            for key in keys:
                del routes[key]
            if not routes:
                del self._routes[prefix]
                self.dropped_prefixes += 1
        return touched

    # -- queries ------------------------------------------------------------------

    def raw_routes(self, prefix: Prefix) -> dict[int, AsPath]:
        """The packed-key routes of a prefix (read-only by convention)."""
        return self._routes.get(prefix, {})

    def unicast_paths_by_peer(self, prefix: Prefix) -> dict[int, list[AsPath]]:
        """Peer index -> its unicast paths for ``prefix`` (several with ADD-PATH)."""
        result: dict[int, list[AsPath]] = {}
        for key, path in self._routes.get(prefix, {}).items():
            if key_safi(key) == Safi.UNICAST:
                result.setdefault(key_peer(key), []).append(path)
        return result

    def peer_unicast_paths(self, prefix: Prefix, peer: int) -> list[AsPath]:
        """One peer's unicast paths for ``prefix``: one lookup, unless the peer has packed keys."""
        routes = self._routes.get(prefix)
        if not routes:
            return []
        if peer not in self._packed_peers:
            path = routes.get(route_key(peer, Safi.UNICAST, 0))
            return [path] if path is not None else []
        return [p for k, p in routes.items() if key_peer(k) == peer and key_safi(k) == Safi.UNICAST]

    def origin_counts(self, prefix: Prefix) -> Counter[int]:
        """How many unicast routes of ``prefix`` name each origin AS (an AS_SET counts each member)."""
        origins: Counter[int] = Counter()
        for key, path in self._routes.get(prefix, {}).items():
            if key_safi(key) == Safi.UNICAST:
                origins.update(origin_asns(path))
        return origins

    def routes(self, prefix: Prefix) -> Iterator[Route]:
        for key, path in self._routes.get(prefix, {}).items():
            yield Route(self.peers[key_peer(key)], prefix, path, key_safi(key), key_path_id(key))

    def prefixes(self) -> Iterator[Prefix]:
        return iter(list(self._routes))

    def prefixes_within(self, prefix: Prefix) -> list[Prefix]:
        """Known prefixes at or under ``prefix`` (a scan: for one-off queries, not the hot path)."""
        return [p for p in self._routes if p.version == prefix.version and p.subnet_of(prefix)]  # type: ignore[arg-type]

    def prefixes_held_by(self, peers: frozenset[int]) -> list[Prefix]:
        """Prefixes with a route from any of ``peers``: one scan, looking at whichever is fewer."""
        if not peers:
            return []
        if not peers.isdisjoint(self._packed_peers):
            return [p for p, routes in self._routes.items() if any(key_peer(k) in peers for k in routes)]
        return [p for p, routes in self._routes.items() if not routes.keys().isdisjoint(peers)]

    def route_count(self) -> int:
        return sum(len(routes) for routes in self._routes.values())

    def __contains__(self, prefix: Prefix) -> bool:
        return prefix in self._routes
