"""Snapshots for bootstrap and reconciliation: what the looking glass confirms, and what it cannot."""

from __future__ import annotations

from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.visibility import PrefixState
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.daemon.bootstrap import apply_snapshot
from routewatch.daemon.core_sink import watch_targets
from routewatch.errors import RipestatError
from routewatch.model import RouteAnnouncement, parse_prefix
from routewatch.sources.looking_glass import looking_glass_snapshot
from tests.support.events import announce, peer

WATCHED = "129.134.30.0/23"
MORE_SPECIFIC = "129.134.31.0/24"
OTHER = "185.89.218.0/23"
ORIGIN = 32934


class CannedGlass:
    """A looking glass with fixed answers (RIPEstat matches prefixes exactly); a missing key fails."""

    def __init__(self, answers: dict[str, list[RouteAnnouncement]]) -> None:
        self.answers = answers

    async def looking_glass(self, resource: str) -> list[RouteAnnouncement]:
        if resource not in self.answers:
            raise RipestatError(f"could not reach RIPEstat for {resource}")
        return self.answers[resource]


def monitor() -> Engine:
    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset({ORIGIN}), WithdrawalThresholds())
                      for p in (WATCHED, OTHER)])
    return Engine(watch, CoreSettings(), bootstrapped=False)


async def test_bootstrap_snapshot_makes_visibility_known_at_once() -> None:
    m = monitor()
    routes = [announce(5000.0, peer(i), WATCHED, (64500 + i, ORIGIN)) for i in range(5)]
    snapshot = await looking_glass_snapshot(CannedGlass({WATCHED: routes, OTHER: []}), watch_targets(m.watch),
                                            frozenset(), 0.0)
    assert (snapshot.time, snapshot.collectors, snapshot.failed) == (5000.0, frozenset({"rrc00"}), 0)
    apply_snapshot(m, snapshot)
    m.bootstrapped = True
    status = m.snapshot().status(parse_prefix(WATCHED))
    assert status is not None and (status.state, status.visible_peers, status.baseline_peers) == \
        (PrefixState.VISIBLE, 5, 5)  # established: in the baseline without waiting for min_hold


async def test_reconcile_withdraws_what_the_glass_lacks_and_keeps_what_it_cannot_see() -> None:
    m = monitor()
    m.apply_all([announce(100.0, peer(i), WATCHED, (64500 + i, ORIGIN)) for i in range(4)]
                + [announce(100.0, peer(9), MORE_SPECIFIC, (64509, ORIGIN))])
    # Peer 3's route went away during a gap; the glass only answers for exact prefixes, so it never
    # shows the /24 under the watched /23: that route must be kept, not withdrawn on silence.
    still = [announce(200.0, peer(i), WATCHED, (64500 + i, ORIGIN)) for i in range(3)]
    glass = CannedGlass({WATCHED: still})  # the question about OTHER fails
    snapshot = await looking_glass_snapshot(glass, watch_targets(m.watch), frozenset({"rrc00"}), m.now)
    assert snapshot.failed == 1 and snapshot.confirmed == frozenset({parse_prefix(WATCHED)})
    apply_snapshot(m, snapshot)
    assert {r.peer for r in m.table.routes(parse_prefix(WATCHED))} == {peer(0), peer(1), peer(2)}
    assert {r.peer for r in m.table.routes(parse_prefix(MORE_SPECIFIC))} == {peer(9)}
    assert m.updates["withdraw"] == 1
