"""Withdrawal: a watched prefix gone from most of the peers that carried it.

Withdrawn = ratio of visible to baseline peers below ``withdrawn_ratio`` for
``hold_down`` seconds of data time, with a baseline of at least
``min_baseline_peers``; recovered = ratio back at or above ``recovered_ratio``
(hysteresis). While a withdrawal is open the baseline is frozen (see
``routewatch.core.visibility``), so after a day of outage the prefix is still
missing, not "healthy with baseline 0".

The counts themselves are the engine's (they also serve the prefix's state
and the DNS side); this detector only runs the state machine over them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

from routewatch.core.detection import ChangeKind, Detection, DetectionChange, DetectionKind
from routewatch.core.detectors.view import CoreView, Scope
from routewatch.core.settings import CoreSettings
from routewatch.core.visibility import Counts, VisibilityTracker
from routewatch.core.watch import WatchedPrefix
from routewatch.model import Prefix


class WithdrawalDetector:
    """Opens a withdrawal when the ratio stays low through the hold-down; closes it on recovery."""

    scope: ClassVar[Scope] = Scope.VISIBILITY
    kinds: ClassVar[frozenset[DetectionKind]] = frozenset({DetectionKind.WITHDRAWAL})

    def __init__(self, settings: CoreSettings) -> None:
        """Its thresholds are each watched prefix's own; the core-wide settings play no part."""

    def engaged(self, view: CoreView) -> bool:
        """Always: withdrawal is what every watched prefix is watched for."""
        return True

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[DetectionChange]:
        """Advance the state machine of watched ``prefix``; a pending hold-down is put on the engine's timer."""
        tracker = view.visibility.get(prefix)
        if tracker is None:
            return []
        counts = tracker.counts(view.now, view.exclusion)
        change, due = _advance(tracker, view.now, counts, view.unknown(tracker), view)
        if due is not None:
            view.schedule(due, prefix)
        return [change] if change else []

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        tracker = view.visibility.get(watched)
        return {"withdrawn_since": tracker.open.start if tracker is not None and tracker.open else None}

    def open_detections(self, view: CoreView) -> Iterable[Detection]:
        return [t.open for t in view.visibility.values() if t.open is not None]

    def restore(self, detections: Iterable[Detection]) -> None:
        """Open withdrawals are restored with their prefix's visibility state, not here."""


def _advance(tracker: VisibilityTracker, now: float, counts: Counts, unknown: bool,
             view: CoreView) -> tuple[DetectionChange | None, float | None]:
    """Returns the change (if any) and the data time at which the prefix must be judged again (a hold-down's end)."""
    if unknown:
        return None, None  # no trustworthy data: neither open nor close anything
    t = tracker.thresholds
    ratio = counts.ratio
    if tracker.open is not None:
        if ratio is not None and ratio >= t.recovered_ratio:
            closed = tracker.open.closed(now, _evidence(tracker, counts, view))
            tracker.open, tracker.frozen, tracker.below_since = None, None, None
            tracker.invalidate()  # the baseline thaws: members mature and expire again
            return DetectionChange(ChangeKind.CLOSED, closed, now), None
        return None, None
    below = counts.baseline >= t.min_baseline_peers and ratio is not None and ratio < t.withdrawn_ratio
    if not below:
        tracker.below_since = None
        return None, None
    if tracker.below_since is None:
        tracker.below_since = now
    due = tracker.below_since + t.hold_down
    if now < due:
        return None, due
    watched = tracker.watched
    tracker.open = Detection(DetectionKind.WITHDRAWAL, watched.prefix, watched.prefix, start=tracker.below_since,
                             description=watched.description, evidence=_evidence(tracker, counts, view))
    tracker.frozen = frozenset(tracker.members(now, view.exclusion))  # asked only here: most judgements open nothing
    return DetectionChange(ChangeKind.OPENED, tracker.open, now), None


def _evidence(tracker: VisibilityTracker, counts: Counts, view: CoreView) -> dict[str, object]:
    peers = view.table.peers
    visible_by_collector: Counter[str] = Counter(peers[p].collector for p in tracker.holders)
    return {
        "visible_peers": counts.baseline_visible,
        "baseline_peers": counts.baseline,
        "ratio": round(counts.ratio, 4) if counts.ratio is not None else None,
        "gone_from_percent": round(100 * (1 - counts.ratio), 1) if counts.ratio is not None else None,
        "visible_peer_asns": counts.visible_asns,
        "visible_by_collector": dict(sorted(visible_by_collector.items())),
        "expected_origins": sorted(tracker.watched.origins),
    }
