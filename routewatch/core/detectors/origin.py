"""Origin anomalies (hijacks): a route at or under a watched prefix whose origin is not expected.

Exact or sub-prefix alike; an AS_SET origin is unexpected unless all its
members are expected. A peer is flagged when any of its unicast paths for the
prefix (several with ADD-PATH) ends at an unexpected origin.

The evidence says whether the hijack is RPKI-invalid too: networks that drop
invalids will not carry it, which makes it a different urgency.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.core.detection import DetectionKind
from routewatch.core.detectors.flagged import FlaggingDetector
from routewatch.core.detectors.rpki_invalid import rpki_evidence
from routewatch.core.detectors.view import CoreView
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix


class OriginDetector(FlaggingDetector):
    """Flags peers whose path for the prefix ends at an origin the watched prefix does not expect."""

    kind: ClassVar[DetectionKind] = DetectionKind.ORIGIN

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        return not watched.path_expected(path)

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        return not all(map(watched.path_expected, paths))

    def context(self, prefix: Prefix, suspect: list[AsPath], view: CoreView) -> dict[str, object]:
        return rpki_evidence(prefix, suspect, view.rpki)

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        return {"unexpected_origin_peers": self.peers(watched)}
