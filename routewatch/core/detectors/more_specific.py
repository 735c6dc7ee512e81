"""Unexpected more-specifics: a route under a watched prefix, with an expected origin, that is not itself watched.

A more-specific from the right origin still takes traffic the watched prefix
should carry (a leak, a misconfigured de-aggregation, a route-optimiser); a
watched prefix says ``ignore_more_specifics`` where its owner announces them
on purpose. More-specifics with an unexpected origin are origin anomalies
(``origin.py``), not these.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.core.detection import DetectionKind
from routewatch.core.detectors.flagged import FlaggingDetector
from routewatch.core.detectors.view import CoreView
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix


class MoreSpecificDetector(FlaggingDetector):
    """Flags peers carrying an expected-origin path for a prefix strictly under a watched one."""

    kind: ClassVar[DetectionKind] = DetectionKind.MORE_SPECIFIC

    def applies(self, watched: WatchedPrefix, exact: bool) -> bool:
        return not exact and not watched.ignore_more_specifics

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        return watched.path_expected(path)

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        return any(map(watched.path_expected, paths))

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        return {"more_specific_peers": self.peers(watched)}
