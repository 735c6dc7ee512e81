"""What the daemon gives the JSON API beyond the published snapshot: closed detections, one prefix's detail.

The snapshot holds open detections only, and per prefix only what the
metrics export. The API also lists the detections closed lately, kept here
as they pass to the detection log, and, for one prefix asked about, the view
per collector, read from the core on the event loop that owns it (the HTTP
thread must never touch the core itself).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import deque
from collections.abc import Callable, Iterable

from routewatch.core.detection import ChangeKind, Detection, DetectionChange
from routewatch.core.engine import Engine
from routewatch.core.prefix_detail import PrefixDetail, prefix_detail
from routewatch.model import Prefix

RECENTLY_CLOSED = 100
"""Closed detections the JSON API lists (the detection log keeps them all)."""
DETAIL_TIMEOUT = 5.0
"""Seconds the API waits for the loop to read one prefix's detail before answering without it."""


class RecentlyClosed:
    """The last ``RECENTLY_CLOSED`` detections to close, oldest first."""

    def __init__(self, size: int = RECENTLY_CLOSED) -> None:
        self._closed: deque[Detection] = deque(maxlen=size)

    def keep(self, changes: Iterable[DetectionChange]) -> None:
        self._closed.extend(c.detection for c in changes if c.change is ChangeKind.CLOSED)

    def listed(self) -> tuple[Detection, ...]:
        return tuple(self._closed)


class LoopDetail:
    """``prefix -> PrefixDetail``, callable from any thread, reading the current core on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, engine: Callable[[], Engine],
                 max_collectors: Callable[[], int]) -> None:
        self._loop = loop
        self._engine = engine
        self._max_collectors = max_collectors

    def __call__(self, prefix: Prefix) -> PrefixDetail | None:
        """The detail, or None when the loop does not answer in ``DETAIL_TIMEOUT`` (busy, or stopping)."""
        future = asyncio.run_coroutine_threadsafe(self._read(prefix), self._loop)
        try:
            return future.result(timeout=DETAIL_TIMEOUT)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            future.cancel()
            return None

    async def _read(self, prefix: Prefix) -> PrefixDetail | None:
        return prefix_detail(self._engine(), prefix, max_collectors=self._max_collectors())
