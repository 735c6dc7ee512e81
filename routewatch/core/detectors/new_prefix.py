"""New prefixes: a watched AS originates a prefix nobody listed (BGPalerter's monitorASns alert).

Prefixes found in the data for a watched AS are watched as they appear (up to
the AS's cap); where the AS's policy says ``new_prefixes``, each one seen at
``anomaly_min_peers`` peers is also a ``new-prefix`` detection, closed when no
peer carries it any more. Configured prefixes are never new: they are listed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.core.detection import DetectionKind
from routewatch.core.detectors.flagged import FlaggingDetector
from routewatch.core.detectors.view import CoreView
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix

_DISCOVERED = "asn:"


class NewPrefixDetector(FlaggingDetector):
    """Flags peers carrying a discovered prefix of a watched AS whose policy alerts on new prefixes."""

    kind: ClassVar[DetectionKind] = DetectionKind.NEW_PREFIX

    def __init__(self, settings: CoreSettings) -> None:
        super().__init__(settings)
        self.alerting = frozenset(asn for asn, p in settings.paths.by_asn.items() if p.new_prefixes)
        self.configured = bool(self.alerting)

    def applies(self, watched: WatchedPrefix, exact: bool) -> bool:
        return (exact and bool(self.alerting) and watched.source.startswith(_DISCOVERED)
                and int(watched.source[len(_DISCOVERED):]) in self.alerting)

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        return watched.path_expected(path)

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        return any(map(watched.path_expected, paths))

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        tracker = view.visibility.get(watched)
        if tracker is None or not self.applies(tracker.watched, True):
            return {}
        return {"unlisted_peers": self.peers(watched)}
