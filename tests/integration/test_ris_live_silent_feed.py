"""A RIS Live feed that is connected but delivers nothing is down, its lag grows, and the client reconnects.

The hostile servers here are real websocket servers on loopback (the
``websockets`` library answers the websocket-level pings by itself, as a
half-dead RIS Live frontend would): one sends a single KEEPALIVE on its first
connection and then nothing at all, not even ``pong`` or subscription
acknowledgements; another sends one message on every connection and hangs up.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from routewatch.config.to_core import build_engine
from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.live_harness import live_config, running_live, wait_until

PREFIX = "198.51.100.0/24"


def keepalive(t: float) -> str:
    return json.dumps({"type": "ris_message", "data": {
        "timestamp": t, "peer": "192.0.2.1", "peer_asn": "64501", "id": "k", "host": "rrc00", "type": "KEEPALIVE"}})


class HostileRis:
    """A websocket server in its own thread; ``greet_every`` sends the KEEPALIVE on every connection."""

    def __init__(self, *, greet_every: bool, hang_up: bool) -> None:
        self.greet_every = greet_every
        self.hang_up = hang_up
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: Server = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        self.url = f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1/ws/"

    async def _start(self) -> Server:
        return await serve(self._handle, "127.0.0.1", 0)

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        try:
            if self.connections == 1 or self.greet_every:
                await ws.send(keepalive(time.time()))
            if self.hang_up:
                await ws.close()
                return
            async for _ in ws:  # read (so websocket pings are answered), never write
                pass
        except ConnectionClosed:
            pass

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def silent() -> Iterator[HostileRis]:
    server = HostileRis(greet_every=False, hang_up=False)
    yield server
    server.close()


def test_a_connected_but_silent_feed_is_down_with_a_growing_lag_and_reconnects(tmp_path: Path,
                                                                              silent: HostileRis) -> None:
    port = exporter_port()
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - prefix: {PREFIX}
    asn: 32934
sources:
  - type: ris-live
    url: "{silent.url}"
    reconcile: none
    ping_interval: 1
bgp:
  bootstrap: {{ripestat: false}}
exporter: {{listen: 127.0.0.1, port: {port}}}
""")
    daemon = Daemon(config, port, tmp_path).start()
    try:
        wait_for(lambda: daemon.value("routewatch_source_lag_seconds", source="ris-live") is not None, 20,
                 "the one KEEPALIVE")
        wait_for(lambda: (daemon.value("routewatch_source_reconnects_total", source="ris-live") or 0) >= 2, 30,
                 "the client to give up on the silent connections")
        assert silent.connections >= 3
        wait_for(lambda: daemon.value("routewatch_source_up", source="ris-live") == 0, 20, "source_up 0")
        first = daemon.value("routewatch_source_lag_seconds", source="ris-live")
        assert first is not None
        wait_for(lambda: (daemon.value("routewatch_source_lag_seconds", source="ris-live") or 0) > first + 1, 20,
                 "the lag to grow with the wall clock")
        assert daemon.value("routewatch_source_up", source="ris-live") == 0
        assert "not even the answer to a ping; reconnecting" in daemon.log()
    finally:
        assert daemon.stop() == 0


async def test_a_server_that_sends_one_message_then_hangs_up_is_backed_off() -> None:
    server = HostileRis(greet_every=True, hang_up=True)
    try:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": 32934}])
        async with running_live(config, build_engine(config, bootstrapped=False)) as run:
            client = run.live.client
            await wait_until(lambda: client.stats.received >= 4, "four one-message connections")
            # every such connection delivered a message, but none lasted: the backoff keeps growing
            assert client.failed_attempts >= 3
    finally:
        server.close()


async def test_a_refused_connection_counts_as_a_connect_failure_not_a_reconnect() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = live_config(f"ws://127.0.0.1:{port}/v1/ws/", [{"prefix": PREFIX, "asn": 32934}])
    async with running_live(config, build_engine(config, bootstrapped=False)) as run:
        live = run.live
        await wait_until(lambda: live.client.stats.connect_failures >= 1, "a refused connection")
        health = live.health()
        assert health.connect_failures >= 1
        assert health.reconnects == 0
        assert health.up is False
