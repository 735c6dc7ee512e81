"""Initial state, and state after a feed gap, from a snapshot: the core's side.

A filtered live feed only sends changes: a stable prefix sends nothing, so
without a snapshot its visibility is unknown (and reported so). Two snapshots
exist:

- MRT files: a RIB dump plus the update files since it, replayed through the
  core exactly as ``routewatch replay`` does (RIB routes join the baseline at
  once). Complete for the collectors in the files.
- a looking glass's answers (``routewatch.sources.looking_glass``): complete
  only for the prefixes it confirms.

The same :func:`apply_snapshot` serves bootstrap and reconciliation after a
gap: routes the snapshot confirms stay (nothing is counted twice), routes it
lacks are withdrawn, routes only it has are added as established.

The live source buffers its messages from the moment of connecting and hands
them over after the snapshot (``routewatch.sources.session``), so nothing sent
while the snapshot loads is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.model import RouteAnnouncement
from routewatch.sources.base import RouteSnapshot
from routewatch.sources.clock_guard import CLOCK_SKEW_TOLERANCE
from routewatch.tools.replay import ReplayReport, replay_files

log = logging.getLogger(__name__)


def apply_snapshot(monitor: Engine, snapshot: RouteSnapshot) -> list[DetectionChange]:
    """Make the state of the snapshot's collectors equal the snapshot, at its time or later."""
    routes: list[RouteAnnouncement] = list(snapshot.routes)
    if snapshot.confirmed is not None:
        routes.extend(_unconfirmed_routes(monitor, snapshot))
    return monitor.reconcile(routes, set(snapshot.collectors), max(monitor.now, snapshot.time))


def _unconfirmed_routes(monitor: Engine, snapshot: RouteSnapshot) -> list[RouteAnnouncement]:
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


def bootstrap_from_mrt(monitor: Engine, files: Sequence[str], wall_clock: float | None = None) -> ReplayReport:
    """Replay a RIB dump and the update files since it into ``monitor`` (blocking).

    A live daemon passes ``wall_clock``: an element stamped further ahead of it
    than the clock-skew tolerance is judged at it, so a collector clock years
    ahead cannot move the core's data time past the live feed's for good.

    Damaged files make a degraded bootstrap, never a failed start: their good
    records are kept, the damage is logged with file and byte offset, and the
    caller exports it (``report.damaged``). Routes a damaged file would have
    given stay unknown until the live feed sends them.
    """
    report = replay_files(monitor, files, wall_clock=wall_clock)
    for error in report.errors:
        log.error("bootstrap: %s", error)
    if report.skewed:
        log.error("bootstrap: %d element(s) stamped more than %.0f s ahead of the wall clock, judged at it "
                  "(a collector's clock is wrong)", report.skewed, CLOCK_SKEW_TOLERANCE)
    if report.damaged:
        log.error("bootstrap degraded: %s", report.damage_summary())
    return report
