"""Data-time timers: a timer scheduled under a key replaces the one before it, and replaced ones never fire."""

from __future__ import annotations

from routewatch.core.timers import Timers
from routewatch.model import parse_prefix

A, B = parse_prefix("192.0.2.0/24"), parse_prefix("198.51.100.0/24")


def fired(timers: Timers, now: float) -> list[tuple[float, object]]:
    out = []
    while (due := timers.pop_due(now)) is not None:
        out.append(due)
    return out


def test_a_keyed_timer_moved_later_or_earlier_fires_once_at_its_last_time_and_others_are_untouched() -> None:
    timers = Timers(sweep_interval=60.0)
    timers.schedule(50.0, B)  # unkeyed: never replaced
    timers.schedule(100.0, A, key="a")
    timers.schedule(300.0, A, key="a")  # later
    timers.schedule(200.0, A, key="a")  # earlier again
    assert fired(timers, 199.0) == [(50.0, B)]
    assert fired(timers, 1000.0) == [(200.0, A)]
    assert len(timers) == 0
    timers.schedule(400.0, A, key="a")  # fired keys are scheduled afresh
    assert fired(timers, 400.0) == [(400.0, A)]


def test_stale_entries_never_outnumber_live_ones() -> None:
    timers = Timers(sweep_interval=60.0)
    for i in range(10_000):
        timers.schedule(1000.0 + i, A, key="a")
        timers.schedule(1000.0 - i, B, key="b")
        assert len(timers) <= 4
    assert fired(timers, 20_000.0) == [(1000.0 - 9999, B), (1000.0 + 9999, A)]
