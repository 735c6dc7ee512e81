"""A reload that stops watching a prefix keeps nothing of it: no routes, no series, no per-prefix counter.

A reload (SIGHUP) builds a new core and carries the old one's state over
(``daemon.tapped.carry_over``), minus the prefixes the new config no longer
watches. The detectors of the new core start empty and take back only the
open detections of prefixes still watched, so their per-prefix state (the
ROA invalidation counter, the ROA expiry) cannot outlive a watch. The routes
are carried in the state, and must be dropped there: the live core keeps no
route nothing watches, and none of its withdrawals would ever reach them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from routewatch.config.schema import parse_config
from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.daemon.core_start import start_core
from routewatch.daemon.persist import dump_state, save_state
from routewatch.daemon.tapped import TappedEngine, build_tapped, carry_over
from routewatch.model import parse_prefix
from routewatch.rpki.vrp import Vrp
from tests.support.events import announce, peer, withdraw

DROPPED = "193.0.0.0/21"
SUB = "193.0.4.0/24"  # a more-specific under DROPPED
KEPT = "198.51.100.0/24"
OWN = 3333
DAY = 86_400.0
PEERS = range(5)


def config(*prefixes: str, rpki: bool = False) -> Any:
    rpki_section = {"rpki": {"sources": [{"type": "json", "path": "vrps.json"}]}} if rpki else {}
    return parse_config({"prefixes": [{"prefix": p, "asn": [OWN]} for p in prefixes], **rpki_section})


def watching_both(*, rpki: bool = False) -> TappedEngine:
    m = build_tapped(config(DROPPED, KEPT, rpki=rpki), bootstrapped=True)
    m.apply_all(announce(100, peer(i), p, (64500 + i, OWN)) for i in PEERS for p in (DROPPED, SUB, KEPT))
    return m


def held(m: Engine) -> set[str]:
    """The prefixes the table holds routes for."""
    return {str(p) for p in m.table.prefixes()}


def test_a_reload_that_drops_a_prefix_drops_its_routes_and_those_under_it_from_the_table_and_the_state() -> None:
    after = carry_over(watching_both(), config(KEPT), lambda changes: None)
    assert held(after) == {KEPT}
    assert set(dump_state(after)["routes"]) == {KEPT}  # and so from every state saved from now on
    assert [str(s.prefix) for s in after.snapshot().prefixes] == [KEPT]


def test_a_prefix_watched_again_counts_only_the_routes_announced_since_not_those_withdrawn_while_unwatched() -> None:
    after = carry_over(watching_both(), config(KEPT), lambda changes: None)
    after.apply_all(withdraw(200, peer(i), p) for i in PEERS for p in (DROPPED, SUB))  # nothing watches them
    logged: list[DetectionChange] = []
    again = carry_over(after, config(DROPPED, KEPT), logged.extend)
    assert logged == []  # kept, the withdrawn routes under it would open a more-specific detection here
    status = again.snapshot().status(parse_prefix(DROPPED))
    assert status is not None and (status.visible_peers, status.more_specific_peers) == (0, 0)
    assert held(again) == {KEPT}
    again.apply_all(announce(300, peer(i), DROPPED, (64500 + i, OWN)) for i in range(2))
    status = again.snapshot().status(parse_prefix(DROPPED))
    assert status is not None and status.visible_peers == 2


def test_a_reload_that_drops_a_prefix_drops_its_roa_invalidations_and_expiry() -> None:
    m = watching_both(rpki=True)
    m.set_vrps([Vrp(parse_prefix(DROPPED), 24, OWN, expires=30 * DAY), Vrp(parse_prefix(KEPT), 24, OWN)])
    m.set_vrps([Vrp(parse_prefix(DROPPED), 21, OWN, expires=30 * DAY), Vrp(parse_prefix(KEPT), 24, OWN)])
    before = m.snapshot().status(parse_prefix(DROPPED))
    assert before is not None and (before.rpki_roa_invalidations, before.rpki_expires) == (1, 30 * DAY)
    after = carry_over(m, config(KEPT, rpki=True), lambda changes: None)
    assert [str(s.prefix) for s in after.snapshot().prefixes] == [KEPT]
    roa = after.detectors["rpki-roa-change"].status(parse_prefix(DROPPED), after)
    assert roa == {"rpki_expires": None, "rpki_roa_invalidations": 0}
    # Watched again: the counter starts at 0, as it does for every prefix at a reload (docs/metrics.md).
    again = carry_over(after, config(DROPPED, KEPT, rpki=True), lambda changes: None)
    status = again.snapshot().status(parse_prefix(DROPPED))
    assert status is not None and (status.rpki_roa_invalidations, status.rpki_expires) == (0, 30 * DAY)


def test_a_restart_with_a_prefix_removed_from_the_config_does_not_bring_it_back_from_the_state_file(
        tmp_path: Path) -> None:
    """The same through a stop and start: the saved state still holds the removed prefix, the config does not."""
    path = tmp_path / "state.json"
    save_state(watching_both(), path)
    restarted = parse_config({"prefixes": [{"prefix": KEPT, "asn": [OWN]}], "state": {"path": str(path)}})
    started = start_core(restarted, lambda changes: None, lambda: 0.0)
    assert not started.state_rejected
    assert [str(s.prefix) for s in started.monitor.snapshot().prefixes] == [KEPT]
    assert held(started.monitor) == {KEPT}
    assert started.monitor.watch.get(parse_prefix(DROPPED)) is None


def test_an_asn_removed_by_a_reload_and_added_back_starts_from_none_found_not_from_its_cap() -> None:
    """Its discovered-prefix count goes with it: carried, the count would hold the AS at its cap."""
    with_asn = {"prefixes": [{"prefix": KEPT, "asn": [OWN]}], "asns": [{"asn": 64_510, "max_prefixes": 1}]}
    m = build_tapped(parse_config(with_asn), bootstrapped=True)
    m.apply_all([announce(100, peer(0), "203.0.113.0/24", (64_500, 64_510))])
    assert dump_state(m)["asn_prefix_count"] == {"64510": 1}
    without = carry_over(m, config(KEPT), lambda changes: None)
    assert dump_state(without)["asn_prefix_count"] == {}
    again = carry_over(without, parse_config(with_asn), lambda changes: None)
    again.apply_all([announce(200, peer(0), "203.0.114.0/24", (64_500, 64_510))])
    assert "203.0.114.0/24" in {str(s.prefix) for s in again.snapshot().prefixes}
