"""Visibility and baseline of one watched prefix: the counts every watched prefix's status is built on.

- *Holders* are peers whose unicast route for the exact prefix has an expected
  origin now.
- The *baseline* is the peers that held it within the window (default 24 h),
  counting only peers that held it for at least ``min_hold`` in one go, so that
  path hunting (peers briefly announcing an alternative path on the way to a
  withdrawal) never inflates it. While a withdrawal is open the baseline is
  frozen: after a day of outage the prefix is still missing, not "healthy with
  baseline 0".
- A peer whose session is down, or whose collector is stale, is *excluded*: it
  counts neither as visible nor in the baseline. So is a peer the
  configuration excludes, everywhere or at this prefix (``peer_filter``). A peer back from a session
  reset is excluded until it sends the route again or a settle time passes
  (the caller decides; see the engine).
- The withdrawal detector (``routewatch.core.detectors.withdrawal``) judges
  these counts; while a withdrawal it opened is open, ``frozen`` holds the
  baseline it froze.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from routewatch.core.detection import Detection
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix

#: The holding-since time of routes known to be long held (from a RIB dump, or
#: past the minimum hold): one shared object instead of a float per route.
ESTABLISHED = float("-inf")
INF = float("inf")


class PrefixState(enum.StrEnum):
    """A prefix's verdict; ``pending`` is a ratio below the withdrawn threshold during the hold-down."""

    VISIBLE = "visible"
    PENDING = "pending"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"
    INSUFFICIENT_BASELINE = "insufficient-baseline"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Which peers must not count right now, as the monitor sees them."""

    excluded: Callable[[int], bool]
    stale: Callable[[int, WatchedPrefix | None], bool]  # collector stale, or the peer excluded by configuration
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
    """The mutable per-prefix state; pure, driven by the monitor with data time.

    Counting visibility against the baseline is O(peers); doing it for every
    update would make a busy prefix cost hundreds of operations per message.
    So the counts are kept up to date incrementally as single peers change,
    and recounted in full only when something that affects many peers at once
    happens: a session or collector changes health, the baseline freezes or
    thaws, or time alone moves a peer in or out of the baseline (a holder
    matures past ``min_hold``, a past holder expires after ``window``). The
    earliest such moment is kept, so the counts are exact whenever asked.
    """

    watched: WatchedPrefix
    min_hold: float
    window: float
    holders: dict[int, float] = field(default_factory=dict)
    last_held: dict[int, float] = field(default_factory=dict)
    frozen: frozenset[int] | None = None
    below_since: float | None = None
    open: Detection | None = None
    ever_seen: bool = False
    _matures_at: float = INF
    _expires_at: float = INF
    _members: set[int] | None = None
    _counts: Counts | None = None
    _asns: Counter[int] = field(default_factory=Counter)

    @property
    def thresholds(self) -> WithdrawalThresholds:
        return self.watched.thresholds

    def involves(self, peers: set[int]) -> bool:
        """Do any of ``peers`` hold the prefix, or count (or may count) in its baseline?"""
        frozen = self.frozen or ()
        return any(p in self.last_held or p in self.holders or p in frozen for p in peers)

    def invalidate(self) -> None:
        """Forget the cached counts: the next :meth:`counts` recounts in full."""
        self._members = None
        self._counts = None

    def set_holding(self, peer: int, holding: bool, now: float, ex: Exclusion, established: bool = False) -> None:
        """Record that ``peer`` now does (or does not) hold an expected-origin route.

        ``established`` marks routes from a snapshot (a RIB dump): they were held
        long before the dump, so they join the baseline at once. A baseline
        member that withdrew and comes back is still a member.
        """
        if holding:
            self.ever_seen = True
            if peer in self.holders:
                return
            was_member = self.last_held.pop(peer, None) is not None
            if established or was_member:
                self.holders[peer] = ESTABLISHED
            else:
                self.holders[peer] = now
                self._matures_at = min(self._matures_at, now + self.min_hold)
            self._held(peer, ex, joined=established and not was_member)
            return
        since = self.holders.pop(peer, None)
        if since is None:
            return
        kept = now - since >= self.min_hold or (self.frozen is not None and peer in self.frozen)
        if kept:
            self.last_held[peer] = now
            self._expires_at = min(self._expires_at, now + self.window)
        self._released(peer, ex, kept)

    def _held(self, peer: int, ex: Exclusion, joined: bool) -> None:
        counts, members = self._counts, self._members
        if counts is None or members is None:
            return
        if ex.stale(peer, self.watched) or ex.excluded(peer):
            self.invalidate()  # its membership may change with it: rare, recount
            return
        counts.visible += 1
        self._asns[ex.peer_asn(peer)] += 1
        counts.visible_asns = len(self._asns)
        if joined and peer not in members and self.frozen is None:
            members.add(peer)
            counts.baseline += 1
        if peer in members:
            counts.baseline_visible += 1

    def _released(self, peer: int, ex: Exclusion, kept: bool) -> None:
        counts, members = self._counts, self._members
        if counts is None or members is None:
            return
        if ex.stale(peer, self.watched) or ex.excluded(peer):
            self.invalidate()
            return
        counts.visible -= 1
        asn = ex.peer_asn(peer)
        self._asns[asn] -= 1
        if self._asns[asn] <= 0:
            del self._asns[asn]
        counts.visible_asns = len(self._asns)
        if peer in members:
            counts.baseline_visible -= 1
        elif kept and self.frozen is None:
            members.add(peer)  # it matured, and now counts as missing
            counts.baseline += 1

    def waiting(self) -> bool:
        """Will time alone change the baseline at some point (a young holder, a past holder)?"""
        return self._matures_at != INF or (self.frozen is None and self._expires_at != INF)

    def due(self, now: float) -> bool:
        """Does time alone change the baseline by ``now`` (a holder matures, a past holder expires)?"""
        return now >= self._matures_at or (self.frozen is None and now > self._expires_at)

    def _catch_up(self, now: float) -> None:
        if now >= self._matures_at:
            young = {p: since for p, since in self.holders.items() if since is not ESTABLISHED}
            for peer, since in young.items():
                if now - since >= self.min_hold:
                    self.holders[peer] = ESTABLISHED
            self._matures_at = min((s + self.min_hold for s in young.values() if now - s < self.min_hold),
                                   default=INF)
            self.invalidate()
        if self.frozen is None and now > self._expires_at:
            for peer in [p for p, last in self.last_held.items() if now - last > self.window]:
                del self.last_held[peer]
            self._expires_at = min((last + self.window for last in self.last_held.values()), default=INF)
            self.invalidate()

    def members(self, now: float, ex: Exclusion) -> set[int]:
        """Baseline members that count at ``now``."""
        self._catch_up(now)
        if self._members is None:
            self.recount(now, ex)
        assert self._members is not None
        return self._members

    def counts(self, now: float, ex: Exclusion) -> Counts:
        """Visibility against the baseline at ``now``."""
        self._catch_up(now)
        if self._counts is None:
            return self.recount(now, ex)
        return self._counts

    def observed(self, now: float, ex: Exclusion) -> tuple[Counts, set[int]]:
        """Counts and baseline members at ``now`` for a reader outside judging (the API, nameservers, a snapshot).

        Unlike :meth:`counts` it never moves the time deadlines: were a reader
        to catch up a matured holder, the sweep would find nothing due and the
        prefix would never be re-judged. So when time alone has changed the
        baseline, the answer is counted afresh and not kept; the sweep, still
        due, re-judges the prefix.
        """
        if self.due(now):
            counts, members, _ = self._count(now, ex)
            return counts, members
        if self._counts is None or self._members is None:
            self.recount(now, ex)
        assert self._counts is not None and self._members is not None
        return self._counts, self._members

    def recount(self, now: float, ex: Exclusion) -> Counts:
        """Count everything from scratch."""
        self._counts, self._members, self._asns = self._count(now, ex)
        return self._counts

    def _count(self, now: float, ex: Exclusion) -> tuple[Counts, set[int], Counter[int]]:
        if self.frozen is not None:
            candidates: set[int] = set(self.frozen)
        else:
            candidates = {p for p, since in self.holders.items() if now - since >= self.min_hold}
            candidates.update(p for p, last in self.last_held.items() if now - last <= self.window)
        watched = self.watched
        members = {p for p in candidates if not ex.stale(p, watched) and (p in self.holders or not ex.excluded(p))}
        visible = [p for p in self.holders if not ex.stale(p, watched)]
        asns = Counter(ex.peer_asn(p) for p in visible)
        counts = Counts(
            visible=len(visible),
            visible_asns=len(asns),
            baseline=len(members),
            baseline_visible=sum(1 for p in members if p in self.holders),
        )
        return counts, members, asns

    def restored(self) -> None:
        """After a state restore: derive the deadlines from the restored holders and past holders."""
        self._matures_at = min((s + self.min_hold for s in self.holders.values() if s is not ESTABLISHED),
                               default=INF)
        self._expires_at = min((last + self.window for last in self.last_held.values()), default=INF)
        self.invalidate()

    def state(self, counts: Counts, unknown: bool) -> PrefixState:
        if unknown:
            return PrefixState.UNKNOWN
        if self.open is not None:
            return PrefixState.WITHDRAWN
        if self.below_since is not None:
            return PrefixState.PENDING
        if not self.ever_seen and counts.baseline == 0:
            return PrefixState.MISSING
        if counts.baseline < self.thresholds.min_baseline_peers:
            return PrefixState.INSUFFICIENT_BASELINE
        return PrefixState.VISIBLE
