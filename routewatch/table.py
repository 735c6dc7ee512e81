"""Per-peer route state for the prefixes routewatch cares about.

A route is keyed by (peer session, SAFI, prefix, ADD-PATH path id), as the
routers themselves key it. Visibility is derived from this state, never from
counting withdrawal messages: a peer that never sent a withdrawal but lost
its session has no route, and a peer that withdrew and re-announced has one.

Memory matters (a full table is ~1M prefixes x hundreds of peers): peers are
interned to small ints, a route is one dict entry from a packed int key to an
interned AS path, so a route costs about one dict slot and no object of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .model import AsPath, Peer, Prefix, RouteAnnouncement, RouteWithdrawal, Safi

_PATH_ID_BITS = 32
_SAFI_BITS = 8


def route_key(peer_index: int, safi: int, path_id: int) -> int:
    """Pack (peer, SAFI, path id) into one int: cheap to hash, no tuple per route."""
    return (((peer_index << _SAFI_BITS) | (safi & 0xFF)) << _PATH_ID_BITS) | (path_id & 0xFFFFFFFF)


def key_peer(key: int) -> int:
    return key >> (_PATH_ID_BITS + _SAFI_BITS)


def key_safi(key: int) -> int:
    return (key >> _PATH_ID_BITS) & 0xFF


def key_path_id(key: int) -> int:
    return key & 0xFFFFFFFF


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
        self._routes: dict[Prefix, dict[int, AsPath]] = {}
        self._prefixes_of_peer: dict[int, set[Prefix]] = {}
        self._paths: dict[AsPath, AsPath] = {}
        self._add_path_peers: set[int] = set()

    def peer_index(self, peer: Peer) -> int:
        index = self._peer_index.get(peer)
        if index is None:
            index = len(self.peers)
            self.peers.append(peer)
            self._peer_index[peer] = index
            self._prefixes_of_peer[index] = set()
        return index

    def intern_path(self, path: AsPath) -> AsPath:
        return self._paths.setdefault(path, path)

    # -- updates ------------------------------------------------------------------

    def announce(self, event: RouteAnnouncement) -> int:
        """Store the route; returns the peer index."""
        index = self.peer_index(event.peer)
        routes = self._routes.get(event.prefix)
        if routes is None:
            routes = self._routes[event.prefix] = {}
        routes[route_key(index, event.safi, event.path_id)] = self.intern_path(event.as_path)
        if event.path_id:
            self._add_path_peers.add(index)
        self._prefixes_of_peer[index].add(event.prefix)
        return index

    def restore_route(self, prefix: Prefix, key: int, path: AsPath) -> None:
        """Put back a saved route (state restore)."""
        self._routes.setdefault(prefix, {})[key] = self.intern_path(path)
        if key_path_id(key):
            self._add_path_peers.add(key_peer(key))
        self._prefixes_of_peer[key_peer(key)].add(prefix)

    def withdraw(self, event: RouteWithdrawal) -> int:
        """Drop the route if present; returns the peer index."""
        index = self.peer_index(event.peer)
        routes = self._routes.get(event.prefix)
        if routes is not None:
            routes.pop(route_key(index, event.safi, event.path_id), None)
            if not any(key_peer(k) == index for k in routes):
                self._prefixes_of_peer[index].discard(event.prefix)
            if not routes:
                del self._routes[event.prefix]
        return index

    def drop_peer(self, peer: Peer) -> set[Prefix]:
        """A session went down: every route of the peer goes. Returns the prefixes touched."""
        index = self.peer_index(peer)
        touched = self._prefixes_of_peer[index]
        self._prefixes_of_peer[index] = set()
        for prefix in touched:
            routes = self._routes.get(prefix)
            if routes is None:
                continue
            for key in [k for k in routes if key_peer(k) == index]:
                del routes[key]
            if not routes:
                del self._routes[prefix]
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
        """One peer's unicast paths for ``prefix``: a lookup, unless the peer uses ADD-PATH."""
        routes = self._routes.get(prefix)
        if not routes:
            return []
        if peer not in self._add_path_peers:
            path = routes.get(route_key(peer, Safi.UNICAST, 0))
            return [path] if path is not None else []
        return [p for k, p in routes.items() if key_peer(k) == peer and key_safi(k) == Safi.UNICAST]

    def routes(self, prefix: Prefix) -> Iterator[Route]:
        for key, path in self._routes.get(prefix, {}).items():
            yield Route(self.peers[key_peer(key)], prefix, path, key_safi(key), key_path_id(key))

    def prefixes(self) -> Iterator[Prefix]:
        return iter(list(self._routes))

    def prefixes_within(self, prefix: Prefix) -> list[Prefix]:
        """Known prefixes at or under ``prefix`` (a scan: for one-off queries, not the hot path)."""
        return [p for p in self._routes if p.version == prefix.version and p.subnet_of(prefix)]  # type: ignore[arg-type]

    def route_count(self) -> int:
        return sum(len(routes) for routes in self._routes.values())

    def __contains__(self, prefix: Prefix) -> bool:
        return prefix in self._routes
