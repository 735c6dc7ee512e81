"""A RIS Live endpoint on loopback that plays the demo's incident, so the daemon reads it as it reads RIPE's.

It speaks the part of the RIS Live protocol routewatch's client uses:
``ris_subscribe`` (acknowledged when asked), ``ping``/``pong``, and
``ris_message`` frames of type UPDATE, RIS_PEER_STATE and KEEPALIVE. It does
not filter by subscription: every message of the story concerns the demo's
watched prefixes. Each message is stamped with the wall clock when it is
sent, so data time is real time and the demo runs through the same source,
core and exporter as ``routewatch run``; the story's hours pass ``speed``
times faster than real time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from routewatch.demo.incident import COLLECTORS, DemoPeer, Step, StepKind, peers, timeline

KEEPALIVE_INTERVAL = 1.0
"""Wall seconds between KEEPALIVEs from each collector, so none goes stale while the story is quiet."""


def frame(step: Step, now: float, seq: int) -> dict[str, Any]:
    """The RIS Live message for one step, stamped ``now``."""
    peer = step.peer
    data: dict[str, Any] = {"timestamp": round(now, 3), "peer": peer.address, "peer_asn": str(peer.asn),
                            "id": f"{peer.address}-{now:.3f}-{seq}", "host": peer.collector}
    if step.kind is StepKind.ANNOUNCE:
        data |= {"type": "UPDATE", "path": list(step.path), "origin": "IGP", "community": [],
                 "announcements": [{"next_hop": peer.address, "prefixes": list(step.prefixes)}]}
    elif step.kind is StepKind.WITHDRAW:
        data |= {"type": "UPDATE", "path": [], "community": [], "withdrawals": list(step.prefixes)}
    else:
        data |= {"type": "RIS_PEER_STATE", "state": step.kind.value}
    return {"type": "ris_message", "data": data}


def _frame_of(step: Step, seq: Iterator[int], now: float) -> dict[str, Any]:
    return frame(step, now, next(seq))


def _keepalive(peer: DemoPeer, seq: Iterator[int], now: float) -> dict[str, Any]:
    return {"type": "ris_message", "data": {
        "timestamp": round(now, 3), "peer": peer.address, "peer_asn": str(peer.asn),
        "id": f"{peer.address}-{now:.3f}-{next(seq)}", "host": peer.collector, "type": "KEEPALIVE"}}


class IncidentPlayer:
    """Serves the incident to every connected client, once (or over and over with ``loop``)."""

    def __init__(self, speed: float, *, loop: bool = False, clock: Callable[[], float] = time.time,
                 story: Callable[[], list[Step]] = timeline) -> None:
        self.speed = speed
        self.loop = loop
        self.clock = clock
        self.story = story
        self.clients: set[ServerConnection] = set()
        self.subscribed = asyncio.Event()
        self.finished = asyncio.Event()
        self._seq = itertools.count()
        self._server: Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen; returns the ``ws://`` URL to give the ris-live source."""
        logging.getLogger("websockets.server").setLevel(logging.WARNING)  # no line per connection in the demo
        self._server = await serve(self._client, host, port)
        bound = next(iter(self._server.sockets)).getsockname()
        return f"ws://{host}:{bound[1]}/v1/ws/"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def play(self, on_step: Callable[[Step], None] = lambda step: None) -> None:
        """Send the story at ``speed``, after the first client has subscribed; KEEPALIVEs throughout."""
        await self.subscribed.wait()
        keepalive = asyncio.create_task(self._keepalives())
        try:
            while True:
                steps = self.story()
                started, origin = self.clock(), steps[0].at
                for step in steps:
                    delay = started + (step.at - origin) / self.speed - self.clock()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    await self._broadcast(partial(_frame_of, step, self._seq))
                    on_step(step)
                if not self.loop:
                    break
            self.finished.set()
            await asyncio.Event().wait()  # keep the collectors alive: the end state stays on show
        finally:
            keepalive.cancel()

    async def _keepalives(self) -> None:
        first: dict[str, DemoPeer] = {}
        for peer in peers():
            first.setdefault(peer.collector, peer)
        while True:
            for collector in COLLECTORS:
                await self._broadcast(partial(_keepalive, first[collector], self._seq))
            await asyncio.sleep(KEEPALIVE_INTERVAL)

    async def _broadcast(self, make: Callable[[float], dict[str, Any]]) -> None:
        text = json.dumps(make(self.clock()))
        for client in list(self.clients):
            try:
                await client.send(text)
            except ConnectionClosed:
                self.clients.discard(client)

    async def _client(self, ws: ServerConnection) -> None:
        try:
            async for message in ws:
                await self._answer(ws, message)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(ws)

    async def _answer(self, ws: ServerConnection, message: str | bytes) -> None:
        try:
            request = json.loads(message)
            kind, data = request["type"], request.get("data") or {}
        except (ValueError, KeyError, TypeError):
            await ws.send(json.dumps({"type": "ris_error", "data": {"message": "could not parse your message"}}))
            return
        if kind == "ping":
            await ws.send(json.dumps({"type": "pong", "data": None}))
        elif kind == "ris_subscribe":
            options = data.get("socketOptions") or {}
            if options.get("acknowledge"):
                subscription = {k: v for k, v in data.items() if k != "socketOptions"}
                await ws.send(json.dumps({"type": "ris_subscribe_ok",
                                          "data": {"subscription": subscription, "socketOptions": options}}))
            self.clients.add(ws)
            self.subscribed.set()
        elif kind != "ris_unsubscribe":
            await ws.send(json.dumps({"type": "ris_error", "data": {"message": f"unknown message type {kind!r}"}}))
