"""A replay that watches ASNs decodes what can matter only, and the core ends up exactly as when everything was decoded.

The MRT reader keeps a route when its prefix is relevant to the watch set as
it stands or when its path may make the core watch the prefix (a watched
origin, a watched carrier leaking it); everything else is deferred, undecoded,
and judged when the replay reaches it, since the watch set may grow in
between (the merge and each file's clock read ahead of the core). The
reference is the replay every release before this one did with watched ASNs:
every element of every file decoded and handed to the core.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from routewatch.core.engine import Engine
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import Peer, RouteAnnouncement, parse_prefix
from routewatch.sources.mrt.reader import read_mrt
from routewatch.tools.replay import ReplayReport, merged_events, replay_events, replay_files
from tests.support.mrt_writer import Update, write_updates
from tests.support.tools import MRT_DIR, require_data

WatchFactory = Callable[[], WatchSet]


def replay_deferring(watch: WatchFactory, files: list[str]) -> tuple[Engine, ReplayReport]:
    monitor = Engine(watch())
    return monitor, replay_files(monitor, files)


def replay_everything(watch: WatchFactory, files: list[str]) -> tuple[Engine, ReplayReport]:
    """What a replay with watched ASNs did before: no filter at all."""
    monitor = Engine(watch())
    report = ReplayReport()
    return monitor, replay_events(monitor, merged_events(files, report, prefix_filter=None), report)


def outcome(monitor: Engine, report: ReplayReport) -> dict[str, object]:
    snapshot = monitor.snapshot()
    return {
        "changes": [change.as_json() for change in report.changes],
        "statuses": snapshot.prefixes,
        "open": snapshot.open_detections,
        "over cap": snapshot.asn_over_cap,
        "routes": {str(p): monitor.table.raw_routes(p) for p in monitor.table.prefixes()},
        "route updates": snapshot.updates,
        "watched": sorted((str(w.prefix), w.source, sorted(w.origins)) for w in monitor.watch),
        "carried": dict(monitor.watch.carried_count),
        "time": snapshot.time,
    }


def seen_in(files: list[str]) -> tuple[list[int], list[int], list[tuple[str, int]], list[int]]:
    """(origins by frequency, transit ASes by frequency, (prefix, origin) announced, 4-byte origins by frequency)."""
    origins: Counter[int] = Counter()
    transit: Counter[int] = Counter()
    announced: dict[str, int] = {}
    for path in files:
        for event in read_mrt(path):
            if isinstance(event, RouteAnnouncement) and event.as_path and isinstance(event.as_path[-1], int):
                origins[event.as_path[-1]] += 1
                transit.update(hop for hop in event.as_path[1:-1] if isinstance(hop, int))
                announced.setdefault(str(event.prefix), event.as_path[-1])
    wide = [asn for asn, _ in origins.most_common() if asn > 0xFFFF]
    return ([a for a, _ in origins.most_common()], [a for a, _ in transit.most_common()], list(announced.items()),
            wide)


def watch_sets(files: list[str]) -> dict[str, WatchFactory]:
    """Three ways to watch ASNs in these files: origins with small caps, origins beside watched prefixes, carriers."""
    origins, transit, announced, wide = seen_in(files)
    thresholds = WithdrawalThresholds()
    configured = [WatchedPrefix(parse_prefix(p), frozenset({asn}), thresholds) for p, asn in announced[::50][:30]]
    carriers = [asn for asn in transit if asn not in origins[:2]][:4]
    return {
        "origins": lambda: WatchSet(asns={asn: 3 for asn in [*origins[:12], *wide[:4]]}),
        "origins and prefixes": lambda: WatchSet(configured, asns={asn: 1000 for asn in origins[:5]}),
        "carriers": lambda: WatchSet(configured[:10], asns={**{asn: 5 for asn in carriers}, origins[1]: 2},
                                     carriers={asn: frozenset({origins[0]}) for asn in carriers}),
    }


ALL = ("origins", "origins and prefixes", "carriers")
FILE_SETS = {  # (files, the watch sets replayed: the large RIB with the one that tells the most, to keep it short)
    "2- and 4-byte sessions": (["updates.20100722.2015.gz"], ALL),
    "two collectors, one time": (["ris.rrc06.updates.1427846400.gz",
                                  "routeviews.route-views.jinx.updates.1427846400.bz2"], ALL),
    "a RIB after updates read first": (["bview.20020722.2337.gz", "updates.20020722.2238.gz"],
                                       ("origins and prefixes",)),
    "microsecond times": (["updates.20240914.2230.bz2"], ALL),
    "ADD-PATH RIBs": (["bview.ipv4_unicast_add_path.gz", "bview.ipv6_unicast_add_path.gz",
                       "updates.long_withdrawal.gz"], ALL),
}


@pytest.mark.parametrize(("files", "watched"), FILE_SETS.values(), ids=FILE_SETS.keys())
def test_watching_asns_replays_as_decoding_everything(files: list[str], watched: tuple[str, ...]) -> None:
    paths = [str(require_data(MRT_DIR / name)) for name in files]
    for name, watch in watch_sets(paths).items():
        if name not in watched:
            continue
        deferring, deferring_report = replay_deferring(watch, paths)
        everything, everything_report = replay_everything(watch, paths)
        assert outcome(deferring, deferring_report) == outcome(everything, everything_report), name
        assert deferring_report.elements == everything_report.elements, name
        filtered = sum(stats.filtered for stats in deferring_report.stats.values())
        assert filtered > 0 and deferring_report.events == everything_report.events - filtered, name


ORIGIN = 64500
PEERS = [(f"192.0.2.{i}", 65000 + i) for i in range(1, 5)]


def test_a_route_originated_by_a_watched_asn_is_discovered_whatever_its_prefix(tmp_path: Path) -> None:
    (ip1, as1), (ip2, as2), (ip3, as3), _ = PEERS
    updates = write_updates(tmp_path / "updates.1", [
        Update(1000, ip1, as1, ["203.0.113.0/24"], [as1, 65100, ORIGIN]),
        Update(1000, ip2, as2, ["198.51.100.0/24"], [as2, 65100, 65200]),
        Update(1001, ip3, as3, ["192.0.2.128/25"], [as3, frozenset({ORIGIN, 65300})]),  # an AS_SET origin
    ])
    monitor, report = replay_deferring(lambda: WatchSet(asns={ORIGIN: 10}), [str(updates)])
    watched = {str(w.prefix): (w.source, w.origins) for w in monitor.watch}
    assert watched == {"203.0.113.0/24": ("asn:64500", {ORIGIN}), "192.0.2.128/25": ("asn:64500", {ORIGIN})}
    assert list(monitor.table.raw_routes(parse_prefix("203.0.113.0/24")).values()) == [(as1, 65100, ORIGIN)]
    assert report.stats[str(updates)].filtered == 1  # the route of nobody's prefix, by nobody watched, was not built
    assert report.events == 2


def test_routes_read_before_their_prefix_is_discovered_still_count(tmp_path: Path) -> None:
    """The file listed first is read ahead, before the other file shows who originates the prefix.

    Its first records (a withdrawal, a more-specific from another origin) come
    after the discovery in data time: the core applies them, and so must the
    replay, though nothing watched them when they were read.
    """
    (ip1, as1), (ip2, as2), (ip3, as3), _ = PEERS
    later = write_updates(tmp_path / "updates.later", [
        Update(1001, ip1, as1, withdrawn=["203.0.113.0/24"]),
        Update(1001, ip3, as3, ["203.0.113.128/25"], [as3, 65666]),
    ])
    earlier = write_updates(tmp_path / "updates.earlier", [
        Update(1000, ip1, as1, ["203.0.113.0/24"], [as1, ORIGIN]),
        Update(1000, ip2, as2, ["203.0.113.0/24"], [as2, ORIGIN]),
    ])
    files = [str(later), str(earlier)]
    monitor, report = replay_deferring(lambda: WatchSet(asns={ORIGIN: 10}), files)
    peers = {index: peer for index, peer in enumerate(monitor.table.peers)}
    holders = {peers[i] for i in monitor.table.unicast_paths_by_peer(parse_prefix("203.0.113.0/24"))}
    assert holders == {Peer("mrt", ip2, as2)}  # the withdrawal read first was applied after the announcement
    assert list(monitor.table.raw_routes(parse_prefix("203.0.113.128/25")).values()) == [(as3, 65666)]
    assert report.events == 4
    assert outcome(monitor, report) == outcome(*replay_everything(lambda: WatchSet(asns={ORIGIN: 10}), files))


def test_a_deferred_record_found_malformed_when_it_matters_gives_no_route(tmp_path: Path) -> None:
    """Its attributes were not decoded when it was read; they are when its prefix turns out watched."""
    (ip1, as1), (ip2, as2), _, _ = PEERS
    updates = write_updates(tmp_path / "updates.1", [
        Update(1000, ip1, as1, ["203.0.113.0/24"], [as1, ORIGIN]),
        Update(1000, ip2, as2, ["203.0.113.0/24"], [as2, 65666], communities=b"\x00\x01\x00"),
    ])

    def watch() -> WatchSet:
        return WatchSet(asns={ORIGIN: 10})

    monitor, report = replay_deferring(watch, [str(updates)])
    assert list(monitor.table.raw_routes(parse_prefix("203.0.113.0/24")).values()) == [(as1, ORIGIN)]
    stats = report.stats[str(updates)]
    assert (stats.malformed, stats.elements, stats.filtered) == (1, 1, 0)
    everything, everything_report = replay_everything(watch, [str(updates)])
    assert outcome(monitor, report) == outcome(everything, everything_report)
    assert everything_report.stats[str(updates)] == stats


def test_a_carrier_leaking_a_route_makes_it_matter_whatever_its_prefix(tmp_path: Path) -> None:
    carrier, customer = 65010, 65020
    (ip1, as1), (ip2, as2), _, _ = PEERS
    updates = write_updates(tmp_path / "updates.1", [
        Update(1000, ip1, as1, ["203.0.113.0/24"], [as1, carrier, 65030, 64999]),  # through an undeclared AS
        Update(1000, ip2, as2, ["198.51.100.0/24"], [as2, carrier, customer, 64999]),  # through its customer
    ])

    def watch() -> WatchSet:
        return WatchSet(asns={carrier: 10}, carriers={carrier: frozenset({customer})})

    monitor, report = replay_deferring(watch, [str(updates)])
    assert [(str(w.prefix), w.source) for w in monitor.watch] == [("203.0.113.0/24", f"path:{carrier}")]
    assert report.stats[str(updates)].filtered == 1
    assert outcome(monitor, report) == outcome(*replay_everything(watch, [str(updates)]))


def test_without_watched_asns_nothing_is_deferred(tmp_path: Path) -> None:
    (ip1, as1), (ip2, as2), _, _ = PEERS
    updates = write_updates(tmp_path / "updates.1", [
        Update(1000, ip1, as1, ["203.0.113.0/24"], [as1, ORIGIN]),
        Update(1000, ip2, as2, ["198.51.100.0/24"], [as2, ORIGIN]),
    ])
    watched = WatchedPrefix(ipaddress.ip_network("203.0.113.0/24"), frozenset({ORIGIN}), WithdrawalThresholds())
    monitor, report = replay_deferring(lambda: WatchSet([watched]), [str(updates)])
    assert report.events == 1 and report.stats[str(updates)].filtered == 1
    assert [str(w.prefix) for w in monitor.watch] == ["203.0.113.0/24"]
