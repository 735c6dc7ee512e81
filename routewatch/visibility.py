"""Visibility, baseline and the withdrawal state machine of one watched prefix.

- *Holders* are peers whose unicast route for the exact prefix has an expected
  origin now.
- The *baseline* is the peers that held it within the window (default 24 h),
  counting only peers that held it for at least ``min_hold`` in one go, so that
  path hunting (peers briefly announcing an alternative path on the way to a
  withdrawal) never inflates it. While a withdrawal is open the baseline is
  frozen: after a day of outage the prefix is still missing, not "healthy with
  baseline 0".
- A peer whose session is down, or whose collector is stale, is *excluded*: it
  counts neither as visible nor in the baseline. A peer back from a session
  reset is excluded until it sends the route again or a settle time passes
  (the caller decides; see ``Monitor``).
- Withdrawn = ratio below ``withdrawn_ratio`` for ``hold_down`` seconds of data
  time with a baseline of at least ``min_baseline_peers``; recovered = ratio
  back at or above ``recovered_ratio`` (hysteresis).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import Thresholds
from .detect import ChangeKind, Detection, DetectionChange, DetectionKind
from .watch import WatchedPrefix

#: The holding-since time of routes known to be long held (from a RIB dump, or
#: past the minimum hold): one shared object instead of a float per route.
ESTABLISHED = float("-inf")


class PrefixState(enum.StrEnum):
    VISIBLE = "visible"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"
    INSUFFICIENT_BASELINE = "insufficient-baseline"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Which peers must not count right now, as the monitor sees them."""

    excluded: Callable[[int], bool]
    stale: Callable[[int], bool]
    peer_asn: Callable[[int], int]


@dataclass(slots=True)
class Counts:
    visible: int
    visible_asns: int
    baseline: int
    baseline_visible: int

    @property
    def ratio(self) -> float | None:
        return self.baseline_visible / self.baseline if self.baseline else None


@dataclass(slots=True)
class VisibilityTracker:
    """The mutable per-prefix state; pure, driven by the monitor with data time."""

    watched: WatchedPrefix
    holders: dict[int, float] = field(default_factory=dict)
    last_held: dict[int, float] = field(default_factory=dict)
    frozen: frozenset[int] | None = None
    below_since: float | None = None
    open: Detection | None = None
    ever_seen: bool = False
    last_join: float = float("-inf")

    @property
    def thresholds(self) -> Thresholds:
        return self.watched.thresholds

    def set_holding(self, peer: int, holding: bool, now: float, min_hold: float, established: bool = False) -> None:
        """Record that ``peer`` now does (or does not) hold an expected-origin route.

        ``established`` marks routes from a snapshot (a RIB dump): they were held
        long before the dump, so they join the baseline at once.
        """
        if holding:
            self.ever_seen = True
            if peer not in self.holders:
                if established:
                    self.holders[peer] = ESTABLISHED
                else:
                    self.holders[peer] = now
                    self.last_join = max(self.last_join, now)
                self.last_held.pop(peer, None)
            return
        since = self.holders.pop(peer, None)
        if since is None:
            return
        if now - since >= min_hold or peer in self.last_held or (self.frozen and peer in self.frozen):
            self.last_held[peer] = now

    def members(self, now: float, min_hold: float, window: float, ex: Exclusion) -> set[int]:
        """Baseline members that count now."""
        if self.frozen is not None:
            candidates: set[int] = set(self.frozen)
        else:
            candidates = {p for p, since in self.holders.items() if now - since >= min_hold}
            candidates.update(p for p, last in self.last_held.items() if now - last <= window)
        return {
            p for p in candidates
            if not ex.stale(p) and (p in self.holders or not ex.excluded(p))
        }

    def counts(self, members: set[int], ex: Exclusion) -> Counts:
        """Visibility against ``members`` (from :meth:`members`, computed once per evaluation)."""
        visible = [p for p in self.holders if not ex.stale(p)]
        return Counts(
            visible=len(visible),
            visible_asns=len({ex.peer_asn(p) for p in visible}),
            baseline=len(members),
            baseline_visible=sum(1 for p in members if p in self.holders),
        )

    def settle_holders(self, now: float, min_hold: float) -> None:
        """Holders past the minimum hold share one ESTABLISHED value (memory, not meaning)."""
        for peer, since in self.holders.items():
            if since is not ESTABLISHED and now - since >= min_hold:
                self.holders[peer] = ESTABLISHED

    def expire(self, now: float, window: float) -> None:
        """Forget baseline members not seen for a whole window (never while frozen)."""
        if self.frozen is None:
            for peer in [p for p, last in self.last_held.items() if now - last > window]:
                del self.last_held[peer]

    def state(self, counts: Counts, unknown: bool) -> PrefixState:
        if unknown:
            return PrefixState.UNKNOWN
        if self.open is not None:
            return PrefixState.WITHDRAWN
        if not self.ever_seen and counts.baseline == 0:
            return PrefixState.MISSING
        if counts.baseline < self.thresholds.min_baseline_peers:
            return PrefixState.INSUFFICIENT_BASELINE
        return PrefixState.VISIBLE

    def evaluate(
        self, now: float, counts: Counts, unknown: bool, members: set[int], evidence: dict[str, Any]
    ) -> tuple[DetectionChange | None, float | None]:
        """Advance the withdrawal state machine.

        Returns the change (if any) and the data time at which the prefix must be
        evaluated again even if nothing arrives (the end of a hold-down).
        """
        if unknown:
            return None, None  # no trustworthy data: neither open nor close anything
        t = self.thresholds
        ratio = counts.ratio
        if self.open is not None:
            if ratio is not None and ratio >= t.recovered_ratio:
                closed = self.open.closed(now, evidence)
                self.open, self.frozen, self.below_since = None, None, None
                return DetectionChange(ChangeKind.CLOSED, closed, now), None
            return None, None
        below = counts.baseline >= t.min_baseline_peers and ratio is not None and ratio < t.withdrawn_ratio
        if not below:
            self.below_since = None
            return None, None
        if self.below_since is None:
            self.below_since = now
        due = self.below_since + t.hold_down
        if now < due:
            return None, due
        self.open = Detection(
            DetectionKind.WITHDRAWAL, self.watched.prefix, self.watched.prefix, start=self.below_since,
            description=self.watched.description, evidence=evidence,
        )
        self.frozen = frozenset(members)
        return DetectionChange(ChangeKind.OPENED, self.open, now), None
