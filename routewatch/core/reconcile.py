"""After a feed gap: which routes a fresh snapshot confirms, and which were withdrawn while disconnected.

A live feed cannot replay what it sent while disconnected. Routes the
snapshot confirms stay as they are (no double counting, no false
withdrawal); routes it lacks were withdrawn during the gap; routes only it
has were announced during the gap. :func:`reconcile` applies them to the
engine: the withdrawals first, then the snapshot's routes as established.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Protocol

from routewatch.core.detection import DetectionChange
from routewatch.core.table import RouteTable
from routewatch.model import Event, Peer, Prefix, RouteAnnouncement, RouteWithdrawal

Sessions = dict[tuple[Prefix, Peer], list[RouteAnnouncement]]


def by_session(routes: Iterable[RouteAnnouncement], collectors: set[str]) -> Sessions:
    """The snapshot's routes of ``collectors``' peers, by (prefix, peer)."""
    snapshot: Sessions = {}
    for route in routes:
        if route.peer.collector in collectors:
            snapshot.setdefault((route.prefix, route.peer), []).append(route)
    return snapshot


def missing_from(table: RouteTable, snapshot: Sessions, collectors: set[str], time: float
                 ) -> Iterator[RouteWithdrawal]:
    """Withdrawals, at ``time``, of the held routes of ``collectors``' peers that the snapshot lacks."""
    for prefix in table.prefixes():
        for held in list(table.routes(prefix)):
            if held.peer.collector in collectors and (prefix, held.peer) not in snapshot:
                yield RouteWithdrawal(time, held.peer, prefix, held.safi, held.path_id)


class _Reconciled(Protocol):
    """What reconciliation applies the snapshot to."""

    table: RouteTable

    def apply(self, event: Event, *, established: bool = False) -> list[DetectionChange]: ...

    def advance(self, now: float) -> list[DetectionChange]: ...

    def flush(self) -> list[DetectionChange]: ...


def reconcile(engine: _Reconciled, routes: Iterable[RouteAnnouncement], collectors: set[str], time: float
              ) -> list[DetectionChange]:
    """Make the routes of ``collectors``' peers in ``engine`` equal the snapshot ``routes``, at data ``time``."""
    snapshot = by_session(routes, collectors)
    changes = engine.advance(time)
    for withdrawal in missing_from(engine.table, snapshot, collectors, time):
        changes.extend(engine.apply(withdrawal))
    for announcements in snapshot.values():
        for route in announcements:
            changes.extend(engine.apply(replace(route, time=time), established=True))
    changes.extend(engine.flush())
    return changes
