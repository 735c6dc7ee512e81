"""The BGPStream source against bgpdump: elems built from ``bgpdump -m`` lines give the MRT reader's events."""

from __future__ import annotations

import dataclasses

import pytest

from routewatch.model import Event, RouteAnnouncement, RouteWithdrawal
from routewatch.sources.bgpstream import (
    FSM_STATES,
    BgpStreamReader,
    elem_to_events,
)
from routewatch.sources.mrt.reader import read_mrt
from tests.support.bgpdump import bgpdump_lines
from tests.support.bgpdump_format import NO_NEXT_HOP, BgpdumpLine
from tests.support.tools import MRT_DIR, require_data
from tests.unit.test_bgpstream import Elem, FakeStream

STATE_NAMES = {number: name for name, number in FSM_STATES.items()}
FILES = sorted(p.name for p in MRT_DIR.glob("*") if p.is_file() and p.name != "bview.20020722.2337.gz")



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



async def test_source_runs_the_stream_in_a_thread_and_keeps_order() -> None:
    lines = bgpdump_lines(require_data(MRT_DIR / "ris.rrc06.updates.1427846400.gz"))
    elems = [elem_from_line(line, i) for i, line in enumerate(lines)]
    elems.insert(3, Elem("A", 1.0, "192.0.2.1", 1, {"prefix": "not a prefix"}))
    fake = FakeStream(elems)
    source = BgpStreamReader(
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
