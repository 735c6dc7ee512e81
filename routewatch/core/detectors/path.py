"""Path rules: a route whose AS path triggers a rule written for its watched prefix.

The rules are BGPalerter's (``match``, ``not_match``, ``min_length``,
``max_length``; see :class:`routewatch.core.path_policy.PathRule`): a scrubbing
centre that should never appear, a path longer than the prefix ever takes.
The evidence names the rules triggered.
"""

from __future__ import annotations

from typing import Any, ClassVar

from routewatch.core.detection import DetectionKind, sample_paths
from routewatch.core.detectors.flagged import FlaggingDetector
from routewatch.core.detectors.view import CoreView
from routewatch.core.path_policy import PathRule
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix


class PathRuleDetector(FlaggingDetector):
    """Flags peers with a path that triggers one of the watched prefix's path rules."""

    kind: ClassVar[DetectionKind] = DetectionKind.PATH

    def __init__(self, settings: CoreSettings) -> None:
        super().__init__(settings)
        self.policies = settings.paths
        self.configured = any(p.rules for p in self.policies.by_prefix.values())

    def _rules(self, watched: WatchedPrefix) -> tuple[PathRule, ...]:
        policy = self.policies.for_watched(watched) if self.policies else None
        return policy.rules if policy is not None else ()

    def applies(self, watched: WatchedPrefix, exact: bool) -> bool:
        return bool(self._rules(watched))

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        return any(rule.triggered_by(path) for rule in self._rules(watched))

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        return any(self.suspect(watched, path) for path in paths)

    def evidence(self, watched: WatchedPrefix, suspect: list[AsPath]) -> dict[str, object]:
        rules = self._rules(watched)
        return {
            "rules": sorted({rule.description or _rule_text(rule) for rule in rules
                             if any(rule.triggered_by(path) for path in suspect)}),
            "sample_paths": sample_paths(suspect),
        }

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        tracker = view.visibility.get(watched)
        if tracker is None or not self._rules(tracker.watched):
            return {}
        return {"path_rule_peers": self.peers(watched)}


def _rule_text(rule: PathRule) -> str:
    parts = [f"match {rule.match.pattern!r}" if rule.match else "", f"not_match {rule.not_match.pattern!r}"
             if rule.not_match else "", f"min_length {rule.min_length}" if rule.min_length is not None else "",
             f"max_length {rule.max_length}" if rule.max_length is not None else ""]
    return ", ".join(p for p in parts if p)
