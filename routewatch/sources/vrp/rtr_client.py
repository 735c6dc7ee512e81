"""The thin asyncio layer around :class:`RtrSession`: a TCP connection, reads, timers, reconnects.

It holds no protocol logic. It connects, passes what it reads and the time to
the session, writes what the session answers, wakes the session at its
deadline, and after a close waits (doubling from ``reconnect_min`` up to the
session's retry interval) before connecting again. The session's last good set
outlives every connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from routewatch.rpki.rtr_session import RtrSession, RtrStep
from routewatch.rpki.vrp import VrpSourceKind, VrpSourceStatus

log = logging.getLogger(__name__)

READ_SIZE = 65536


class RtrClient:
    """An RTR source: ``run()`` forever, ``status()`` at any time, ``changed`` set on every new set."""

    def __init__(
        self, name: str, host: str, port: int, *, refresh: float | None = None, version: int = 1,
        reconnect_min: float = 1.0, connect_timeout: float = 10.0, clock: Callable[[], float] = time.time,
    ) -> None:
        self.name, self.host, self.port = name, host, port
        self.session = RtrSession(version=version)
        if refresh is not None:
            self.session.refresh = refresh
        self.reconnect_min = reconnect_min
        self.connect_timeout = connect_timeout
        self.clock = clock
        self.changed = asyncio.Event()
        self.connected = False
        self.detail = ""
        self.connects = 0
        self.connection_failures = 0
        """Connections that could not be made or were lost: with a dead cache this grows while the set ages."""

    def status(self) -> VrpSourceStatus:
        session = self.session
        return VrpSourceStatus(
            self.name, VrpSourceKind.RTR, session.vrps, session.serial, session.last_update,
            stale=not self.connected or session.stale(self.clock()),
            errors=(session.counters.malformed + session.counters.errors_received + session.counters.timeouts
                    + self.connection_failures),
            detail=self.detail,
        )

    async def run(self) -> None:
        delay = self.reconnect_min
        while True:
            loaded_before = self.session.last_update
            try:
                last = await self._connection()
            except (TimeoutError, OSError) as exc:
                self.connection_failures += 1
                last = RtrStep(b"", True, f"cannot reach {self.host}:{self.port}: {exc or type(exc).__name__}")
            self.connected = False
            self.session.disconnected()
            self.detail = last.reason
            log.warning("rpki source %s: %s", self.name, last.reason)
            if last.at_once:
                continue
            if self.session.last_update != loaded_before:
                delay = self.reconnect_min
            await asyncio.sleep(delay)
            delay = min(delay * 2, max(self.reconnect_min, self.session.retry))

    async def _connection(self) -> RtrStep:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout=self.connect_timeout
        )
        self.connects += 1
        self.connected = True
        self.detail = ""
        try:
            step = self.session.connected(self.clock())
            while True:
                if step.send:
                    writer.write(step.send)
                    await writer.drain()
                if step.close:
                    return step
                step = await self._next_step(reader)
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), timeout=1.0)

    async def _next_step(self, reader: asyncio.StreamReader) -> RtrStep:
        deadline = self.session.deadline
        timeout = None if deadline is None else max(0.0, deadline - self.clock())
        try:
            data = await asyncio.wait_for(reader.read(READ_SIZE), timeout=timeout)
        except TimeoutError:
            return self.session.tick(self.clock())
        if not data:
            self.connection_failures += 1
            return RtrStep(b"", True, "the cache closed the connection")
        before = self.session.last_update
        step = self.session.receive(data, self.clock())
        if self.session.last_update != before:
            self.changed.set()
        return step
