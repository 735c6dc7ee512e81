"""The BGPStream source: elem conversion checked against the MRT reader, filters, the missing-library message."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from routewatch.errors import DependencyError
from routewatch.model import Event, Peer, PeerStateChange, RouteAnnouncement, RouteWithdrawal, parse_prefix
from routewatch.sources.bgpstream import (
    FSM_STATES,
    BgpStreamSource,
    bgpstream_filter,
    elem_to_events,
    parse_as_path,
    read_bgpstream_file,
)
from routewatch.sources.mrt.reader import read_mrt
from tests.support.bgpdump import NO_NEXT_HOP, BgpdumpLine, bgpdump_lines
from tests.support.tools import MRT_DIR, require_data

STATE_NAMES = {number: name for name, number in FSM_STATES.items()}
FILES = sorted(p.name for p in MRT_DIR.glob("*") if p.is_file() and p.name != "bview.20020722.2337.gz")


@dataclass
class Elem:
    """Shaped like pybgpstream's BGPElem (the attributes routewatch reads)."""

    type: str
    time: float
    peer_address: str
    peer_asn: int
    fields: Mapping[str, Any] = field(default_factory=dict)


def elem_from_line(line: BgpdumpLine, index: int) -> Elem:
    """An elem as pybgpstream would give it for a bgpdump -m line (its libbgpdump parses the same record)."""
    if line.kind == "STATE":
        # libbgpstream names the states; accept numbers too (alternate lines test both).
        old = STATE_NAMES[line.old_state] if index % 2 else line.old_state
        new = STATE_NAMES[line.new_state] if index % 2 else str(line.new_state)
        return Elem("S", line.time, line.peer_address, line.peer_asn, {"old-state": old, "new-state": new})
    if line.kind == "W":
        return Elem("W", line.time, line.peer_address, line.peer_asn, {"prefix": line.prefix})
    fields = {
        "prefix": line.prefix,
        "as-path": line.as_path,
        "next-hop": "" if line.next_hop == NO_NEXT_HOP else line.next_hop,
        "communities": set(line.communities.split()),
    }
    return Elem("R" if line.kind == "B" else "A", line.time, line.peer_address, line.peer_asn, fields)


def without_mrt_only_fields(event: Event) -> Event:
    """What a BGPStream elem cannot carry: SAFI, path id, ORIGIN, large communities; community order."""
    if isinstance(event, RouteAnnouncement):
        return dataclasses.replace(
            event,
            safi=1,
            path_id=0,
            origin=None,
            large_communities=(),
            communities=tuple(sorted(event.communities)),
        )
    if isinstance(event, RouteWithdrawal):
        return dataclasses.replace(event, safi=1, path_id=0)
    return event


@pytest.mark.parametrize("name", FILES)
def test_elems_from_bgpdump_give_the_mrt_readers_events(name: str) -> None:
    path = require_data(MRT_DIR / name)
    lines = bgpdump_lines(path)
    converted = [e for i, line in enumerate(lines) for e in elem_to_events(elem_from_line(line, i), "c")]
    expected = [without_mrt_only_fields(e) for e in read_mrt(path, collector="c")]
    assert len(converted) == len(expected) == len(lines)
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(converted, expected, strict=True)) if a != b]
    assert mismatches[:3] == []


def test_elem_conversion_details() -> None:
    elem = Elem(
        "A",
        1427846404.5,
        "2001:200:0:fe00:0:0:6249:0",
        25152,
        {
            "prefix": "2a02:2158:0:0:0:0:0:0/32",
            "as-path": "25152 2497 {4725,6939}",
            "next-hop": "2001:200:0:fe00::9c1:0",
            "communities": {"2914:420", "no-export"},
        },
    )
    (event,) = elem_to_events(elem, "rrc06")
    assert event == RouteAnnouncement(
        1427846404.5,
        Peer("rrc06", "2001:200:0:fe00::6249:0", 25152),
        parse_prefix("2a02:2158::/32"),
        (25152, 2497, frozenset({4725, 6939})),
        next_hop="2001:200:0:fe00::9c1:0",
        communities=((2914, 420), (65535, 65281)),
    )
    state = Elem("S", 1.0, "192.0.2.1", 64500, {"old-state": "established", "new-state": "idle"})
    assert elem_to_events(state, "c") == [PeerStateChange(1.0, Peer("c", "192.0.2.1", 64500), 6, 1)]
    assert not elem_to_events(state, "c")[0].established
    assert elem_to_events(Elem("X", 1.0, "192.0.2.1", 1), "c") == []
    with pytest.raises(ValueError):
        elem_to_events(Elem("W", 1.0, "192.0.2.1", 1, {"prefix": "10.0.0.1/8"}), "c")
    with pytest.raises(ValueError):
        elem_to_events(Elem("S", 1.0, "192.0.2.1", 1, {"old-state": "dancing", "new-state": 1}), "c")


def test_as_path_text() -> None:
    assert parse_as_path("") == ()
    assert parse_as_path("1 (65001 65002) 2 {3, 4}") == (1, 2, frozenset({3, 4}))


def test_filter_string() -> None:
    assert bgpstream_filter(["129.134.30.0/23"], ["announcements", "withdrawals"]) == (
        "prefix more 129.134.30.0/23 and elemtype announcements withdrawals"
    )
    assert bgpstream_filter([parse_prefix("129.134.30.0/23"), "2a03:2880::/32"]) == (
        "(prefix more 129.134.30.0/23 or prefix more 2a03:2880::/32)"
    )
    assert bgpstream_filter([], ["ribs"]) == "elemtype ribs"


def test_missing_pybgpstream_names_what_to_install(tmp_path: Path) -> None:
    try:
        import pybgpstream  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.fail("pybgpstream is importable here; this test covers its absence")
    with pytest.raises(DependencyError) as info:
        list(read_bgpstream_file(MRT_DIR / "ris.rrc06.updates.1427846400.gz", collector="rrc06"))
    message = str(info.value)
    assert "pip install 'routewatch[bgpstream]'" in message
    assert "https://github.com/CAIDA/libbgpstream" in message
    with pytest.raises(DependencyError):
        BgpStreamSource(project="ris-live")


class FakeStream:
    """Stands in for pybgpstream.BGPStream: records its options, yields prebuilt elems."""

    def __init__(self, elems: list[Elem]) -> None:
        self.elems = elems
        self.options: dict[str, Any] = {}

    def __call__(self, **options: Any) -> Iterator[Elem]:
        self.options = options
        return iter(self.elems)


async def test_source_runs_the_stream_in_a_thread_and_keeps_order() -> None:
    lines = bgpdump_lines(require_data(MRT_DIR / "ris.rrc06.updates.1427846400.gz"))
    elems = [elem_from_line(line, i) for i, line in enumerate(lines)]
    elems.insert(3, Elem("A", 1.0, "192.0.2.1", 1, {"prefix": "not a prefix"}))
    fake = FakeStream(elems)
    source = BgpStreamSource(
        project="ris-live",
        collectors=["rrc06"],
        filter="prefix more 192.0.2.0/24",
        queue_size=8,
        stream_factory=fake,
    )
    received = [event async for event in source]
    expected = [e for i, line in enumerate(lines) for e in elem_to_events(elem_from_line(line, i), "ris-live")]
    assert received == expected
    assert source.stats.malformed == 1
    assert fake.options == {
        "record_type": "updates",
        "project": "ris-live",
        "filter": "prefix more 192.0.2.0/24",
        "collectors": ["rrc06"],
    }


async def test_source_hands_stream_errors_to_the_consumer() -> None:
    def broken(**_options: Any) -> Iterator[Elem]:
        yield Elem("W", 1.0, "192.0.2.1", 1, {"prefix": "192.0.2.0/24"})
        raise RuntimeError("broker unreachable")

    source = BgpStreamSource(project="routeviews-stream", stream_factory=broken)
    first = await asyncio.wait_for(source.__anext__(), 5)
    assert isinstance(first, RouteWithdrawal)
    with pytest.raises(RuntimeError, match="broker unreachable"):
        await asyncio.wait_for(source.__anext__(), 5)
