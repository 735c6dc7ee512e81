"""RIPEstat's bgplay answer read as a snapshot plus updates, and judged by the one definition of an address's routes."""

from __future__ import annotations

from collections import Counter

import pytest

from routewatch.config.schema import parse_config
from routewatch.errors import RipestatError
from routewatch.model import Peer, RouteAnnouncement, RouteWithdrawal, parse_prefix
from routewatch.sources.ripestat.history import parse_bgplay
from routewatch.tools.zone_routes import history_risks
from tests.support import service_prefix as sp
from tests.support.ripestat_server import bgplay

START = sp.ANNOUNCED + 1
ADDRESSES = list(sp.NAMESERVERS.values())


def test_routes_at_the_start_then_updates_with_the_peer_as_from_its_paths() -> None:
    answer = bgplay("127.0.0.17", 100, 200, [
        {"target_prefix": "127.0.0.16/29", "source_id": "00-192.0.2.1", "path": [64601, 174, 64500], "community": []},
        {"target_prefix": "127.0.0.16/29", "source_id": "12-2001:db8::1", "path": [64602, 64500], "community": []},
    ], [
        {"type": "W", "timestamp": 150, "seq": 1, "attrs": {"source_id": "00-192.0.2.1",
                                                              "target_prefix": "127.0.0.16/29"}},
        {"type": "A", "timestamp": 120, "seq": 2, "attrs": {"source_id": "00-192.0.2.9",
                                                              "target_prefix": "127.0.0.0/8",
                                                              "path": [64609, 64500], "community": []}},
    ])
    history = parse_bgplay(answer)
    service = parse_prefix("127.0.0.16/29")
    assert (history.start, history.end) == (100.0, 200.0)
    assert history.initial == (
        RouteAnnouncement(100.0, Peer("rrc00", "192.0.2.1", 64601), service, (64601, 174, 64500)),
        RouteAnnouncement(100.0, Peer("rrc12", "2001:db8::1", 64602), service, (64602, 64500)))
    assert history.updates == (  # in time order; the withdrawal's peer is the one that announced
        RouteAnnouncement(120.0, Peer("rrc00", "192.0.2.9", 64609), parse_prefix("127.0.0.0/8"), (64609, 64500)),
        RouteWithdrawal(150.0, Peer("rrc00", "192.0.2.1", 64601), service))


def test_unreadable_entries_are_skipped_and_counted() -> None:
    answer = bgplay("127.0.0.17", 100, 200, [
        {"target_prefix": "127.0.0.16/29", "source_id": "no-rrc", "path": [64601, 64500], "community": []},
        {"target_prefix": "not a prefix", "source_id": "00-192.0.2.1", "path": [64601, 64500], "community": []},
    ], [{"type": "X", "timestamp": 150, "seq": 1, "attrs": {"source_id": "00-192.0.2.1", "target_prefix": "1/8"}}])
    answer["data"]["events"].append("garbage")
    skipped: Counter[str] = Counter()
    history = parse_bgplay(answer, skipped)
    assert (history.initial, history.updates, skipped) == ((), (), Counter({"bgplay": 4}))


def test_an_answer_without_its_window_cannot_be_judged() -> None:
    answer = bgplay("127.0.0.17", 100, 200, [], [])
    del answer["data"]["query_endtime"]
    with pytest.raises(RipestatError, match="lacks its window"):
        parse_bgplay(answer)


def judged(end: int) -> dict[str, tuple[tuple[str, ...], int, int, bool]]:
    config = parse_config({"zones": [{"zone": sp.ZONE}]})
    histories = [parse_bgplay(sp.bgplay_answer(a, START, end)) for a in ADDRESSES]
    return {a: (tuple(map(str, r.service_prefixes)), r.baseline_peers, r.peers_at_risk, r.at_risk)
            for a, r in history_risks(config, histories, ADDRESSES).items()}


def test_the_withdrawn_service_prefix_is_seen_though_the_aggregate_is_left() -> None:
    """What a looking glass alone would miss: every peer's longest match is the /8 now, 34 of them fell to it."""
    assert judged(sp.END) == dict.fromkeys(ADDRESSES, ((sp.SERVICE,), 40, 34, True))


def test_before_the_withdrawal_nothing_is_at_risk() -> None:
    assert judged(sp.WITHDRAWALS - 1) == dict.fromkeys(ADDRESSES, ((sp.SERVICE,), 40, 0, False))
