"""A server that sends rubbish or hangs up: everything is counted, the client reconnects, nothing crashes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from routewatch.config.to_core import build_engine
from routewatch.core.detection import DetectionChange
from routewatch.core.visibility import PrefixState
from routewatch.model import Event, parse_prefix
from tests.support.live_harness import LiveRun, live_config, ris_server, running_live, wait_until
from tests.support.ris_live_server import RisLiveServer, real_stream_lines

PREFIX = "45.161.192.0/23"  # the prefix of the real UPDATE in the shared RIS Live sample
ORIGIN = 268481


def update(prefixes: list[str], timestamp: float = 1553627990.0, peer: str = "72.22.223.9") -> dict[str, object]:
    return {"type": "ris_message", "data": {
        "timestamp": timestamp, "peer": peer, "peer_asn": "11708", "id": "x", "host": "rrc00", "type": "UPDATE",
        "path": [11708, 1299, ORIGIN], "origin": "igp",
        "announcements": [{"next_hop": "72.22.223.9", "prefixes": prefixes}]}}


async def connected(run: LiveRun, server: RisLiveServer, connections: int) -> None:
    await server.wait_subscribed(run.live.client.subscription_count, connections=connections)


async def test_real_sample_lines_garbage_and_invalid_prefixes_are_counted_not_fatal() -> None:
    async with ris_server() as server:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await connected(run, server, 1)
            for line in real_stream_lines():  # UPDATE, RIS_PEER_STATE, ris_error, OPEN, NOTIFICATION, 2 KEEPALIVE
                await server.send_raw(line)  # ... and a truncated last line
            for garbage in ("", "not json", "[1, 2]", '{"type": 7}', '{"type": "ris_message", "data": []}',
                            b"\x00\xff\xfe binary", json.dumps({"type": "brand_new_type", "data": {}}),
                            json.dumps({"type": "ris_message", "data": {"type": "SOMETHING", "host": "rrc00",
                                                                        "timestamp": 1553627990.0}})):
                await server.send_raw(garbage)
            await server.send_raw(b'{"type": "pong", "data": "\xff\xfe"}', text=True)  # a text frame, not UTF-8
            # One invalid prefix (host bits), one not a prefix, one good more-specific: the good one stands.
            await server.send_raw(json.dumps(update(["45.161.192.1/23", "bogus", "45.161.193.0/24"])))
            await server.send_raw(json.dumps(update(["2605:de00:bb:0:0:0:0:0/48"], peer="2001:db8:0::1")))
            sent = server.frames
            await wait_until(lambda: run.messages >= sent, "every message applied")
            health = run.live.details()
            snap = monitor.snapshot()

    assert health.reconnects == 0
    assert health.ris_errors == 1
    assert health.ignored == {"OPEN": 1, "NOTIFICATION": 1, "unknown": 2}
    assert health.malformed_by_reason == {"json": 5, "envelope": 3, "prefix": 2}
    assert health.malformed == 10
    status = snap.status(parse_prefix(PREFIX))
    assert status is not None and status.state is PrefixState.INSUFFICIENT_BASELINE and status.visible_peers == 1
    assert snap.tracked_routes == 2  # the /23 from the sample and the good /24 under it
    assert {c.name for c in health.collectors} == {"rrc00", "rrc01", "rrc03"}


async def test_oversize_message_1011_and_dropped_tcp_each_reconnect_and_resubscribe() -> None:
    async with ris_server() as server:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            live = run.live
            await connected(run, server, 1)
            await server.send_raw("x" * (10 * 2**20))  # 10 MB
            await connected(run, server, 2)
            await server.close_clients(1011, "internal error")
            await connected(run, server, 3)
            server.drop_tcp()
            await connected(run, server, 4)
            await server.publish(update([PREFIX]))
            await wait_until(lambda: monitor.table.route_count() == 1, "an update after three reconnections")
            health = live.details()

    assert (health.connects, health.reconnects) == (4, 3)
    assert health.up
    assert live.client.stats.closes == {"1009": 1, "1011": 1, "1006": 1}
    assert health.malformed_by_reason == {"oversize": 1}
    assert server.subscribe_messages == 4 * live.client.subscription_count
    assert health.unacknowledged == 0


async def test_fragmented_messages_are_joined_and_a_peer_that_stops_answering_pings_is_left() -> None:
    async with ris_server() as server:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}], source={"ping_interval": 0.5})
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await connected(run, server, 1)
            await server.send_fragmented(json.dumps(update([PREFIX])), pieces=7)
            await wait_until(lambda: monitor.table.route_count() == 1, "the fragmented update applied")
            server.stop_reading()
            await connected(run, server, 2)
            health = run.live.details()

    assert (health.connects, health.reconnects, health.malformed) == (2, 1, 0)
    assert run.live.client.stats.closes == {"1006": 1}  # our 1011 went out, nothing came back


async def test_a_server_that_refuses_the_websocket_handshake_is_retried_and_never_up() -> None:
    handshakes: list[bytes] = []

    async def not_websocket(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handshakes.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(not_websocket, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        config = live_config(f"ws://127.0.0.1:{port}/v1/ws/", [{"prefix": PREFIX, "asn": ORIGIN}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await wait_until(lambda: len(handshakes) >= 3, "three attempts, with backoff")
            health = run.live.details()

    assert all(h.startswith(b"GET /v1/ws/ HTTP/1.1") and b"Upgrade: websocket" in h for h in handshakes)
    assert not health.up and health.connects == 0 and health.received == 0


async def test_a_full_queue_drops_and_counts_instead_of_blocking_the_socket() -> None:
    async with ris_server() as server:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}], source={"queue_size": 100})
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await connected(run, server, 1)
            run.monitor.apply = _slow(run.monitor.apply)  # type: ignore[method-assign]
            for i in range(2000):
                await server.publish(update([PREFIX], timestamp=1553627990.0 + i))
            sent = server.frames
            await wait_until(lambda: run.live.client.stats.received >= sent, "every message read off the socket")
            await wait_until(lambda: run.live.inbox.empty(), "the inbox drained")
            health = run.live.details()

    assert health.dropped > 0
    assert health.received == health.dropped + run.messages
    assert health.reconnects == 0


def _slow(apply: Callable[..., list[DetectionChange]]) -> Callable[..., list[DetectionChange]]:
    """The core made slow on purpose (a busy CPU): the reader must still never wait for it."""

    def slow(event: Event, **kw: bool) -> list[DetectionChange]:
        time.sleep(0.002)
        return apply(event, **kw)
    return slow
