"""Which peers count right now: sessions down or settling, collectors stale.

A peer whose BGP session is down has no routes and must not count as
missing; one back from a reset is excluded until its settle time passes (it
is still sending its table); a collector that is not fresh (its feed stale
or down) takes all its peers out of visibility and baseline. The engine asks
here and recounts what a change of standing touches.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class PeerSessions:
    """Session and collector health, as the core has seen it in the data."""

    down: set[int] = field(default_factory=set)
    settle_until: dict[int, float] = field(default_factory=dict)
    stale_collectors: set[str] = field(default_factory=set)
    known_collectors: set[str] = field(default_factory=set)

    def excluded(self, peer: int, now: float) -> bool:
        """Session down, or back but still settling at ``now``."""
        return peer in self.down or self.settle_until.get(peer, 0.0) > now

    def all_stale(self) -> bool:
        """No trustworthy collector left (and at least one seen): the core knows nothing."""
        return bool(self.known_collectors) and self.known_collectors <= self.stale_collectors

    def came_up(self, peer: int, until: float) -> bool:
        """The session is established again, settling until ``until``; True when it was not seen going down.

        A peer back from down was excluded and stays so while it settles:
        nothing to recount. One not seen going down is excluded from now on.
        """
        was_down = peer in self.down
        self.down.discard(peer)
        self.settle_until[peer] = until
        return not was_down

    def went_down(self, peer: int) -> bool:
        """The session left ESTABLISHED; False when it was already down."""
        if peer in self.down:
            return False
        self.down.add(peer)
        return True

    def collector_fresh(self, collector: str, fresh: bool) -> bool:
        """Record a collector's health; True when its trust changed."""
        self.known_collectors.add(collector)
        was_stale = collector in self.stale_collectors
        if fresh:
            self.stale_collectors.discard(collector)
        else:
            self.stale_collectors.add(collector)
        return was_stale != (not fresh)

    def settled(self, now: float) -> set[int]:
        """Peers whose settle time is over by ``now``: they count again."""
        done = {p for p, until in self.settle_until.items() if until <= now}
        for peer in done:
            del self.settle_until[peer]
        return done
