"""The MRT reader's own contract: collectors, the prefix filter, interning, AS4 merge, ADD-PATH updates."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from routewatch.model import RouteAnnouncement, RouteWithdrawal
from routewatch.sources.bgpwire.attributes import (
    AttributeDecoder,
    _network_by_constructor,
    _network_by_fields,
    decode_segments,
    merge_as4_path,
)
from routewatch.sources.mrt.reader import MrtStats, collector_from_path, read_mrt
from tests.support.tools import MRT_DIR, require_data


@pytest.mark.parametrize(
    ("path", "collector"),
    [
        ("data/ris.rrc06.updates.1427846400.gz", "rrc06"),
        ("archive/rrc21/2024.09/updates.20240914.2230.gz", "rrc21"),
        ("routeviews.route-views.jinx.updates.1401493500.bz2", "route-views.jinx"),
        ("route-views2/bgpdata/2015.04/UPDATES/updates.20150401.0000.bz2", "route-views2"),
        ("routeviews.route-views.updates.1427846400.bz2", "route-views"),
        ("updates.20100722.2015.gz", "mrt"),
    ],
)
def test_collector_from_path(path: str, collector: str) -> None:
    assert collector_from_path(path) == collector


def test_events_carry_the_collector() -> None:
    path = require_data(MRT_DIR / "ris.rrc06.updates.1427846400.gz")
    assert {e.peer.collector for e in read_mrt(path)} == {"rrc06"}
    assert {e.peer.collector for e in read_mrt(path, collector="x")} == {"x"}


def test_prefix_filter_sees_ints_and_counts_rejections() -> None:
    path = require_data(MRT_DIR / "updates.20100722.2015.gz")
    watched = ipaddress.ip_network("62.0.0.0/8")
    seen: list[tuple[int, int, int]] = []

    def accept(version: int, network: int, length: int) -> bool:
        seen.append((version, network, length))
        return version == 4 and length >= 8 and network >> 24 == 62

    stats = MrtStats()
    events = list(read_mrt(path, prefix_filter=accept, stats=stats))
    routes = [e for e in events if isinstance(e, RouteAnnouncement | RouteWithdrawal)]
    everything = [e for e in read_mrt(path) if isinstance(e, RouteAnnouncement | RouteWithdrawal)]
    assert routes == [e for e in everything if e.prefix.version == 4 and e.prefix.subnet_of(watched)]  # type: ignore[arg-type]
    assert stats.elements == len(everything) == len(seen) == 5067 + 547
    assert stats.filtered == len(everything) - len(routes) > 0
    assert len(events) - len(routes) == 40  # state changes always pass
    assert {v for v, _, _ in seen} == {4, 6}


def test_equal_paths_and_prefixes_are_shared_objects() -> None:
    events = [
        e for e in read_mrt(require_data(MRT_DIR / "updates.20071015.1505.gz")) if isinstance(e, RouteAnnouncement)
    ]
    by_path: dict[object, int] = {}
    for e in events:
        by_path.setdefault(e.as_path, id(e.as_path))
        assert id(e.as_path) == by_path[e.as_path]
    by_prefix = {}
    for e in events:
        assert by_prefix.setdefault(e.prefix, e.prefix) is e.prefix
    communities = {}
    for e in events:
        assert communities.setdefault(e.communities, e.communities) is e.communities


def test_as4_merge_rfc6793() -> None:
    assert merge_as4_path((1, 2, 23456, 23456), (196608, 196609)) == (1, 2, 196608, 196609)
    assert merge_as4_path((1, 23456, frozenset({5, 23456})), (196608, frozenset({5, 196610}))) == (
        1,
        196608,
        frozenset({5, 196610}),
    )
    # AS4_PATH longer than AS_PATH: ignored.
    assert merge_as4_path((1, 23456), (7, 8, 196608)) == (1, 23456)


def test_segments_sets_and_confederations() -> None:
    raw = bytes([2, 2, 0, 1, 0, 2, 3, 1, 0, 9, 1, 2, 0, 3, 0, 4])
    assert decode_segments(raw, 2) == (1, 2, frozenset({3, 4}))


@pytest.mark.parametrize(
    "text", ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.128/25", "2001:db8::/32", "::/0", "2001:db8::/126"]
)
def test_fast_network_construction_equals_the_constructor(text: str) -> None:
    network = ipaddress.ip_network(text)
    v4 = network.version == 4
    fast = _network_by_fields(v4, int(network.network_address), network.prefixlen)
    assert fast == network and hash(fast) == hash(network) and str(fast) == text
    assert (
        list(fast.subnets())[0]
        == list(_network_by_constructor(v4, int(network.network_address), network.prefixlen).subnets())[0]
    )
    assert AttributeDecoder().prefix(1 if v4 else 2, network.prefixlen, int(network.network_address)) == network


def _bgp4mp_addpath_update(path_id: int) -> bytes:
    """A BGP4MP_MESSAGE_AS4_ADDPATH UPDATE announcing 192.0.2.0/24 and withdrawing 198.51.100.0/24."""
    withdrawn = struct.pack(">IB", path_id + 1, 24) + bytes([198, 51, 100])
    attrs = bytes([0x40, 1, 1, 0])  # ORIGIN IGP
    attrs += bytes([0x40, 2, 10, 2, 2]) + struct.pack(">II", 64500, 4200000000)
    attrs += bytes([0x40, 3, 4, 192, 0, 2, 1])
    nlri = struct.pack(">IB", path_id, 24) + bytes([192, 0, 2])
    body = struct.pack(">H", len(withdrawn)) + withdrawn + struct.pack(">H", len(attrs)) + attrs + nlri
    message = b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body
    header = struct.pack(">IIHH", 64500, 65000, 0, 1) + bytes([192, 0, 2, 1, 192, 0, 2, 2])
    record = header + message
    return struct.pack(">IHHI", 1700000000, 16, 9, len(record)) + record


def test_open_keepalive_notification_are_counted_not_yielded() -> None:
    stats = MrtStats()
    events = list(read_mrt(require_data(MRT_DIR / "updates.20020722.2238.gz"), stats=stats))
    assert stats.skipped_messages == {"KEEPALIVE": 615, "OPEN": 13, "NOTIFICATION": 7}
    assert stats.records == 1121 and stats.malformed == 0
    assert len(events) == 825 + 2419 + 93
