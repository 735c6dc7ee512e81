"""routewatch's MRT reader against bgpdump, element by element, on every shared file."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from routewatch.model import (
    AS_TRANS,
    Event,
    PeerStateChange,
    RouteAnnouncement,
    RouteWithdrawal,
    canonical_address,
    format_as_path,
)
from routewatch.sources.mrt.reader import MrtStats, read_mrt
from tests.support.bgpdump import bgpdump_lines, bgpdump_text
from tests.support.bgpdump_format import NO_NEXT_HOP, BgpdumpLine, parse_line
from tests.support.tools import MRT_DIR, require_data, require_tool

MRT_FILES = sorted(p for p in MRT_DIR.glob("*") if p.is_file())
EXPECTED = MRT_DIR / "bgpdump-expected" / "updates.20100722.2015.gz.bgp.gz"

_events_cache: dict[Path, tuple[list[Event], MrtStats]] = {}


def events_of(path: Path) -> list[Event]:
    """read_mrt's events for a file, read once per test run."""
    if path not in _events_cache:
        stats = MrtStats()
        _events_cache[path] = (list(read_mrt(require_data(path), stats=stats)), stats)
    return _events_cache[path][0]


@pytest.fixture(scope="session", autouse=True)
def _bgpdump_installed() -> None:
    require_tool("bgpdump")


def hops(path_text: str) -> list[str | frozenset[str]]:
    """An AS path's hops as text, sets as frozensets: bgpdump keeps a set's wire order, we sort."""
    return [frozenset(t.strip("{}").split(",")) if t.startswith("{") else t for t in path_text.split()]


def event_view(event: Event) -> tuple[object, ...]:
    """What bgpdump -m shows of an event, in the same shapes as line_view."""
    peer = (event.peer.address, event.peer.asn)
    if isinstance(event, PeerStateChange):
        return ("STATE", int(event.time), *peer, event.old_state, event.new_state)
    if isinstance(event, RouteWithdrawal):
        return ("W", int(event.time), *peer, str(event.prefix))
    assert isinstance(event, RouteAnnouncement)
    return ("A", int(event.time), *peer, str(event.prefix), hops(format_as_path(event.as_path)))


def line_view(line: BgpdumpLine) -> tuple[object, ...]:
    peer = (canonical_address(line.peer_address), line.peer_asn)
    time = int(line.time)
    if line.kind == "STATE":
        return ("STATE", time, *peer, line.old_state, line.new_state)
    if line.kind == "W":
        return ("W", time, *peer, line.prefix)
    return ("A", time, *peer, line.prefix, hops(line.as_path))


def test_every_shared_file_is_covered() -> None:
    assert len(MRT_FILES) == 15, [p.name for p in MRT_FILES]


@pytest.mark.parametrize("path", MRT_FILES, ids=lambda p: p.name)
def test_elements_equal_bgpdump(path: Path) -> None:
    events = events_of(path)
    lines = bgpdump_lines(path)
    assert len(events) == len(lines)
    mismatches = [
        (i, event_view(e), line_view(line))
        for i, (e, line) in enumerate(zip(events, lines, strict=True))
        if event_view(e) != line_view(line)
    ]
    assert mismatches[:5] == []
    # bgpdump prints ADD-PATH ids (TABLE_DUMP2_AP, BGP4MP_AP); the other formats carry none.
    assert [getattr(e, "path_id", 0) for e in events] == [line.path_id for line in lines]


def test_matches_bgpdump_reference_output() -> None:
    """bgpdump's own published decoding of updates.20100722.2015.gz, independent of the installed build."""
    with gzip.open(require_data(EXPECTED), "rt") as handle:
        lines = [parse_line(text) for text in handle if text.strip()]
    events = events_of(MRT_DIR / "updates.20100722.2015.gz")
    assert len(lines) == 5067 + 547 + 40
    assert [event_view(e) for e in events] == [line_view(line) for line in lines]


def test_extended_timestamps_keep_microseconds() -> None:
    path = MRT_DIR / "updates.20240914.2230.bz2"
    lines = bgpdump_lines(path)
    assert {line.record for line in lines} == {"BGP4MP_ET"}
    assert [f"{e.time:.6f}" for e in events_of(path)] == [line.time_text for line in lines]
    assert any(not line.time_text.endswith(".000000") for line in lines)


def test_long_withdrawal_yields_4096_withdrawals() -> None:
    events = events_of(MRT_DIR / "updates.long_withdrawal.gz")
    assert len(events) == 4096
    assert all(isinstance(e, RouteWithdrawal) and e.prefix.version == 6 for e in events)
    assert len({e.prefix for e in events}) == 4096


@pytest.mark.parametrize("name", ["updates.20100722.2015.gz", "updates.20240914.2230.bz2", "bview.20020722.2337.gz"])
def test_route_attributes_equal_bgpdump(name: str) -> None:
    """ORIGIN, next hop, communities and large communities of every announcement."""
    path = MRT_DIR / name
    announcements = [e for e in events_of(path) if isinstance(e, RouteAnnouncement)]
    lines = [line for line in bgpdump_lines(path, large_communities=True) if line.is_announcement]
    assert len(announcements) == len(lines)
    got = [(str(e.origin), e.next_hop, e.communities, e.large_communities) for e in announcements]
    expected = [
        (
            line.origin,
            None if line.next_hop == NO_NEXT_HOP else canonical_address(line.next_hop),
            line.community_pairs(),
            line.large_community_triples(),
        )
        for line in lines
    ]
    assert got == expected
    assert any(e.communities for e in announcements) or name.startswith("updates.2024")


def test_well_known_communities_are_kept() -> None:
    events = events_of(MRT_DIR / "updates.20100722.2015.gz")
    assert any((0xFFFF, 0xFF01) in e.communities for e in events if isinstance(e, RouteAnnouncement))


def _verbose_blocks(path: Path) -> list[str]:
    return bgpdump_text(path, "-H").split("\n\n")


def _prefixes_under(block: str, heading: str) -> list[str]:
    """The prefixes listed under ANNOUNCE or WITHDRAW in a bgpdump -H block."""
    match = re.search(rf"^{heading}\n((?:  .*\n?)*)", block, re.MULTILINE)
    return [line.strip().split()[0] for line in match.group(1).splitlines()] if match else []


def test_ipv4_multicast_safi_equals_bgpdump_verbose() -> None:
    """bgpdump -m prints multicast like unicast; -H names the family of each MP attribute."""
    path = MRT_DIR / "updates.20070211.0141.gz"
    expected_announced: list[str] = []
    expected_withdrawn: list[str] = []
    for block in _verbose_blocks(path):
        if "MP_REACH_NLRI(IPv4 Multicast)" in block:
            assert "MP_REACH_NLRI(IPv4 Unicast)" not in block and "\nNEXT_HOP" not in block.split("MP_REACH")[0]
            expected_announced += _prefixes_under(block, "ANNOUNCE")
        if "MP_UNREACH_NLRI(IPv4 Multicast)" in block:
            expected_withdrawn += _prefixes_under(block, "WITHDRAW")
    events = events_of(path)
    multicast_a = [e for e in events if isinstance(e, RouteAnnouncement) and e.safi == 2]
    multicast_w = [e for e in events if isinstance(e, RouteWithdrawal) and e.safi == 2]
    assert expected_announced and expected_withdrawn
    assert [str(e.prefix) for e in multicast_a] == expected_announced
    assert [str(e.prefix) for e in multicast_w] == expected_withdrawn
    # Without an IPv4 NEXT_HOP attribute, the next hop comes from MP_REACH_NLRI.
    assert all(e.next_hop for e in multicast_a)


@pytest.mark.parametrize("name", ["bview.ipv4_unicast_add_path.gz", "bview.ipv6_unicast_add_path.gz"])
def test_add_path_ids_equal_bgpdump_verbose(name: str) -> None:
    path = MRT_DIR / name
    expected = [
        (m.group(1), int(m.group(2)))
        for m in re.finditer(r"^PREFIX: (\S+) PATH_ID: (\d+)$", bgpdump_text(path, "-H"), re.MULTILINE)
    ]
    events = events_of(path)
    assert [(str(e.prefix), getattr(e, "path_id", None)) for e in events] == expected
    assert len(set(expected)) == len(expected) == 62
    assert {getattr(e, "safi", None) for e in events} == {1}


def test_as_trans_never_originates_on_merged_paths() -> None:
    """2-byte sessions carry AS4_PATH; after the merge no origin is AS_TRANS (as bgpdump prints)."""
    path = MRT_DIR / "updates.20100722.2015.gz"
    announcements = [e for e in events_of(path) if isinstance(e, RouteAnnouncement)]
    four_byte_origins = [e for e in announcements if any(asn > 65535 for asn in e.origin_asns)]
    assert four_byte_origins  # the file has 4-byte origins seen through 2-byte sessions
    assert not any(AS_TRANS in e.origin_asns for e in announcements)


def test_rib_entries_use_the_dump_time() -> None:
    path = MRT_DIR / "bview.ipv4_unicast_add_path.gz"
    assert {e.time for e in events_of(path)} == {1452168107.0}
