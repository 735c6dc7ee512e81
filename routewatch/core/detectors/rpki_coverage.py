"""ROA coverage: a watched prefix no VRP covers, and each watched prefix's own RPKI state.

A prefix without a ROA cannot be protected by origin validation (a hijack of
it is not-found, carried everywhere): ``rpki-not-covered`` is a ticket, not a
page. It is judged again only when the VRP set changed since the prefix was
last judged, so the common visibility judging costs one comparison.

The prefix's state (``routewatch_bgp_prefix_rpki_state``) is the prefix as
its expected origins would announce it: valid when one of them is, ``unknown``
before the first VRP set.

A detection restored after a restart or a reload stays open until the first
VRP set judges it; where no VRP source is configured any more, it closes,
saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from routewatch.core.detection import ChangeKind, ClosedReason, Detection, DetectionChange, DetectionKind, closed_for
from routewatch.core.detectors.view import CoreView, Scope
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import Prefix


class RpkiCoverageDetector:
    """Opens ``rpki-not-covered`` while no VRP covers a watched prefix; adds its RPKI state to its status."""

    scope: ClassVar[Scope] = Scope.VISIBILITY
    kinds: ClassVar[frozenset[DetectionKind]] = frozenset({DetectionKind.RPKI_NOT_COVERED})

    def __init__(self, settings: CoreSettings) -> None:
        self.enabled = settings.rpki
        self._judged: dict[Prefix, int] = {}  # watched prefix -> VRP generation it was last judged with
        self._open: dict[Prefix, Detection] = {}

    def engaged(self, view: CoreView) -> bool:
        """Once a VRP set is loaded, or while a restored detection waits for one (or to close without)."""
        return view.rpki.index is not None or bool(self._open)

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[DetectionChange]:
        rpki = view.rpki
        if rpki.index is None:  # only a restored detection can be open: it waits for the first set, if one will come
            restored = None if self.enabled else self._open.pop(prefix, None)
            return [] if restored is None else [closed_for(restored, ClosedReason.RPKI_NOT_CONFIGURED, view.now)]
        if self._judged.get(prefix) == rpki.generation:
            return []
        self._judged[prefix] = rpki.generation
        covered = next(rpki.index.packed_covering(prefix), None) is not None
        current, now = self._open.get(prefix), view.now
        if current is None and not covered:
            detection = self._open[prefix] = Detection(
                DetectionKind.RPKI_NOT_COVERED, prefix, prefix, start=now, description=watched.description,
                evidence={"expected_origins": sorted(watched.origins), "vrps": len(rpki.index)})
            return [DetectionChange(ChangeKind.OPENED, detection, now)]
        if current is not None and covered:
            del self._open[prefix]
            after = {**current.evidence, "covering_vrps": [str(vrp) for vrp in rpki.index.covering(prefix)]}
            return [DetectionChange(ChangeKind.CLOSED, current.closed(now, after), now)]
        return []

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        if not self.enabled and view.rpki.index is None:
            return {}
        tracker = view.visibility.get(watched)
        origins = tracker.watched.origins if tracker is not None else ()
        return {"rpki_state": view.rpki.watched_state(watched, origins).state}

    def open_detections(self, view: CoreView) -> Iterable[Detection]:
        return list(self._open.values())

    def restore(self, detections: Iterable[Detection]) -> None:
        """Kept open across a restart or a reload; judged again when the first VRP set arrives."""
        for d in detections:
            if d.kind is DetectionKind.RPKI_NOT_COVERED:
                self._open[d.prefix] = d
