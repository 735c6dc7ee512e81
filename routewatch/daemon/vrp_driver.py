"""The configured VRP sources feeding the daemon's core: the merged set handed over on every change.

The sources (``routewatch.sources.vrp.feeds``) run in the daemon's generation like
the BGP sources; each time one of them takes a new set, the merged set's
index is built off the event loop (500,000 VRPs take seconds) and handed to
the core with ``Engine.set_vrps``, which judges every route under a watched
prefix again. A source that fails keeps its last good set, so the core keeps
validating against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from routewatch.core.engine import Engine
from routewatch.rpki.validation import VrpIndex
from routewatch.sources.vrp.feeds import VrpFeeds

log = logging.getLogger(__name__)


class VrpDriver:
    """Runs ``feeds`` and hands each new merged set to the core ``core()`` returns (it changes on reload)."""

    def __init__(self, feeds: VrpFeeds, core: Callable[[], Engine]) -> None:
        self.feeds = feeds
        self._core = core
        self._handed: VrpIndex | None = None

    async def run(self, stop: asyncio.Event) -> None:
        running = asyncio.create_task(self.feeds.run(), name="rpki-feeds")
        try:
            while not stop.is_set():
                waiters = [asyncio.create_task(feed.changed.wait()) for feed in self.feeds.feeds]
                stopping = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait([*waiters, stopping, running], return_when=asyncio.FIRST_COMPLETED)
                for waiter in (*waiters, stopping):
                    waiter.cancel()
                if running in done:
                    running.result()  # a source's failure reaches the supervisor
                for feed in self.feeds.feeds:
                    feed.changed.clear()
                await self.hand_over()
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    async def hand_over(self) -> None:
        """Give the core the merged set when it differs from the one it has."""
        index = await asyncio.to_thread(self.feeds.index)
        if index is None or index is self._handed:
            return
        self._handed = index
        self._core().set_vrps(index)
        log.info("rpki: %d VRPs handed to the core", len(index))
