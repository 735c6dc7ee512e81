"""Per-collector liveness on an injected clock."""

from __future__ import annotations

from routewatch.model import FeedState, SourceStatus
from routewatch.sources.liveness import FeedHealth
from tests.support.live_harness import FakeClock


def states(changes: list[SourceStatus]) -> list[tuple[str | None, FeedState]]:
    return [(c.collector, c.state) for c in changes]


def test_a_collector_goes_stale_after_silence_and_fresh_when_it_speaks() -> None:
    clock = FakeClock(1000.0)
    feed = FeedHealth("ris-live", 10.0, clock)
    assert not feed.seen("rrc00", 990.0, clock())  # first sight is not news
    assert not feed.seen("rrc01", 995.0, clock())
    clock.advance(10.0)
    assert feed.check() == []  # exactly stale_after is still fresh
    feed.seen("rrc01", 1008.0, clock())
    clock.advance(0.5)
    changes = feed.check()
    assert states(changes) == [("rrc00", FeedState.STALE)]
    assert changes[0].time == 1008.0  # data time, never the wall clock
    assert states(feed.seen("rrc00", 1010.0, clock())) == [("rrc00", FeedState.UP)]
    rrc00 = feed.collectors()[0]
    assert (rrc00.name, rrc00.lag, rrc00.last_data_time, rrc00.messages) == ("rrc00", 0.5, 1010.0, 2)


def test_disconnect_holds_collectors_stale_until_released_after_reconcile() -> None:
    clock = FakeClock(1000.0)
    feed = FeedHealth("ris-live", 10.0, clock)
    feed.seen("rrc00", 999.0, clock())
    feed.seen("rrc01", 999.0, clock())
    assert states(feed.disconnected("lost")) == [("rrc00", FeedState.STALE), ("rrc01", FeedState.STALE)]
    assert feed.disconnected("lost") == []
    feed.seen("rrc00", 999.5, clock())  # queued from before the loss: proves nothing about after it
    clock.advance(1.0)
    assert not feed.seen("rrc00", 1000.5, clock())  # heard again, but the state is not reconciled yet
    assert states(feed.release()) == [("rrc00", FeedState.UP)]  # rrc01 has not spoken since
    assert states(feed.seen("rrc01", 1001.0, clock())) == [("rrc01", FeedState.UP)]
    assert feed.release() == []


def test_expected_collectors_from_a_snapshot_must_speak_in_time() -> None:
    clock = FakeClock(1000.0)
    feed = FeedHealth("ris-live", 10.0, clock)
    feed.expect({"rrc00", "rrc21"})
    clock.advance(5.0)
    feed.seen("rrc00", 1004.0, clock())
    clock.advance(6.0)
    assert states(feed.check()) == [("rrc21", FeedState.STALE)]
    assert feed.last_check == clock()
