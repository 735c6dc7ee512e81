"""Who held each more-specific of a watched prefix: the baseline an address registered late takes.

Routes under a watched prefix are kept whether or not anything tracks them,
but the route table forgets a route the moment it is withdrawn. A nameserver
address is often registered after the routes under it were applied (DNS
discovery after a bootstrap or an mrt source, a new address found in the
middle of an outage): if its service prefix is an untracked more-specific
(the /24 serving a.ns.facebook.com under a watched /17), the table alone
would show only the peers that still hold it, and the address would take the
aggregate for its service prefix and see no risk at all (2021-10-04 exactly).

So every more-specific held with an expected origin gets a baseline of its
own, kept the way a watched prefix's is (a :class:`VisibilityTracker`: peers
that held it for at least ``min_hold`` within ``window``); when the prefix
becomes tracked (it serves an address), its tracker moves into the engine's
visibility with that history. Bookkeeping is one dict operation per update;
counting happens only when an address asks. Memory is bounded: entries go as
soon as nobody holds a prefix and nobody counts in its baseline, and at most
``limit`` prefixes are remembered (past it, new ones are not).
"""

from __future__ import annotations

from collections.abc import Iterator

from routewatch.core.visibility import Exclusion, VisibilityTracker
from routewatch.core.watch import WatchedPrefix
from routewatch.model import Prefix

PAST_HOLDERS_LIMIT = 1 << 16
"""Most more-specifics remembered at once (each costs a tracker and a few dict entries per peer)."""


class PastHolders:
    """Baselines of the untracked more-specifics under watched prefixes, by prefix."""

    def __init__(self, min_hold: float, window: float, limit: int = PAST_HOLDERS_LIMIT) -> None:
        self.min_hold = min_hold
        self.window = window
        self.limit = limit
        self._trackers: dict[Prefix, VisibilityTracker] = {}

    def __len__(self) -> int:
        return len(self._trackers)

    def items(self) -> Iterator[tuple[Prefix, VisibilityTracker]]:
        return iter(self._trackers.items())

    def get(self, prefix: Prefix) -> VisibilityTracker | None:
        return self._trackers.get(prefix)

    def members(self, prefix: Prefix, now: float, ex: Exclusion) -> set[int]:
        """The baseline ``prefix`` would have at ``now``, counted afresh: unlike a watched prefix's tracker,
        nothing tells these when a peer's session or collector changes standing."""
        tracker = self._trackers[prefix]
        tracker.invalidate()
        return tracker.members(now, ex)

    def pop(self, prefix: Prefix) -> VisibilityTracker | None:
        """Hand over ``prefix``'s history (it is tracked from now on)."""
        return self._trackers.pop(prefix, None)

    def set_holding(self, covering: WatchedPrefix, prefix: Prefix, peer: int, holding: bool, now: float,
                    ex: Exclusion, established: bool = False) -> None:
        """``peer`` now does (or does not) hold ``prefix`` with an origin ``covering`` expects."""
        tracker = self._trackers.get(prefix)
        if tracker is None:
            if not holding or len(self._trackers) >= self.limit:
                return
            tracker = self._trackers[prefix] = VisibilityTracker(covering, self.min_hold, self.window)
        tracker.set_holding(peer, holding, now, ex, established)
        if not tracker.holders and not tracker.last_held:
            del self._trackers[prefix]  # held only briefly: nothing to remember

    def restore(self, covering: WatchedPrefix, prefix: Prefix, holders: dict[int, float],
                last_held: dict[int, float]) -> None:
        """Bring back a saved entry (a restart must not forget who lost a more-specific)."""
        if len(self._trackers) >= self.limit or not (holders or last_held):
            return
        tracker = self._trackers[prefix] = VisibilityTracker(covering, self.min_hold, self.window)
        tracker.holders, tracker.last_held, tracker.ever_seen = holders, last_held, True
        tracker.restored()

    def sweep(self, now: float, ex: Exclusion) -> None:
        """Forget prefixes nobody holds whose past holders have all left the window.

        An address counting a baseline after its window ended has already
        dropped the old past holders (and with them the deadline): an entry left
        with nobody at all goes too, or it would be remembered and saved forever.
        """
        for prefix, tracker in list(self._trackers.items()):
            if tracker.holders:
                continue
            if tracker.due(now):
                tracker.members(now, ex)  # drops past holders older than the window
            if not tracker.last_held:
                del self._trackers[prefix]
