"""A new VRP set: every route under a watched prefix validated and judged again.

The core does no I/O, so the daemon (or a replay) hands it each VRP set as a
value. A set changes what every route's RPKI state is, and may engage the
RPKI detectors for the first time, so everything is judged, not only the
routes whose VRPs changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from routewatch.core.detection import Detection, DetectionChange
from routewatch.core.judging import Judging
from routewatch.core.rpki import VrpTracker
from routewatch.core.standing import Standing
from routewatch.core.table import RouteTable
from routewatch.core.visibility import VisibilityTracker
from routewatch.core.watch import WatchSet
from routewatch.model import Prefix
from routewatch.rpki.validation import VrpIndex
from routewatch.rpki.vrp import Vrp


class _Revalidated(Protocol):
    """What revalidation reads from the engine and marks in it."""

    watch: WatchSet
    table: RouteTable
    rpki: VrpTracker
    judging: Judging
    standing: Standing
    visibility: dict[Prefix, VisibilityTracker]
    dirty: set[Prefix]

    def flush(self) -> list[DetectionChange]: ...

    def open_detections(self) -> list[Detection]: ...


def revalidate(engine: _Revalidated, vrps: Iterable[Vrp] | VrpIndex) -> list[DetectionChange]:
    """Validate against ``vrps`` from now on: what the routes before did is judged first, then every route
    under a watched prefix (and every watched prefix's visibility) again."""
    changes = engine.flush()
    engine.rpki.update(vrps, engine.watch)
    engine.judging.reengage()  # a first set engages the RPKI detectors
    # The prefixes of open detections too: one restored before any set may name a route withdrawn since.
    engine.standing.mark_routes({*engine.table.prefixes(), *(d.prefix for d in engine.open_detections())})
    engine.dirty.update(engine.visibility)
    changes.extend(engine.flush())
    return changes
