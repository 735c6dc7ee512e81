"""Running the RIS Live source against the local RIS Live server with an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from routewatch.config.schema import Config, parse_config
from routewatch.core.detection import DetectionChange
from routewatch.core.engine import Engine
from routewatch.daemon.core_sink import CoreDriver
from routewatch.sources.base import LookingGlass, SourceContext
from routewatch.sources.ris_live.client import ReconnectBackoff
from routewatch.sources.ris_live.feed import Batch, RisLiveFeed
from tests.support.ris_live_server import RisLiveServer

#: Reconnect fast in tests; the backoff logic itself is unit-tested.
FAST_BACKOFF = ReconnectBackoff(initial=0.02, maximum=0.1)
#: Upper bound for waiting on something that should happen; never a measured time.
PATIENCE = 20.0


class FakeClock:
    """Wall clock for feed health, moved by the test."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def live_config(url: str, prefixes: list[dict[str, Any]], *, source: dict[str, Any] | None = None,
                bgp: dict[str, Any] | None = None, **sections: Any) -> Config:
    settings = {"type": "ris-live", "url": url, "collector_stale_after": 10.0, "ping_interval": 5.0,
                "reconcile": "none"} | (source or {})
    bgp_settings = {"bootstrap": {"ripestat": False}} | (bgp or {})
    return parse_config({"prefixes": prefixes, "sources": [settings], "bgp": bgp_settings, **sections})


async def wait_until(condition: Callable[[], bool], what: str | Callable[[], str],
                     patience: float = PATIENCE) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``patience`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        await asyncio.sleep(0.005)


@dataclass
class LiveRun:
    live: RisLiveFeed
    monitor: Engine
    clock: FakeClock
    changes: list[DetectionChange] = field(default_factory=list)
    messages: int = 0
    batches: int = 0

    def record(self, batch: Batch) -> None:
        self.messages += batch.messages
        self.batches += 1

    def record_changes(self, changes: list[DetectionChange]) -> None:
        """Changes once live messages flow (batches and reconciliations), not those of bootstrap."""
        if not self.live.session.buffering:
            self.changes.extend(changes)


@asynccontextmanager
async def running_live(config: Config, monitor: Engine, *, clock: FakeClock | None = None,
                       glass: LookingGlass | None = None, tick: float = 0.01) -> AsyncIterator[LiveRun]:
    """The RIS Live source running in a task for the duration of the block; stopped and checked afterwards.

    The block starts once the source has its subscriptions (its first step), not once it is connected.
    """
    clock = clock or FakeClock()
    run = LiveRun(None, monitor, clock)  # type: ignore[arg-type]
    context = SourceContext(config, clock, looking_glass=(lambda: nullcontext(glass)) if glass is not None else None)
    run.live = RisLiveFeed(config.sources[0], context, on_batch=run.record, backoff=FAST_BACKOFF, tick=tick)
    stop = asyncio.Event()
    task = asyncio.create_task(run.live.run(CoreDriver(monitor, run.record_changes), stop))
    await asyncio.sleep(0)
    try:
        yield run
    finally:
        stop.set()
        await asyncio.wait_for(task, PATIENCE)


@asynccontextmanager
async def ris_server(**kwargs: Any) -> AsyncIterator[RisLiveServer]:
    server = await RisLiveServer(**kwargs).start()
    try:
        yield server
    finally:
        await server.stop()
