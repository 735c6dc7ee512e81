"""The station reads a router's byte stream the same however TCP cuts it into chunks.

The station reads whatever a connection has (up to 64 KiB) and frames
messages itself, carrying a partial message over to the next read; these
tests feed one stream in arbitrary pieces, each delivered on its own, and
compare the events with those of the whole stream read at once. The messages
come from the tests' own BMP writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.config.schema import parse_config
from routewatch.model import Event, parse_prefix
from routewatch.sources.base import SourceContext, WatchTargets
from routewatch.sources.bmp.messages import MalformedBmp
from routewatch.sources.bmp.router import RouterCounters, RouterState
from routewatch.sources.bmp.station import BmpStation
from tests.support.bmp_writer import initiation, peer_down, peer_up, route_monitoring, statistics
from tests.support.mrt_writer import Update

ROUTER = "192.0.2.254"
WATCHED = "198.51.100.0/24"
STREAM = b"".join([
    initiation("edge1"), peer_up("192.0.2.1", 64501), peer_up("192.0.2.2", 64502),
    route_monitoring(Update(0, "192.0.2.1", 64501, [WATCHED], [64501, 64500]), time=1_700_000_001.0),
    route_monitoring(Update(0, "192.0.2.2", 64502, [WATCHED, "198.51.100.128/25"], [64502, 64500])),
    statistics("192.0.2.1", 64501),
    route_monitoring(Update(0, "192.0.2.1", 64501, withdrawn=[WATCHED]), time=1_700_000_002.0),
    peer_down("192.0.2.2", 64502),
])


class Sink:
    """Keeps the events; watches the one prefix."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.data_time = 0.0

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        self.events.extend(events)

    def flush(self) -> None:
        pass

    def targets(self) -> WatchTargets:
        return WatchTargets((parse_prefix(WATCHED),))

    def target_counts(self) -> tuple[int, int]:
        return (1, 0)


async def read(pieces: Sequence[bytes], *, replaced_after: int | None = None) -> list[Event]:
    """The events of ``pieces`` fed one by one to the station's reader of one connection, then its close.

    With ``replaced_after``, the router connects again once that many pieces
    were read: a newer connection owns the router, as ``_connection`` makes it.
    """
    config = parse_config({"sources": [{"type": "bmp", "port": 11019, "routers": [ROUTER]}]})
    station = BmpStation(config.sources[0], SourceContext(config, clock=lambda: 1_800_000_000.0))
    sink = Sink()
    station._sink = sink  # type: ignore[assignment]
    connection = object()
    station._writers[ROUTER] = connection  # type: ignore[assignment]
    station.router_counters[ROUTER] = RouterCounters()
    router = RouterState(ROUTER, station._attributes, station._filter.accept, station._stats,
                         station.settings.policy)
    reader = asyncio.StreamReader()
    reading = asyncio.create_task(station._read(reader, connection, router))  # type: ignore[arg-type]
    for count, piece in enumerate(pieces):
        if count == replaced_after:
            station._writers[ROUTER] = object()  # type: ignore[assignment]
        reader.feed_data(piece)
        for _ in range(3):  # let the reader take this piece alone
            await asyncio.sleep(0)
    reader.feed_eof()
    await reading
    return sink.events


WHOLE = asyncio.run(read([STREAM]))


def test_the_whole_stream_gives_sessions_and_routes() -> None:
    kinds = [type(e).__name__ for e in WHOLE]
    assert kinds.count("PeerStateChange") == 5 and kinds.count("RouteAnnouncement") == 3
    assert kinds.count("RouteWithdrawal") == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, len(STREAM) - 1), unique=True, max_size=40))
def test_any_cut_of_the_stream_reads_the_same(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    pieces = [STREAM[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    assert asyncio.run(read(pieces)) == WHOLE


@given(st.integers(1, len(STREAM) - 1))
@settings(max_examples=100, deadline=None)
def test_a_stream_closed_inside_a_message_is_damage(end: int) -> None:
    boundaries, pos = set(), 0
    while pos < len(STREAM):
        boundaries.add(pos)
        pos += int.from_bytes(STREAM[pos + 1:pos + 5], "big")
    try:
        asyncio.run(read([STREAM[:end]]))
    except MalformedBmp:
        assert end not in boundaries
    else:
        assert end in boundaries


def test_a_replaced_connection_applies_nothing_it_still_had() -> None:
    """The router connected again while the old connection's read waited: what that read brings is dropped.

    The newer connection has ended the router's sessions; a chunk of the old
    one applied after that would bring a peer and its routes back from a
    connection no longer trusted (a partial message left is no damage either).
    """
    first = initiation("edge1") + peer_up("192.0.2.1", 64501)
    late = STREAM[len(initiation("edge1")):]
    assert asyncio.run(read([first, late[:-3]], replaced_after=1)) == asyncio.run(read([first]))
    assert asyncio.run(read([first], replaced_after=0)) == []
