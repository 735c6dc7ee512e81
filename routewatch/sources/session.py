"""The decisions of a live BGP source, without its I/O: bootstrap, buffering, reconciliation after a gap.

Written once, without sockets, clocks of its own or awaits (as dnspython's
``_Resolution`` is written once for its sync and async resolvers), so every
live source shares it: RIS Live today, a BMP station next. The driver reports
what happened (connected, disconnected, a message from a collector, a
snapshot loaded or not) and asks what to do; it does the I/O itself.

The life of a session:

1. The driver connects first and buffers what arrives (RIS Live's bounded
   inbox) while ``buffering`` is true: nothing reaches the core yet.
2. :meth:`LiveSession.bootstrap_step` says where the initial state comes
   from: the core already has one (carried over or restored: it is
   reconciled instead, because reloading a snapshot would bring back routes
   withdrawn since), MRT files, a looking glass, or nothing.
3. :meth:`LiveSession.start` ends buffering: the driver hands the buffered
   and then the live messages to the core, in order.
4. When the connection is lost every collector goes stale
   (:meth:`LiveSession.disconnected`), so the gap raises no withdrawal. After
   reconnecting, :meth:`LiveSession.reconcile_due` asks for a reconciliation;
   collectors stay stale (held) until the snapshot is in. It asks again on a
   schedule. A failed snapshot is retried a few times before the feed is
   trusted without one.

Every method returns the collector transitions (``SourceStatus`` events) the
driver must hand to the core, or takes them through :meth:`take_statuses`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from routewatch.model import SourceStatus
from routewatch.sources.liveness import FeedHealth

#: After a gap, how often to retry a failed reconcile before trusting the feed without one.
RECONCILE_ATTEMPTS = 3
RECONCILE_RETRY = 60.0


class BootstrapStep(StrEnum):
    """Where a live source's initial state comes from."""

    CARRIED_OVER = "carried-over"
    FILES = "files"
    LOOKING_GLASS = "looking-glass"
    NONE = "none"


class ReconcileReason(StrEnum):
    """Why the state is reconciled with a snapshot."""

    RESTARTED = "restarted"
    RECONNECTED = "reconnected"
    SCHEDULED = "scheduled"


class LiveSession:
    """Bootstrap, buffer and reconcile decisions of one live source; see the module docstring.

    ``reconcile_interval`` is None when the source has no snapshot to
    reconcile with: then nothing is scheduled and a reconnection only
    releases the collectors, with the gap's changes missed.
    """

    def __init__(self, source: str, *, stale_after: float, clock: Callable[[], float],
                 reconcile_interval: float | None) -> None:
        self.feed = FeedHealth(source, stale_after, clock)
        self.clock = clock
        self.reconcile_interval = reconcile_interval
        self.buffering = True
        self.reconciles = 0
        self.last_reconcile: float | None = None
        self._outbox: list[SourceStatus] = []
        self._snapshot_loaded = False
        self._reason: ReconcileReason | None = None
        self._retry_at = 0.0
        self._failures = 0

    @property
    def can_reconcile(self) -> bool:
        return self.reconcile_interval is not None

    # -- the connection -----------------------------------------------------------

    def connected(self, connects: int) -> None:
        """The ``connects``-th connection is up; a first one made after a snapshot missed the time in between too."""
        if connects > 1 or self._snapshot_loaded:
            self._reason = ReconcileReason.RECONNECTED

    def disconnected(self, detail: str) -> None:
        """The connection is gone: every collector is stale until the state is reconciled."""
        self._outbox.extend(self.feed.disconnected(detail))

    def take_statuses(self) -> list[SourceStatus]:
        """Transitions caused by connection events, for the core, oldest first."""
        statuses, self._outbox = self._outbox, []
        return statuses

    # -- bootstrap ----------------------------------------------------------------

    @staticmethod
    def bootstrap_step(*, core_bootstrapped: bool, files: bool, looking_glass: bool) -> BootstrapStep:
        if core_bootstrapped:
            return BootstrapStep.CARRIED_OVER
        if files:
            return BootstrapStep.FILES
        if looking_glass:
            return BootstrapStep.LOOKING_GLASS
        return BootstrapStep.NONE

    def bootstrapped(self, collectors: Iterable[str], step: BootstrapStep) -> None:
        """A state is in; its collectors must speak within ``stale_after`` or go stale."""
        self._snapshot_loaded = True
        self.feed.expect(collectors)
        if step is BootstrapStep.CARRIED_OVER:
            self._reason = ReconcileReason.RESTARTED

    def start(self) -> None:
        """Buffering ends: buffered and live messages go to the core from now on."""
        self.buffering = False
        self.last_reconcile = self.clock()

    # -- reconciliation -----------------------------------------------------------

    def reconcile_due(self) -> ReconcileReason | None:
        """A reconciliation to run now, if one is due; collectors are held stale while it runs."""
        if self.buffering:
            return None
        now = self.clock()
        retry = self._reason is not None and now >= self._retry_at
        scheduled = (self.reconcile_interval is not None and self.last_reconcile is not None
                     and now - self.last_reconcile >= self.reconcile_interval)
        if not (retry or scheduled):
            return None
        reason, self._reason = self._reason or ReconcileReason.SCHEDULED, None
        self.last_reconcile = now
        if self.can_reconcile and reason is ReconcileReason.RECONNECTED:
            self.feed.hold()
        return reason

    def retry_later(self, reason: ReconcileReason) -> bool:
        """The snapshot for ``reason`` came back empty: whether to keep the collectors held and ask again later."""
        if reason is ReconcileReason.SCHEDULED or self._failures >= RECONCILE_ATTEMPTS:
            return False
        self._failures += 1
        self._reason = reason
        self._retry_at = self.clock() + RECONCILE_RETRY
        return True

    @property
    def failures(self) -> int:
        return self._failures

    def reconciled(self) -> None:
        """The snapshot is in the core."""
        self._failures = 0
        self.reconciles += 1

    def release(self) -> list[SourceStatus]:
        """The state is trustworthy again: collectors heard from since the hold are fresh."""
        return self.feed.release()
