"""Peers and collectors changing standing: what a session or collector event makes the engine judge again.

A session going down drops its peer's routes; one coming back settles before
it counts. A collector going stale or fresh changes only whether *its* peers
count: the prefixes holding their routes and the visibility trackers they
take part in are judged again, nothing else. So a feed naming thousands of
collectors that never sent a route costs nothing here, and a real collector's
staleness costs one scan of the table, not a re-judgement of every route. Only
when the last trustworthy collector goes (or the first comes back) does every
watched prefix change, between known and unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from routewatch.core.judging import Judging
from routewatch.core.nameservers import Nameservers
from routewatch.core.past_holders import PastHolders
from routewatch.core.sessions import PeerSessions
from routewatch.core.settings import CoreSettings
from routewatch.core.table import RouteTable
from routewatch.core.visibility import Exclusion, VisibilityTracker
from routewatch.core.watch import WatchSet
from routewatch.model import FeedState, PeerStateChange, Prefix, SourceStatus


class _StandingOwner(Protocol):
    """What standing changes read from the engine and mark in it."""

    now: float
    settings: CoreSettings
    table: RouteTable
    watch: WatchSet
    sessions: PeerSessions
    visibility: dict[Prefix, VisibilityTracker]
    exclusion: Exclusion
    judging: Judging
    nameservers: Nameservers
    past: PastHolders
    dirty: set[Prefix]

    def schedule(self, due: float, prefix: Prefix | None) -> None: ...


class Standing:
    """Applies session and collector events to the engine's state, marking what they touch."""

    def __init__(self, owner: _StandingOwner) -> None:
        self._owner = owner
        self.rejudged = 0
        """Prefixes marked in bulk for judging again (tests and benchmarks count this work rather than time it)."""

    def session(self, event: PeerStateChange) -> None:
        owner = self._owner
        peer = owner.table.peer_index(event.peer)
        owner.sessions.known_collectors.add(event.peer.collector)
        if event.established:
            until = event.time if event.table_complete else event.time + owner.settings.peer_settle
            owner.schedule(until, None)
            if owner.sessions.came_up(peer, until):
                self.peers_changed({peer})
            return
        if not owner.sessions.went_down(peer):
            return
        for prefix in owner.table.drop_peer(event.peer):
            watched = owner.watch.covering_prefix(prefix)
            if watched is not None:
                if watched.prefix == prefix:
                    owner.visibility[prefix].set_holding(peer, False, owner.now, owner.exclusion)
                else:
                    owner.past.set_holding(watched, prefix, peer, False, owner.now, owner.exclusion)
                owner.judging.mark(prefix, peer)
            owner.nameservers.touch_under(prefix)
        self.peers_changed({peer})

    def source(self, event: SourceStatus) -> None:
        """A collector went stale or came back: judge again what its peers' standing touches."""
        owner, collector = self._owner, event.collector
        if collector is None:
            return
        all_stale = owner.sessions.all_stale()
        if not owner.sessions.collector_fresh(collector, event.state is FeedState.UP):
            return
        if owner.sessions.all_stale() != all_stale:  # every watched prefix turns unknown, or known again
            self.everything()
            return
        peers = owner.table.peers_of(collector)
        if peers:
            self.peers_changed(peers)
            self.mark_routes(owner.table.prefixes_held_by(peers))

    def everything(self) -> None:
        """Judge every route and every watched prefix again (new VRPs, restored state, all collectors stale)."""
        owner = self._owner
        for tracker in owner.visibility.values():
            tracker.invalidate()
        owner.dirty.update(owner.visibility)
        owner.nameservers.touch_all()
        self.mark_routes(owner.table.prefixes())

    def mark_routes(self, prefixes: Iterable[Prefix]) -> None:
        """Judge every peer's routes at those of ``prefixes`` under a watched prefix."""
        owner = self._owner
        covered = [p for p in prefixes if owner.watch.covering_prefix(p) is not None]
        self.rejudged += len(covered)
        owner.judging.mark_all(covered)

    def peers_changed(self, peers: Iterable[int]) -> None:
        """Whether ``peers`` count changed (session down, settled, collector trust): recount where they take part."""
        peers = set(peers)
        if not peers:
            return
        owner = self._owner
        for prefix, tracker in owner.visibility.items():
            if tracker.involves(peers):
                tracker.invalidate()
                owner.dirty.add(prefix)
        owner.nameservers.touch_all()
