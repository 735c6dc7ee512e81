"""Initial state, and state after a feed gap, from a snapshot.

A filtered live feed only sends changes: a stable prefix sends nothing, so
without a snapshot its visibility is unknown (and reported so). Two snapshots
exist:

- MRT files: a RIB dump plus the update files since it, replayed through the
  core exactly as ``routewatch replay`` does (RIB routes join the baseline at
  once). Complete for the collectors in the files.
- RIPEstat's looking glass: one question per watched prefix (matched exactly)
  and per nameserver address (the route covering it). It confirms only what
  was asked: more-specifics it cannot show are kept as the live feed left
  them, rather than withdrawn on the looking glass's silence.

The same :func:`apply_snapshot` serves bootstrap and reconciliation after a
gap: routes the snapshot confirms stay (nothing is counted twice), routes it
lacks are withdrawn, routes only it has are added as established.

The caller buffers live messages from the moment of connecting and applies
them after the snapshot, so nothing sent while the snapshot loads is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.core.watch import WatchSet
from routewatch.errors import RipestatError
from routewatch.model import Prefix, RouteAnnouncement
from routewatch.tools.replay import ReplayReport, replay_files

log = logging.getLogger(__name__)


class LookingGlass(Protocol):
    """What routewatch needs of a looking glass (``routewatch.sources.ripestat.RipestatClient`` is one)."""

    async def looking_glass(self, resource: str) -> list[RouteAnnouncement]: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Routes of ``collectors`` at data time ``time``.

    ``confirmed`` lists the prefixes the snapshot speaks for; None means it is
    complete for its collectors (a RIB dump).
    """

    routes: tuple[RouteAnnouncement, ...]
    collectors: frozenset[str]
    time: float
    confirmed: frozenset[Prefix] | None = None
    failed: int = 0


async def looking_glass_snapshot(glass: LookingGlass, watch: WatchSet, collectors: frozenset[str],
                                 time: float) -> Snapshot:
    """Ask the looking glass about every watched prefix and nameserver address.

    The snapshot is timed at the newest answer's data time, at least ``time``
    (data time: the wall clock never enters the core).

    A question that fails leaves its prefix unconfirmed (kept as is) and is
    counted in ``failed``; one failure does not spoil the rest.
    """
    asked: list[tuple[str, Prefix | None]] = [(str(w.prefix), w.prefix) for w in watch]
    asked.extend((str(a), None) for a in watch.addresses)
    answers = await asyncio.gather(*(glass.looking_glass(resource) for resource, _ in asked),
                                   return_exceptions=True)
    routes: list[RouteAnnouncement] = []
    confirmed: set[Prefix] = set()
    failed = 0
    for (resource, prefix), answer in zip(asked, answers, strict=True):
        if isinstance(answer, BaseException):
            if not isinstance(answer, RipestatError | OSError | TimeoutError):
                raise answer
            failed += 1
            log.warning("looking glass: %s: %s", resource, answer)
            continue
        if prefix is not None:
            confirmed.add(prefix)
        for route in answer:
            confirmed.add(route.prefix)
            routes.append(route)
    newest = max((r.time for r in routes), default=time)
    return Snapshot(tuple(routes), collectors | {r.peer.collector for r in routes}, max(time, newest),
                    frozenset(confirmed), failed)


def apply_snapshot(monitor: Engine, snapshot: Snapshot) -> list[DetectionChange]:
    """Make the state of the snapshot's collectors equal the snapshot, at its time or later."""
    routes: list[RouteAnnouncement] = list(snapshot.routes)
    if snapshot.confirmed is not None:
        routes.extend(_unconfirmed_routes(monitor, snapshot))
    return monitor.reconcile(routes, set(snapshot.collectors), max(monitor.now, snapshot.time))


def _unconfirmed_routes(monitor: Engine, snapshot: Snapshot) -> list[RouteAnnouncement]:
    """The live state's routes for prefixes the snapshot did not speak for: kept as they are."""
    confirmed = snapshot.confirmed or frozenset()
    kept = []
    for prefix in monitor.table.prefixes():
        if prefix in confirmed:
            continue
        for route in monitor.table.routes(prefix):
            if route.peer.collector in snapshot.collectors:
                kept.append(RouteAnnouncement(snapshot.time, route.peer, prefix, route.as_path, route.safi,
                                              route.path_id))
    return kept


def bootstrap_from_mrt(monitor: Engine, files: Sequence[str]) -> ReplayReport:
    """Replay a RIB dump and the update files since it into ``monitor`` (blocking).

    Damaged files make a degraded bootstrap, never a failed start: their good
    records are kept, the damage is logged with file and byte offset, and the
    caller exports it (``report.damaged``). Routes a damaged file would have
    given stay unknown until the live feed sends them.
    """
    report = replay_files(monitor, files)
    for error in report.errors:
        log.error("bootstrap: %s", error)
    if report.damaged:
        log.error("bootstrap degraded: %s", report.damage_summary())
    return report
