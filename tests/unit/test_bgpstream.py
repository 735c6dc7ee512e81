"""The BGPStream source: elem conversion checked against the MRT reader, filters, the missing-library message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.daemon.core_sink import CoreDriver
from routewatch.errors import DependencyError
from routewatch.model import Peer, PeerStateChange, RouteAnnouncement, RouteWithdrawal, parse_prefix
from routewatch.sources.base import SourceContext
from routewatch.sources.bgpstream import (
    BgpStreamFeed,
    BgpStreamReader,
    bgpstream_filter,
    elem_to_events,
    parse_as_path,
    read_bgpstream_file,
)
from tests.support.tools import MRT_DIR


@dataclass
class Elem:
    """Shaped like pybgpstream's BGPElem (the attributes routewatch reads)."""

    type: str
    time: float
    peer_address: str
    peer_asn: int
    fields: Mapping[str, Any] = field(default_factory=dict)


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
        BgpStreamReader(project="ris-live")


class FakeStream:
    """Stands in for pybgpstream.BGPStream: records its options, yields prebuilt elems."""

    def __init__(self, elems: list[Elem]) -> None:
        self.elems = elems
        self.options: dict[str, Any] = {}

    def __call__(self, **options: Any) -> Iterator[Elem]:
        self.options = options
        return iter(self.elems)


async def test_source_hands_stream_errors_to_the_consumer() -> None:
    def broken(**_options: Any) -> Iterator[Elem]:
        yield Elem("W", 1.0, "192.0.2.1", 1, {"prefix": "192.0.2.0/24"})
        raise RuntimeError("broker unreachable")

    source = BgpStreamReader(project="routeviews-stream", stream_factory=broken)
    first = await asyncio.wait_for(source.__anext__(), 5)
    assert isinstance(first, RouteWithdrawal)
    with pytest.raises(RuntimeError, match="broker unreachable"):
        await asyncio.wait_for(source.__anext__(), 5)


def test_a_stream_failing_before_its_first_elem_counts_as_a_connect_failure_not_a_reconnect() -> None:
    """A broker that cannot be reached fails every attempt before any elem: reconnects alone would stay 0."""
    settings = parse_config({"prefixes": [{"prefix": "192.0.2.0/24", "asn": 1}],
                             "sources": [{"type": "bgpstream", "project": "routeviews-stream"}],
                             "bgp": {"bootstrap": {"ripestat": False}}})

    def refused(**_options: Any) -> Iterator[Elem]:
        raise RuntimeError("broker unreachable")

    def broken(**_options: Any) -> Iterator[Elem]:
        yield Elem("W", 1.0, "192.0.2.1", 1, {"prefix": "192.0.2.0/24"})
        raise RuntimeError("stream reset")

    attempts = [refused, refused, broken]
    feed = BgpStreamFeed(settings.sources[0], SourceContext(settings, clock=lambda: 10.0),
                         stream_factory=lambda **options: attempts.pop(0)(**options))
    core = build_engine(settings)
    for reason in ("broker unreachable", "broker unreachable", "stream reset"):
        with pytest.raises(RuntimeError, match=reason):
            asyncio.run(feed.run(CoreDriver(core), asyncio.Event()))
        assert feed.health().up is False
    health = feed.health()
    assert (health.connect_failures, health.reconnects, health.messages) == (2, 1, 1)
