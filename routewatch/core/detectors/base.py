"""The ``Detector`` protocol and the ``DETECTORS`` registry: every kind of detection the core runs.

The engine applies routes, keeps sessions, visibility and timers, and asks
each registered detector, in registry order, to judge what changed; it names
no detector. A detector keeps its own state (flagged peers, open
detections), reads the engine through :class:`CoreView`, and answers in
:class:`DetectionChange` values (opened or closed, with evidence), which the
daemon logs and the snapshot lists.

How to add a detector (RPKI-invalid, neighbour/path, new-prefix, ...):

1. A module here, ``routewatch/core/detectors/<name>.py``, with one class
   following :class:`Detector`:

   - ``scope``: ``Scope.ROUTES`` to be asked about every announced prefix at
     or under a watched prefix when some peers' routes change (most kinds:
     judge those peers' paths with ``view.table.peer_unicast_paths``), or
     ``Scope.VISIBILITY`` to be asked about a watched prefix whenever its
     visibility counts may have changed;
   - ``kinds``: the :class:`DetectionKind` values it opens (a new kind is
     one more member of that enum, in ``routewatch/core/detection.py``);
   - ``engaged(view)``: False while judging could change nothing (nothing
     configured for it to look for, no VRP set yet, nothing open or
     flagged); the engine then skips it for the whole batch, so a detector
     nobody configured costs nothing per update;
   - ``judge(prefix, watched, exact, peers, view)``: open, keep or close
     detections at ``prefix`` (``watched`` covers it, ``exact`` says whether
     it is that prefix itself; ``peers`` are the peers whose routes changed,
     None for all of them), returning the changes; ``view.schedule`` asks
     to be judged again at a later data time;
   - ``status(watched, view)``: the fields it adds to that watched prefix's
     :class:`PrefixStatus` (an empty dict when it adds none; a new gauge is
     a field with a default there plus its line in the exporter);
   - ``open_detections(view)`` and ``restore(detections)``: what persists. A
     restart saves the open detections and hands each back to the detector
     whose ``kinds`` name it; the routes are then judged again, so
     detections stay open without being opened twice.

   Per-peer flagging under a watched prefix (origin, more-specific) is
   already written once in ``flagged.py``: a detector of that shape
   subclasses :class:`FlaggingDetector` and says which paths are suspect.
2. One line in ``DETECTORS`` below. Its constructor takes the
   :class:`CoreSettings`.

Nothing else changes: the engine, the snapshot, persistence (open
detections of every kind but withdrawal are saved as ``anomalies``; the
state file's schema accepts any :class:`DetectionKind`) and the detection
log iterate the registry. Two things stay outside the file by design: data
from outside the core (an RPKI detector's validated ROA payloads) is handed
to ``engine.detectors[name]`` by the daemon, since the core does no I/O;
and a new per-prefix gauge is a field of :class:`PrefixStatus` plus its line
in the exporter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from routewatch.core.detection import Detection, DetectionChange, DetectionKind
from routewatch.core.detectors.more_specific import MoreSpecificDetector
from routewatch.core.detectors.neighbor import NeighborDetector
from routewatch.core.detectors.new_prefix import NewPrefixDetector
from routewatch.core.detectors.origin import OriginDetector
from routewatch.core.detectors.path import PathRuleDetector
from routewatch.core.detectors.rpki_coverage import RpkiCoverageDetector
from routewatch.core.detectors.rpki_invalid import RpkiInvalidDetector
from routewatch.core.detectors.rpki_roa_change import RpkiRoaChangeDetector
from routewatch.core.detectors.view import CoreView, Scope
from routewatch.core.detectors.withdrawal import WithdrawalDetector
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import Prefix


class Detector(Protocol):
    """One kind of detection, judged incrementally from what changed (see the module docstring)."""

    @property
    def scope(self) -> Scope: ...

    @property
    def kinds(self) -> frozenset[DetectionKind]: ...

    def engaged(self, view: CoreView) -> bool: ...

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[DetectionChange]: ...

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]: ...

    def open_detections(self, view: CoreView) -> Iterable[Detection]: ...

    def restore(self, detections: Iterable[Detection]) -> None: ...


#: Every detector the core runs, by name, in the order they judge a batch.
DETECTORS: dict[str, Callable[[CoreSettings], Detector]] = {
    "withdrawal": WithdrawalDetector,
    "origin": OriginDetector,
    "more-specific": MoreSpecificDetector,
    "neighbor": NeighborDetector,
    "path": PathRuleDetector,
    "new-prefix": NewPrefixDetector,
    "rpki-invalid": RpkiInvalidDetector,
    "rpki-coverage": RpkiCoverageDetector,
    "rpki-roa-change": RpkiRoaChangeDetector,
}
