"""The live session's decisions, driven without a socket: bootstrap, buffering, reconciliation after a gap."""

from __future__ import annotations

from routewatch.model import FeedState
from routewatch.sources.session import (
    RECONCILE_ATTEMPTS,
    RECONCILE_RETRY,
    BootstrapStep,
    LiveSession,
    ReconcileReason,
)


class FakeClock:
    """Wall clock moved by the test."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def session(clock: FakeClock, interval: float | None = 3600.0) -> LiveSession:
    return LiveSession("ris-live", stale_after=10.0, clock=clock, reconcile_interval=interval)


def test_bootstrap_source_is_chosen_in_order_carried_over_files_looking_glass() -> None:
    step = LiveSession.bootstrap_step
    assert step(core_bootstrapped=True, files=True, looking_glass=True) is BootstrapStep.CARRIED_OVER
    assert step(core_bootstrapped=False, files=True, looking_glass=True) is BootstrapStep.FILES
    assert step(core_bootstrapped=False, files=False, looking_glass=True) is BootstrapStep.LOOKING_GLASS
    assert step(core_bootstrapped=False, files=False, looking_glass=False) is BootstrapStep.NONE


def test_nothing_is_reconciled_while_buffering_and_a_carried_over_state_is_reconciled_first() -> None:
    clock = FakeClock()
    live = session(clock)
    live.bootstrapped({"rrc00"}, BootstrapStep.CARRIED_OVER)
    clock.advance(7200.0)
    assert live.buffering and live.reconcile_due() is None
    live.start()
    assert not live.buffering
    assert live.reconcile_due() is ReconcileReason.RESTARTED
    assert live.reconcile_due() is None  # taken; the schedule starts again from now
    clock.advance(3600.0)
    assert live.reconcile_due() is ReconcileReason.SCHEDULED


def test_a_gap_makes_collectors_stale_and_they_come_back_only_after_the_reconcile() -> None:
    clock = FakeClock()
    live = session(clock)
    live.connected(1)
    live.bootstrapped({"rrc00"}, BootstrapStep.LOOKING_GLASS)
    live.start()
    assert live.feed.seen("rrc00", clock.now, clock.now) == ()
    live.disconnected("disconnected")
    assert [(s.collector, s.state) for s in live.take_statuses()] == [("rrc00", FeedState.STALE)]
    assert live.take_statuses() == []
    clock.advance(1.0)
    live.connected(2)
    reason = live.reconcile_due()
    assert reason is ReconcileReason.RECONNECTED and live.feed.held
    clock.advance(1.0)
    assert live.feed.seen("rrc00", clock.now, clock.now) == ()  # held: speaking is not enough
    live.reconciled()
    assert [(s.collector, s.state) for s in live.release()] == [("rrc00", FeedState.UP)]
    assert live.reconciles == 1


def test_a_failed_snapshot_after_a_gap_is_retried_a_few_times_then_the_feed_is_trusted() -> None:
    clock = FakeClock()
    live = session(clock)
    live.bootstrapped(set(), BootstrapStep.FILES)
    live.start()
    live.connected(2)
    for attempt in range(RECONCILE_ATTEMPTS):
        reason = live.reconcile_due()
        assert reason is ReconcileReason.RECONNECTED
        assert live.retry_later(reason) and live.failures == attempt + 1
        assert live.reconcile_due() is None
        clock.advance(RECONCILE_RETRY)
    reason = live.reconcile_due()
    assert reason is ReconcileReason.RECONNECTED and not live.retry_later(reason)
    live.reconciled()
    assert live.failures == 0


def test_a_scheduled_reconcile_is_not_retried_and_without_a_snapshot_nothing_is_scheduled() -> None:
    clock = FakeClock()
    live = session(clock)
    live.start()
    clock.advance(3600.0)
    reason = live.reconcile_due()
    assert reason is ReconcileReason.SCHEDULED and not live.retry_later(reason)
    without = session(clock, interval=None)
    without.start()
    clock.advance(10 * 3600.0)
    assert without.reconcile_due() is None
    without.connected(2)
    assert without.reconcile_due() is ReconcileReason.RECONNECTED and not without.feed.held
