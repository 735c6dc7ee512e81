"""The MRT reader against bgpdump on files written here."""

from __future__ import annotations

from pathlib import Path

from routewatch.model import RouteAnnouncement
from routewatch.sources.mrt.reader import read_mrt
from tests.support.bgpdump import bgpdump_lines
from tests.support.tools import require_tool
from tests.unit.test_mrt_reader import _bgp4mp_addpath_update


def test_bgp4mp_addpath_updates_carry_path_ids(tmp_path: Path) -> None:
    path = tmp_path / "addpath.mrt"
    path.write_bytes(_bgp4mp_addpath_update(7) + _bgp4mp_addpath_update(9))
    events = list(read_mrt(path))
    assert [(type(e).__name__, str(e.prefix), e.path_id) for e in events] == [  # type: ignore[union-attr]
        ("RouteWithdrawal", "198.51.100.0/24", 8),
        ("RouteAnnouncement", "192.0.2.0/24", 7),
        ("RouteWithdrawal", "198.51.100.0/24", 10),
        ("RouteAnnouncement", "192.0.2.0/24", 9),
    ]
    announcement = events[1]
    assert isinstance(announcement, RouteAnnouncement)
    assert announcement.as_path == (64500, 4200000000) and announcement.next_hop == "192.0.2.1"
    require_tool("bgpdump")
    lines = bgpdump_lines(path)
    assert [(line.kind, line.prefix, line.path_id, line.as_path) for line in lines] == [
        ("W", "198.51.100.0/24", 8, ""),
        ("A", "192.0.2.0/24", 7, "64500 4200000000"),
        ("W", "198.51.100.0/24", 10, ""),
        ("A", "192.0.2.0/24", 9, "64500 4200000000"),
    ]
