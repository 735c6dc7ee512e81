"""A local server that speaks the RIS Live websocket protocol, for tests and benchmarks.

It implements what a client sees of https://ris-live.ripe.net/manual/:
``ris_subscribe`` with ``host``, ``type``, ``require``, ``peer``, ``path``,
``prefix`` + ``moreSpecific``/``lessSpecific`` filters and the ``acknowledge``
socket option (answered by ``ris_subscribe_ok``), ``ris_unsubscribe``, ``ping``
(answered by ``pong``), ``ris_error`` for what it cannot understand, and
closing codes. Its messages are built from ``bgpdump -m`` text of the shared
MRT files, never from routewatch's own MRT reader, so that "live equals replay"
compares two independent decodings. They are shaped like the real feed's:
``peer_asn`` as a string, IPv6 prefixes uncompressed, ``path: []`` on
withdrawal-only updates, AS_SETs as nested lists, comma-joined IPv6 next hops.

It can be told to misbehave: pause, go silent for one collector, be killed and
restarted on the same port, send raw garbage, close with a code, or drop the
TCP connection without a close frame. It keeps a "world" table (what every
peer announces now, whether or not a client was connected to hear it), which
:class:`WorldLookingGlass` answers from as RIPEstat's looking glass would.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from routewatch.model import BgpOrigin, Peer, RouteAnnouncement
from tests.support.bgpdump_format import WELL_KNOWN_COMMUNITIES, BgpdumpLine
from tests.support.tools import SHARED_DATA

REAL_STREAM = SHARED_DATA / "ris-live" / "ris-live-stream.json"

Json = dict[str, Any]
_PrefixKey = tuple[int, int, int]


# -- messages from bgpdump text -------------------------------------------------------------------------------


def ris_prefix(text: str) -> str:
    """A prefix as RIS Live prints it: IPv6 uncompressed (``2605:de00:bb:0:0:0:0:0/48``)."""
    if ":" not in text:
        return text
    address, length = text.split("/")
    groups = ipaddress.IPv6Address(address).exploded.split(":")
    return ":".join(format(int(g, 16), "x") for g in groups) + "/" + length


def _path(text: str) -> list[Any]:
    hops: list[Any] = []
    for token in text.split():
        if token.startswith("{"):
            hops.append([int(a) for a in token.strip("{}").split(",") if a])
        else:
            hops.append(int(token))
    return hops


def _communities(line: BgpdumpLine) -> list[list[int]]:
    pairs = []
    for token in line.communities.split():
        if token in WELL_KNOWN_COMMUNITIES:
            pairs.append(list(WELL_KNOWN_COMMUNITIES[token]))
        else:
            asn, value = token.split(":")
            pairs.append([int(asn), int(value)])
    return pairs


def _next_hop(line: BgpdumpLine) -> str:
    # The real feed joins an IPv6 global and link-local next hop with a comma.
    return f"{line.next_hop},fe80::1" if ":" in line.next_hop else line.next_hop


def _header(line: BgpdumpLine, host: str, kind: str, seq: int) -> Json:
    timestamp = float(line.time_text)
    return {"timestamp": timestamp, "peer": line.peer_address, "peer_asn": str(line.peer_asn),
            "id": f"{line.peer_address}-{timestamp}-{seq}", "host": host, "type": kind}


def ris_messages_from_bgpdump(lines: Iterable[BgpdumpLine], host: str) -> list[Json]:
    """``ris_message`` envelopes for bgpdump lines, in order.

    Consecutive lines of one peer at one time are grouped as one UPDATE when
    that keeps bgpdump's order: withdrawals first, then announcements sharing
    path, origin and communities (grouped by next hop). STATE lines become
    RIS_PEER_STATE ``connected`` (into Established) or ``down`` (anything else).
    """
    messages: list[Json] = []
    current: Json | None = None
    key: tuple[object, ...] | None = None
    for seq, line in enumerate(lines):
        if line.kind == "STATE":
            current = key = None
            data = _header(line, host, "RIS_PEER_STATE", seq)
            data["state"] = "connected" if line.new_state == 6 else "down"
            messages.append({"type": "ris_message", "data": data})
            continue
        same_session = key is not None and key[:3] == (line.time_text, line.peer_address, line.peer_asn)
        if line.kind == "W":
            if current is None or not same_session or current.get("announcements"):
                current = _header(line, host, "UPDATE", seq)
                current.update(path=[], community=[], withdrawals=[])
                messages.append({"type": "ris_message", "data": current})
            current.setdefault("withdrawals", []).append(ris_prefix(line.prefix))
            key = (line.time_text, line.peer_address, line.peer_asn)
            continue
        attributes = (line.time_text, line.peer_address, line.peer_asn, line.as_path, line.origin, line.communities)
        if current is None or not same_session or (current.get("announcements") and key != attributes):
            current = _header(line, host, "UPDATE", seq)
            messages.append({"type": "ris_message", "data": current})
        current.update(path=_path(line.as_path), origin=line.origin.lower(), community=_communities(line))
        announcements = current.setdefault("announcements", [])
        next_hop = _next_hop(line)
        group = next((a for a in announcements if a["next_hop"] == next_hop), None)
        if group is None:
            group = {"next_hop": next_hop, "prefixes": []}
            announcements.append(group)
        group["prefixes"].append(ris_prefix(line.prefix))
        key = attributes
    return messages


def real_stream_lines() -> list[str]:
    """The real RIS Live messages of the shared sample, as sent (the last one is truncated)."""
    return REAL_STREAM.read_text().splitlines()


# -- subscriptions ---------------------------------------------------------------------------------------------


def _prefix_key(text: str) -> _PrefixKey:
    network = ipaddress.ip_network(text, strict=False)
    return network.version, int(network.network_address), network.prefixlen


def _bits(version: int) -> int:
    return 32 if version == 4 else 128


@dataclass(slots=True)
class Filter:
    """One subscription as RIS Live applies it."""

    raw: Json
    host: str | None = None
    type: str | None = None
    peer: str | None = None
    require: str | None = None
    path: re.Pattern[str] | None = None
    prefix: _PrefixKey | None = None
    more: bool = True
    less: bool = False

    @classmethod
    def parse(cls, data: Json) -> Filter:
        raw = {k: v for k, v in data.items() if k != "socketOptions"}
        host = data.get("host")
        path = data.get("path")
        prefix = data.get("prefix")
        return cls(
            raw=raw,
            host=host.removesuffix(".ripe.net") if isinstance(host, str) else None,
            type=data.get("type"),
            peer=data.get("peer"),
            require=data.get("require"),
            path=_path_pattern(path) if path else None,
            prefix=_prefix_key(prefix) if prefix else None,
            more=bool(data.get("moreSpecific", True)),
            less=bool(data.get("lessSpecific", False)),
        )

    def matches_header(self, data: Json) -> bool:
        if self.host is not None and data.get("host", "").removesuffix(".ripe.net") != self.host:
            return False
        if self.type is not None and data.get("type") != self.type:
            return False
        if self.peer is not None and data.get("peer") != self.peer:
            return False
        if self.require is not None and self.require not in data:
            return False
        if self.path is not None:
            hops = " ".join(str(h) if isinstance(h, int) else "{" + ",".join(map(str, h)) + "}"
                            for h in data.get("path", []))
            if not hops or not self.path.search(" " + hops + " "):
                return False
        return True

    def matches_prefix(self, key: _PrefixKey) -> bool:
        assert self.prefix is not None
        version, value, length = key
        f_version, f_value, f_length = self.prefix
        if version != f_version:
            return False
        if length == f_length:
            return value == f_value
        bits = _bits(version)
        if length > f_length:
            return self.more and (value >> (bits - f_length)) == (f_value >> (bits - f_length))
        return self.less and (f_value >> (bits - length)) == (value >> (bits - length))


def _path_pattern(text: str) -> re.Pattern[str]:
    """RIS path filters: ``"64496"``, ``"^64496"``, ``"64496$"``, ``"64496,64497"`` (adjacent hops)."""
    anchored_start, anchored_end = text.startswith("^"), text.endswith("$")
    hops = text.strip("^$").split(",")
    body = " ".join(re.escape(h.strip()) for h in hops)
    return re.compile(("^ " if anchored_start else " ") + body + (" $" if anchored_end else " "))


@dataclass(eq=False)
class _Client:
    ws: ServerConnection
    filters: list[Filter] = field(default_factory=list)
    by_prefix: dict[_PrefixKey, list[Filter]] = field(default_factory=dict)
    less: list[Filter] = field(default_factory=list)
    other: list[Filter] = field(default_factory=list)

    def add(self, f: Filter) -> None:
        self.filters.append(f)
        if f.prefix is None:
            self.other.append(f)
        else:
            self.by_prefix.setdefault(f.prefix, []).append(f)
            if f.less:
                self.less.append(f)

    def remove(self, raw: Json) -> None:
        kept = [f for f in self.filters if f.raw != raw]
        self.filters, self.by_prefix, self.less, self.other = [], {}, [], []
        for f in kept:
            self.add(f)

    def select(self, data: Json) -> Json | None:
        """The message as this client should get it (prefixes narrowed to its filters), or None."""
        if any(f.matches_header(data) for f in self.other):
            return data
        if not self.by_prefix or data.get("type") != "UPDATE":
            return None
        withdrawals = [p for p in data.get("withdrawals", ()) if self._wants(data, p)]
        announcements = []
        for a in data.get("announcements", ()):
            prefixes = [p for p in a["prefixes"] if self._wants(data, p)]
            if prefixes:
                announcements.append({"next_hop": a["next_hop"], "prefixes": prefixes})
        if not withdrawals and not announcements:
            return None
        narrowed = dict(data)
        narrowed["withdrawals"] = withdrawals
        narrowed["announcements"] = announcements
        if not withdrawals:
            del narrowed["withdrawals"]
        if not announcements:
            del narrowed["announcements"]
        return narrowed

    def _wants(self, data: Json, text: str) -> bool:
        version, value, length = _prefix_key(text)
        bits = _bits(version)
        for f_length in range(length, -1, -1):
            shift = bits - f_length
            found = self.by_prefix.get((version, (value >> shift) << shift if f_length else 0, f_length))
            if found and any((f.more or f_length == length) and f.matches_header(data) for f in found):
                return True
        return any(f.matches_prefix((version, value, length)) and f.matches_header(data) for f in self.less)


# -- the server --------------------------------------------------------------------------------------------------


class RisLiveServer:
    """A RIS Live server on 127.0.0.1; ``port=0`` picks a free port that survives ``kill``/``restart``."""

    def __init__(self, *, keepalive_interval: float | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.port = 0
        self.tls = tls
        self.clients: set[_Client] = set()
        self.subscribe_messages = 0
        self.connections = 0
        self.sent = 0
        self.frames = 0
        self.silenced: set[str] = set()
        self.world: dict[tuple[str, str, int, str], RouteAnnouncement] = {}
        self.data_time = 0.0
        self.keepalive_interval = keepalive_interval
        self._speakers: dict[str, Json] = {}
        self._server: Server | None = None
        self._keepalives: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Condition()
        self.running = asyncio.Event()
        self.running.set()

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/v1/ws/?client=routewatch-test"

    async def start(self) -> RisLiveServer:
        self._server = await serve(self._handle, "127.0.0.1", self.port, compression=None, max_size=2**20,
                                   ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.keepalive_interval and self._keepalives is None:
            self._keepalives = asyncio.create_task(self._send_keepalives())
        return self

    async def stop(self) -> None:
        if self._keepalives is not None:
            self._keepalives.cancel()
            self._keepalives = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def kill(self) -> None:
        """Die like a crashed process: no close frames, listening socket gone."""
        assert self._server is not None
        self._server.server.close()  # stop listening first, or a fast client reconnects at once
        for connection in list(self._server.all_connections):
            connection.transport.abort()
        self._server.close(close_connections=False)
        await self._server.wait_closed()
        self._server = None

    async def restart(self) -> None:
        await self.start()

    def drop_tcp(self) -> None:
        """Abort every client's TCP connection without a close frame (the client sees 1006)."""
        for client in list(self.clients):
            client.ws.transport.abort()

    async def close_clients(self, code: int, reason: str = "") -> None:
        for client in list(self.clients):
            await client.ws.close(code, reason)

    async def send_raw(self, message: str | bytes, *, text: bool | None = None) -> None:
        """Send anything to every client, whatever they subscribed to (``text=True``: bytes in a text frame)."""
        for client in list(self.clients):
            try:
                await self._send(client, message, text=text)
            except ConnectionClosed:
                pass

    async def send_fragmented(self, message: str, pieces: int) -> None:
        """Send one text message to every client as ``pieces`` websocket frames (continuation frames)."""
        size = -(-len(message) // pieces)
        for client in list(self.clients):
            self.frames += 1
            await client.ws.send([message[i:i + size] for i in range(0, len(message), size)])

    def stop_reading(self) -> None:
        """Hang like a wedged process: stop reading every client's socket, so no ping is ever answered."""
        for client in list(self.clients):
            client.ws.transport.pause_reading()

    async def wait_subscribed(self, count: int, connections: int = 1) -> None:
        """Until ``connections`` clients in total have connected and one holds ``count`` subscriptions."""
        async with self._subscribed:
            await self._subscribed.wait_for(
                lambda: self.connections >= connections and any(len(c.filters) >= count for c in self.clients))

    # -- data ---------------------------------------------------------------------------------------------------

    async def publish(self, message: Json) -> int:
        """Update the world with a ris_message and send it to every client subscribed to it."""
        data = message["data"]
        self._learn(data)
        if data.get("host", "").removesuffix(".ripe.net") in self.silenced:
            return 0
        delivered = 0
        for client in list(self.clients):
            selected = client.select(data)
            if selected is None:
                continue
            self.sent += 1  # counted before the send, so that a test waiting for "all sent" sees it in flight
            try:
                await self._send(client, orjson.dumps({"type": "ris_message", "data": selected}).decode())
            except ConnectionClosed:
                self.sent -= 1
                continue
            delivered += 1
        return delivered

    async def replay(self, messages: Sequence[Json], *, speedup: float | None = None) -> None:
        """Publish messages in order; with ``speedup``, paced at that multiple of real (data) time."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = messages[0]["data"]["timestamp"] if messages else 0.0
        for index, message in enumerate(messages):
            await self.running.wait()
            if speedup:
                due = started + (message["data"]["timestamp"] - first) / speedup
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
            await self.publish(message)
            if index % 64 == 0:
                await asyncio.sleep(0)

    def _learn(self, data: Json) -> None:
        host = data.get("host", "").removesuffix(".ripe.net")
        self.data_time = max(self.data_time, float(data.get("timestamp", 0.0)))
        self._speakers.setdefault(host, data)
        if data.get("type") == "RIS_PEER_STATE" and data.get("state") == "down":
            gone = [k for k in self.world if k[0] == host and k[1] == data["peer"]]
            for k in gone:
                del self.world[k]
            return
        if data.get("type") != "UPDATE":
            return
        peer = (host, data["peer"], int(data["peer_asn"]))
        for text in data.get("withdrawals", ()):
            self.world.pop((*peer, str(ipaddress.ip_network(text))), None)
        for a in data.get("announcements", ()):
            for text in a["prefixes"]:
                prefix = ipaddress.ip_network(text)
                path = tuple(frozenset(h) if isinstance(h, list) else h for h in data["path"])
                self.world[(*peer, str(prefix))] = RouteAnnouncement(
                    data["timestamp"], Peer(peer[0], str(ipaddress.ip_address(peer[1])), peer[2]), prefix, path,
                    origin=BgpOrigin(data["origin"].upper()))

    async def _send_keepalives(self) -> None:
        assert self.keepalive_interval is not None
        while True:
            await asyncio.sleep(self.keepalive_interval)
            for host, speaker in list(self._speakers.items()):
                data = {k: speaker[k] for k in ("peer", "peer_asn", "host")}
                data.update(timestamp=self.data_time, type="KEEPALIVE", id=f"keepalive-{host}")
                await self.publish({"type": "ris_message", "data": data})

    # -- the protocol --------------------------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        client = _Client(ws)
        self.clients.add(client)
        self.connections += 1
        try:
            async for text in ws:
                await self._command(client, text)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)

    async def _command(self, client: _Client, text: str | bytes) -> None:
        try:
            message = json.loads(text)
            kind, data = message["type"], message.get("data") or {}
        except (ValueError, KeyError, TypeError):
            await self._error(client, "could not parse your message")
            return
        if kind == "ping":
            await self._send(client, json.dumps({"type": "pong", "data": None}))
        elif kind == "ris_subscribe":
            try:
                f = Filter.parse(data)
            except (ValueError, TypeError, AttributeError) as exc:
                await self._error(client, f"invalid subscription: {exc}")
                return
            self.subscribe_messages += 1
            async with self._subscribed:
                client.add(f)
                self._subscribed.notify_all()
            options = data.get("socketOptions") or {}
            if options.get("acknowledge"):
                await self._send(client, json.dumps({"type": "ris_subscribe_ok",
                                                 "data": {"subscription": f.raw, "socketOptions": options}}))
        elif kind == "ris_unsubscribe":
            client.remove({k: v for k, v in data.items() if k != "socketOptions"})
        else:
            await self._error(client, f"unknown message type {kind!r}")

    async def _error(self, client: _Client, text: str) -> None:
        await self._send(client, json.dumps({"type": "ris_error", "data": {"message": text}}))

    async def _send(self, client: _Client, message: str | bytes, *, text: bool | None = None) -> None:
        """Every frame goes through here and is counted first: ``frames`` includes those in flight."""
        self.frames += 1
        try:
            await client.ws.send(message, text=text)
        except ConnectionClosed:
            self.frames -= 1
            raise


class WorldLookingGlass:
    """Answers like RIPEstat's looking glass, from the server's world: exact prefix, or an address's route."""

    def __init__(self, server: RisLiveServer) -> None:
        self.server = server
        self.questions: list[str] = []

    async def looking_glass(self, resource: str) -> list[RouteAnnouncement]:
        self.questions.append(resource)
        routes = list(self.server.world.values())
        if "/" in resource:
            wanted = ipaddress.ip_network(resource)
            return [r for r in routes if r.prefix == wanted]
        address = ipaddress.ip_address(resource)
        covering = [r for r in routes if r.prefix.version == address.version and address in r.prefix]
        if not covering:
            return []
        longest = max(r.prefix.prefixlen for r in covering)
        return [r for r in covering if r.prefix.prefixlen == longest]


def mrt_path(name: str) -> Path:
    return SHARED_DATA / "mrt" / name
