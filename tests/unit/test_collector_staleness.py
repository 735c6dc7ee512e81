"""A collector going stale or fresh touches only its own peers' routes, and judges exactly as a full re-judgement.

The work is counted (prefixes marked for judging again, visibility trackers
recounted), never timed: a feed naming thousands of collectors that sent no
route costs nothing, a real collector's staleness costs the prefixes its
peers hold.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.snapshot import PrefixStatus
from routewatch.core.standing import Standing
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import FeedState, SourceStatus, parse_prefix
from tests.support.events import announce, collector_state, peer
from tests.unit.test_core_incremental import ORIGIN, PREFIXES, make_event, step

WATCHED = [f"10.{i}.0.0/16" for i in range(40)]


def _engine(prefixes: list[str]) -> Engine:
    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset({ORIGIN}), WithdrawalThresholds(min_baseline_peers=2))
                      for p in prefixes])
    return Engine(watch, CoreSettings(baseline_min_hold=100, baseline_window=2000, peer_settle=300))


def _loaded() -> Engine:
    """rrc00's four peers hold all 40 watched prefixes and a hijacked more-specific of each; rrc01's two hold 5."""
    m = _engine(WATCHED)
    events = [collector_state(0.0, c, FeedState.UP) for c in ("rrc00", "rrc01")]
    for i, prefix in enumerate(WATCHED):
        for n in range(4):
            events.append(announce(1.0, peer(n, "rrc00"), prefix, (64500 + n, 3356, ORIGIN)))
        events.append(announce(1.0, peer(0, "rrc00"), prefix.replace(".0.0/16", ".1.0/24"), (64500, 666)))
        if i < 5:
            events.extend(announce(1.0, peer(n, "rrc01"), prefix, (64600 + n, ORIGIN)) for n in range(2))
    m.apply_all(events, established=True)
    return m


def _status(m: Engine, prefix: str) -> PrefixStatus:
    return next(s for s in m.snapshot().prefixes if s.prefix == parse_prefix(prefix))


def _recounts(m: Engine) -> int:
    """Visibility trackers whose cached counts are gone (a change of standing invalidated them)."""
    return sum(1 for tracker in m.visibility.values() if tracker._counts is None)


def test_collectors_without_routes_cost_nothing() -> None:
    m = _loaded()
    before = m.standing.rejudged
    for n in range(2_000):
        m.apply(collector_state(10.0, f"fake{n}", FeedState.UP))
        m.apply(collector_state(11.0, f"fake{n}", FeedState.STALE))
    assert _recounts(m) == 0
    assert m.standing.rejudged == before
    assert not m.dirty
    m.flush()
    assert len(m.sessions.known_collectors) == 2_002


def test_a_collectors_staleness_rejudges_only_the_prefixes_its_peers_hold() -> None:
    m = _loaded()
    before = m.standing.rejudged
    m.apply_all([collector_state(10.0, "rrc01", FeedState.STALE)])
    assert m.standing.rejudged - before == 5
    assert _status(m, WATCHED[0]).visible_peers == 4
    assert _status(m, WATCHED[39]).visible_peers == 4
    before = m.standing.rejudged
    m.apply_all([collector_state(20.0, "rrc00", FeedState.STALE)])
    assert m.standing.rejudged - before == 80  # the 40 watched prefixes and the 40 hijacked more-specifics
    assert _status(m, WATCHED[0]).state == "unknown"  # no trustworthy collector left


class _FullRejudge(Standing):
    """The behaviour before: any collector's change of trust judges every route and every prefix again."""

    def source(self, event: SourceStatus) -> None:
        owner = self._owner
        if event.collector is not None and owner.sessions.collector_fresh(event.collector,
                                                                          event.state is FeedState.UP):
            self.everything()


def _key(changes: list[DetectionChange]) -> list[tuple[str, str, str, str, float]]:
    return sorted((c.change, c.detection.kind, str(c.detection.prefix), str(c.detection.watched), c.time)
                  for c in changes)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, min_size=1, max_size=60))
def test_rejudging_only_a_collectors_routes_judges_as_rejudging_everything(
        steps: list[tuple[str, int, int, float]]) -> None:
    scoped, full = _engine(PREFIXES), _engine(PREFIXES)
    full.standing = _FullRejudge(full)
    t = 0.0
    for kind, n, index, dt in steps:
        t += dt
        who = peer(n, collector=("rrc00", "rrc01", "rrc02")[n % 3])
        event = make_event(kind, t, who, PREFIXES[index])
        assert _key(scoped.apply_all([event])) == _key(full.apply_all([event])), (kind, n, t)
        assert scoped.snapshot().prefixes == full.snapshot().prefixes
        assert set(scoped.open_detections()) == set(full.open_detections())
