"""Supervision: each part of the daemon restarted with exponential backoff, never taking the process down.

A source whose socket dies, a DNS prober that hits a bug, an exporter that
cannot bind yet: each is one supervised component. A failure is logged,
counted (``routewatch_component_restarts_total``), shown as
``routewatch_component_up 0`` while it waits, and retried after a delay that
doubles up to a ceiling (with jitter, so that replicas do not retry in step).
A component that ran long enough before failing starts again from the short
delay.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from routewatch.exporter.state import ComponentStatus

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RestartBackoff:
    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.1
    healthy_after: float = 60.0
    """A run at least this long resets the delay to ``initial``."""

    def next(self, delay: float) -> float:
        return min(self.maximum, delay * self.factor)


class Supervisor:
    """Runs components until ``stop`` is set; ``on_change`` is called whenever a status changes."""

    def __init__(
        self,
        *,
        backoff: RestartBackoff | None = None,
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        pause: Callable[[asyncio.Event, float], Awaitable[None]] | None = None,
    ) -> None:
        self.backoff = backoff or RestartBackoff()
        self._on_change = on_change
        self._clock = clock
        self._rng = rng or random.Random()
        self._pause = pause or wait_or_stop
        self._status: dict[str, ComponentStatus] = {}

    def statuses(self) -> tuple[ComponentStatus, ...]:
        return tuple(self._status[name] for name in sorted(self._status))

    def forget(self, name: str) -> None:
        """Drop a component that a reload removed, so its series goes away."""
        if self._status.pop(name, None) is not None:
            self._on_change()

    def _set(self, name: str, up: bool, error: str = "", failed: bool = False) -> None:
        old = self._status.get(name, ComponentStatus(name, False))
        self._status[name] = ComponentStatus(name, up, old.restarts + (1 if failed else 0), error or old.last_error)
        self._on_change()

    async def supervise(self, name: str, work: Work, stop: asyncio.Event) -> None:
        """Run ``work`` until it returns or ``stop`` is set, restarting it after each failure."""
        delay = self.backoff.initial
        while not stop.is_set():
            self._set(name, True)
            started = self._clock()
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a component's failure must never end the process
                log.error("%s failed: %s; restarting in %.1f s", name, exc, delay, exc_info=exc)
                self._set(name, False, f"{type(exc).__name__}: {exc}", failed=True)
            else:
                if not stop.is_set():
                    log.info("%s finished", name)
                return
            if self._clock() - started >= self.backoff.healthy_after:
                delay = self.backoff.initial
            pause = delay * (1.0 + self._rng.uniform(-self.backoff.jitter, self.backoff.jitter))
            delay = self.backoff.next(delay)
            await self._pause(stop, pause)


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
