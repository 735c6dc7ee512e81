"""What a detector may read from the engine, and where in the engine's cycle it is asked.

Kept apart from ``base`` (which imports every detector for the registry) so
that a detector module imports only this one and never the registry.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from typing import Protocol

from routewatch.core.more_specifics import MoreSpecificCap
from routewatch.core.rpki import VrpTracker
from routewatch.core.table import RouteTable
from routewatch.core.visibility import Exclusion, VisibilityTracker
from routewatch.core.watch import WatchedPrefix
from routewatch.model import Prefix


class Scope(enum.StrEnum):
    """Which prefixes a detector judges.

    ``routes``: every announced prefix at or under a watched prefix, whenever
    some peers' routes for it change (``peers``: those peers; None: all of
    them, after a change that affects everyone, such as a collector going
    stale). ``visibility``: each watched prefix whose visibility counts may
    have changed (a route, a session, a collector, or time alone), after the
    ``routes`` detectors of the same batch.
    """

    ROUTES = "routes"
    VISIBILITY = "visibility"


class CoreView(Protocol):
    """The engine as a detector sees it: read-only state plus a timer.

    ``visibility`` holds the per-watched-prefix counts against the baseline;
    ``exclusion`` says which peers must not count now; ``rpki`` the VRP set
    and its last change; ``unknown`` whether a
    watched prefix can be judged at all (no trustworthy collector, or never
    seen before a snapshot loaded).
    """

    @property
    def now(self) -> float: ...

    @property
    def table(self) -> RouteTable: ...

    @property
    def visibility(self) -> dict[Prefix, VisibilityTracker]: ...

    @property
    def exclusion(self) -> Exclusion: ...

    @property
    def more_specifics(self) -> MoreSpecificCap:
        """More-specifics tracked per watched prefix, and how many announcements were refused beyond the cap."""
        ...

    @property
    def rpki(self) -> VrpTracker:
        """The VRP set routes are validated against (its ``index`` is None before the first set)."""
        ...

    def stale(self, peer: int, watched: WatchedPrefix | None = None) -> bool:
        """Is ``peer``'s collector untrustworthy right now, or the peer excluded by configuration (everywhere,
        or at ``watched`` and under it)? Its routes then count for nothing."""
        ...

    def unknown(self, tracker: VisibilityTracker) -> bool: ...

    def schedule(self, due: float, prefix: Prefix | None, key: Hashable | None = None) -> None:
        """Judge ``prefix`` again at data time ``due`` even if nothing arrives (a hold-down's end).

        A timer given a ``key`` replaces the one scheduled before under it
        (a time that moves keeps one timer, not one per move).
        """
        ...
