"""A VRP JSON export as a source: a file or an http(s) URL, reloaded only when it changed.

A file is re-read when its size or modification time changes; a URL is asked
with ``If-None-Match`` / ``If-Modified-Since`` from the last answer, so an
unchanged export costs a 304. Parsing runs in a thread: 500,000 VRPs take
long enough to stall the event loop. A failed fetch or a document that is not
an export keeps the last good set and marks the source stale.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from routewatch.rpki.json_vrps import VrpJsonError, VrpJsonLoad, parse_vrp_json
from routewatch.rpki.vrp import VrpSet, VrpSourceKind, VrpSourceStatus

log = logging.getLogger(__name__)


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class JsonVrpSource:
    """A JSON VRP source: ``poll()`` once, ``run()`` forever, ``status()`` at any time."""

    def __init__(
        self, name: str, location: str, *, refresh: float = 600.0, timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name, self.location, self.refresh, self.timeout, self.clock = name, location, refresh, timeout, clock
        self.vrps = VrpSet()
        self.serial: int | None = None
        self.last_update: float | None = None
        self.failed = True
        self.detail = ""
        self.errors = 0
        self.skipped = 0
        self.changed = asyncio.Event()
        self._validator: tuple[object, ...] | None = None

    def status(self) -> VrpSourceStatus:
        return VrpSourceStatus(
            self.name, VrpSourceKind.JSON, self.vrps, self.serial, self.last_update, self.failed, self.errors,
            self.detail,
        )

    async def run(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self.refresh)

    async def poll(self) -> bool:
        """Reload if the export changed; True when a new set was taken. Never raises for bad input."""
        try:
            body = await (self._fetch_url() if is_url(self.location) else self._fetch_file())
            if body is None:
                self.failed, self.detail = False, ""
                return False
            load = await asyncio.to_thread(parse_vrp_json, body)
        except (OSError, httpx.HTTPError, VrpJsonError) as exc:
            self.errors += 1
            self.failed, self.detail = True, f"{type(exc).__name__}: {exc}"
            self._validator = None
            log.warning("rpki source %s: %s", self.name, self.detail)
            return False
        self._take(load)
        return True

    def _take(self, load: VrpJsonLoad) -> None:
        self.skipped += load.skipped
        self.vrps = load.vrps
        self.serial = 1 if self.serial is None else self.serial + 1
        self.last_update = self.clock()
        self.failed = False
        self.detail = f"{load.skipped} entries skipped: " + "; ".join(load.reasons) if load.skipped else ""
        if load.skipped:
            log.warning("rpki source %s: %s", self.name, self.detail)
        self.changed.set()

    async def _fetch_file(self) -> bytes | None:
        path = Path(self.location)
        stat = await asyncio.to_thread(os.stat, path)
        validator = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        if validator == self._validator:
            return None
        body = await asyncio.to_thread(path.read_bytes)
        self._validator = validator
        return body

    async def _fetch_url(self) -> bytes | None:
        headers: dict[str, str] = {}
        if self._validator is not None:
            etag, modified = self._validator
            if isinstance(etag, str):
                headers["If-None-Match"] = etag
            if isinstance(modified, str):
                headers["If-Modified-Since"] = modified
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as client:
            response = await client.get(self.location, headers=headers)
        if response.status_code == 304:
            return None
        response.raise_for_status()
        self._validator = (response.headers.get("etag"), response.headers.get("last-modified"))
        return response.content
