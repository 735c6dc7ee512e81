"""The RIPEstat client against a local server speaking RIPEstat's documented formats."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator

import pytest

from routewatch.config.schema import RipestatSettings
from routewatch.errors import RipestatError
from routewatch.model import BgpOrigin, Peer, parse_prefix
from routewatch.sources.ripestat import (
    RipestatClient,
    parse_as_path,
    parse_looking_glass,
    parse_routing_status,
    parse_time,
    retry_after,
)
from tests.support import ripestat_server as rs

PREFIX = "193.0.0.0/21"


@pytest.fixture
def server() -> Iterator[rs.RipestatServer]:
    with rs.running() as running:
        running.add("looking-glass", PREFIX, rs.looking_glass(PREFIX, [
            rs.LgPeer("rrc00", "2.56.11.1", "34854 6939 3333", PREFIX, "34854:1009 34854:2000"),
            rs.LgPeer("rrc00", "2001:7f8:1:0:0:0:0:1", "1103 3333", PREFIX),
            rs.LgPeer("rrc06", "202.249.2.169", "2497 {3333,64512}", PREFIX, origin="INCOMPLETE"),
        ]))
        running.add("routing-status", PREFIX, rs.routing_status(
            PREFIX, origins=[3333], seeing=330, total=345, more_specifics=[("193.0.0.0/24", 3333)]))
        running.add("announced-prefixes", "AS3333", rs.announced_prefixes(3333, [PREFIX, "2001:67c:2e8::/48"]))
        yield running


class Sleeps:
    """An injected sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(server: rs.RipestatServer, sleeps: Sleeps | None = None, **settings: object) -> RipestatClient:
    values: dict[str, object] = {"url": server.url, "timeout": 5.0, "retries": 2, **settings}
    return RipestatClient(RipestatSettings(**values), sleep=sleeps or Sleeps())  # type: ignore[arg-type]


async def test_looking_glass_routes_with_peers_paths_and_sets(server: rs.RipestatServer) -> None:
    async with client(server) as stat:
        routes = await stat.looking_glass(PREFIX)
    assert [r.peer for r in routes] == [
        Peer("rrc00", "2.56.11.1", 34854), Peer("rrc00", "2001:7f8:1::1", 1103), Peer("rrc06", "202.249.2.169", 2497)]
    assert routes[0].as_path == (34854, 6939, 3333)
    assert routes[0].communities == ((34854, 1009), (34854, 2000))
    assert routes[2].as_path == (2497, frozenset({3333, 64512}))
    assert routes[2].origin_asns == frozenset({3333, 64512})
    assert routes[2].origin is BgpOrigin.INCOMPLETE
    assert {r.prefix for r in routes} == {ipaddress.ip_network(PREFIX)}
    assert {r.time for r in routes} == {parse_time("2024-01-01T07:59:00")}


async def test_every_request_carries_sourceapp(server: rs.RipestatServer) -> None:
    async with client(server, sourceapp="acme-noc") as stat:
        await stat.looking_glass(PREFIX)
        await stat.routing_status(PREFIX)
        await stat.announced_prefixes(3333)
    assert [r.call for r in server.requests] == ["looking-glass", "routing-status", "announced-prefixes"]
    assert {r.params["sourceapp"] for r in server.requests} == {"acme-noc"}
    assert server.requests[2].params["resource"] == "AS3333"


async def test_routing_status_is_typed(server: rs.RipestatServer) -> None:
    async with client(server) as stat:
        status = await stat.routing_status(PREFIX)
    assert status.origins == (3333,)
    assert status.visibility(4) is not None and status.visibility(4).seeing == 330  # type: ignore[union-attr]
    assert status.visibility_v4 is not None and status.visibility_v4.ratio == pytest.approx(330 / 345)
    assert status.visibility_v6 is not None and status.visibility_v6.seeing == 0
    assert status.first_seen is not None and status.first_seen.origin == 3333
    assert [m.prefix for m in status.more_specifics] == [parse_prefix("193.0.0.0/24")]


async def test_announced_prefixes(server: rs.RipestatServer) -> None:
    async with client(server) as stat:
        assert await stat.announced_prefixes(3333) == [parse_prefix(PREFIX), parse_prefix("2001:67c:2e8::/48")]


async def test_answers_are_cached_for_the_ttl(server: rs.RipestatServer) -> None:
    now = [0.0]
    stat = RipestatClient(RipestatSettings(url=server.url), cache_ttl=60.0, clock=lambda: now[0])
    async with stat:
        await stat.routing_status(PREFIX)
        await stat.routing_status(PREFIX)
        assert len(server.requests) == 1
        now[0] = 61.0
        await stat.routing_status(PREFIX)
    assert len(server.requests) == 2


async def test_concurrency_is_capped(server: rs.RipestatServer) -> None:
    server.meet, server.hold = 2, 0.05  # two in flight at once for sure; more would be seen while they are held
    resources = [f"193.0.{i}.0/24" for i in range(8)]
    for resource in resources:
        server.add("routing-status", resource, rs.routing_status(resource, origins=[3333], seeing=1, total=2))
    async with client(server, concurrency=2) as stat:
        results = await asyncio.gather(*(stat.routing_status(r) for r in resources))
    assert [r.resource for r in results] == resources
    assert server.max_in_flight == 2


async def test_server_errors_are_retried_with_exponential_backoff(server: rs.RipestatServer) -> None:
    server.faults = [rs.SERVER_ERROR, rs.SERVER_ERROR]
    sleeps = Sleeps()
    async with client(server, sleeps, retries=3) as stat:
        status = await stat.routing_status(PREFIX)
    assert status.origins == (3333,)
    assert sleeps.waits == [0.5, 1.0]
    assert len(server.requests) == 3


async def test_429_waits_as_long_as_retry_after_says(server: rs.RipestatServer) -> None:
    server.faults = [rs.too_many_requests("7")]
    sleeps = Sleeps()
    async with client(server, sleeps) as stat:
        await stat.looking_glass(PREFIX)
    assert sleeps.waits == [7.0]


async def test_persistent_errors_give_up_with_one_line(server: rs.RipestatServer) -> None:
    server.faults = [rs.SERVER_ERROR] * 3
    async with client(server, retries=2) as stat:
        with pytest.raises(RipestatError) as caught:
            await stat.routing_status(PREFIX)
    message = str(caught.value)
    assert message == f"could not reach RIPEstat at {server.url}: routing-status: HTTP 500 (3 attempts)"
    assert "\n" not in message


async def test_slow_answer_times_out(server: rs.RipestatServer) -> None:
    server.faults = [rs.slow(2.0)]
    async with client(server, timeout=0.2, retries=0) as stat:
        with pytest.raises(RipestatError, match=r"routing-status: no answer within 0.2 s \(1 attempt\)"):
            await stat.routing_status(PREFIX)


async def test_slow_answer_then_a_good_one(server: rs.RipestatServer) -> None:
    server.faults = [rs.slow(2.0)]
    async with client(server, timeout=0.2, retries=1) as stat:
        assert (await stat.routing_status(PREFIX)).origins == (3333,)


async def test_malformed_json_is_an_error(server: rs.RipestatServer) -> None:
    server.faults = [rs.MALFORMED]
    async with client(server) as stat:
        with pytest.raises(RipestatError, match="looking-glass: HTTP 200 with malformed JSON"):
            await stat.looking_glass(PREFIX)


async def test_status_error_bodies_carry_ripestats_message(server: rs.RipestatServer) -> None:
    server.add("looking-glass", "not-a-prefix", rs.error("looking-glass", "Invalid resource 'not-a-prefix'"))
    async with client(server) as stat:
        with pytest.raises(RipestatError, match="HTTP 400: error: Invalid resource 'not-a-prefix'"):
            await stat.looking_glass("not-a-prefix")
    assert len(server.requests) == 1  # a 400 is not retried


async def test_status_error_with_http_200(server: rs.RipestatServer) -> None:
    body = rs.error("routing-status", "backend unavailable", 200)
    server.add("routing-status", PREFIX, body)
    async with client(server) as stat:
        with pytest.raises(RipestatError, match="backend unavailable"):
            await stat.routing_status(PREFIX)


async def test_unreachable_server() -> None:
    with rs.running() as gone:
        url = gone.url
    stat = RipestatClient(RipestatSettings(url=url, retries=1), sleep=Sleeps())
    async with stat:
        with pytest.raises(RipestatError, match=rf"could not reach RIPEstat at {url}: looking-glass: .*\(2 attempts\)"):
            await stat.looking_glass(PREFIX)


def test_unreadable_entries_are_skipped_and_counted() -> None:
    payload = rs.looking_glass(PREFIX, [
        rs.LgPeer("rrc00", "2.56.11.1", "34854 3333", PREFIX),
        rs.LgPeer("rrc00", "not-an-address", "34854 3333", PREFIX),
        rs.LgPeer("rrc00", "2.56.11.2", "34854 x 3333", PREFIX),
        rs.LgPeer("rrc00", "2.56.11.3", "34854 3333", "193.0.0.1/21"),
    ])
    payload["data"]["rrcs"].append("garbage")
    from collections import Counter

    skipped: Counter[str] = Counter()
    routes = parse_looking_glass(payload, skipped)
    assert [r.peer.address for r in routes] == ["2.56.11.1"]
    assert skipped == {"looking-glass": 4}


def test_missing_data_is_an_error() -> None:
    with pytest.raises(RipestatError, match="without a 'data' object"):
        parse_routing_status({"status": "ok"})


@pytest.mark.parametrize(("text", "path"), [
    ("1 2 3", (1, 2, 3)),
    ("1 {2,3}", (1, frozenset({2, 3}))),
    ("1 { 2, 3 }", (1, frozenset({2, 3}))),
    ([1, 2], (1, 2)),
    ("", ()),
])
def test_as_paths(text: str | list[int], path: tuple[object, ...]) -> None:
    assert parse_as_path(text) == path


@pytest.mark.parametrize("text", ["1 two 3", "1 {}", "1 {2", 5])
def test_bad_as_paths(text: object) -> None:
    with pytest.raises(ValueError):
        parse_as_path(text)


def test_retry_after_forms() -> None:
    assert retry_after("12", 0.0) == 12.0
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
    assert retry_after("soon", 0.0) is None
    assert retry_after(None, 0.0) is None
