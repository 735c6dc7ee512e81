"""Shards at run time: which part this process watches, and ``run --shards N`` on one machine.

On Kubernetes every pod of a StatefulSet reads the same config and finds its
shard in its hostname's ordinal (or ``ROUTEWATCH_SHARD``); Prometheus joins
the shards' series. On one machine, ``routewatch run --shards N`` starts N
worker processes of itself, shard I serving its metrics on ``exporter.port + I``,
restarts one that dies (with backoff), and passes SIGHUP and SIGTERM on to all.
No process talks to another: there is nothing to coordinate.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from routewatch.config.schema import Config, load_config
from routewatch.config.shards import shard_from_environment
from routewatch.config.sources import BmpSource, SourceSettings
from routewatch.daemon.supervise import RestartBackoff
from routewatch.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LocalShard:
    """``run --shards N --shard I``: a worker of the local supervisor (its port is ``exporter.port + I``)."""

    shard: int
    shards: int


def own_part(config: Config, local: LocalShard | None = None, environ: Mapping[str, str] | None = None,
             hostname: str | None = None) -> Config:
    """The part of ``config`` this process watches (all of it when not sharded)."""
    if local is not None:
        sharded = config.model_copy(update={
            "sharding": config.sharding.model_copy(update={"shards": local.shards, "shard": local.shard}),
            "exporter": config.exporter.model_copy(update={"port": config.exporter.port + local.shard}),
            "sources": [_station_port(source, local.shard) for source in config.sources],
        })
        return sharded.part(local.shard)
    shards = config.sharding.shards
    if shards == 1:
        return config
    shard = config.sharding.shard
    if shard is None:
        try:
            shard = shard_from_environment(os.environ if environ is None else environ,
                                           socket.gethostname() if hostname is None else hostname)
        except ValueError as exc:
            raise ConfigError([f"sharding.shard: {exc}"]) from None
    if shard is None:
        shard = 0
        log.warning("sharding: %d shards but no shard given (sharding.shard, ROUTEWATCH_SHARD or a StatefulSet "
                    "hostname): running shard 0", shards)
    if shard >= shards:
        raise ConfigError([f"sharding.shard: shard {shard} is not below sharding.shards ({shards})"])
    return config.part(shard)


def _station_port(source: SourceSettings, shard: int) -> SourceSettings:
    """A BMP station of local shard I listens on ``port + I``, as its exporter does.

    Each shard must see every router's whole table to judge its own part (a
    router sends one stream per station, and routers take several stations),
    so the routers connect to every shard's station; on one machine the
    stations cannot share a port.
    """
    if isinstance(source, BmpSource):
        return source.model_copy(update={"port": source.port + shard})
    return source


def local_port_problems(config: Config, shards: int) -> list[str]:
    """What keeps ``run --shards N`` on one machine from binding: ports shifted past 65535 or onto another's.

    Shard I serves metrics on ``exporter.port + I`` and runs each BMP station on
    its ``port + I``; a collision would leave a worker restarting for ever.
    """
    wanted = [("exporter.port", config.exporter.port)]
    wanted += [(f"sources[{i}].port", source.port) for i, source in enumerate(config.sources)
               if isinstance(source, BmpSource)]
    problems: list[str] = []
    taken: dict[int, str] = {}
    for where, base in wanted:
        if base + shards - 1 > 65535:
            problems.append(f"{where}: {base} + {shards - 1} (the last of {shards} local shards) is past 65535")
        for shard in range(shards):
            other = taken.setdefault(base + shard, f"{where} + {shard}")
            if other != f"{where} + {shard}":
                problems.append(f"{where}: shard {shard} would listen on {base + shard}, as {other} does")
                break
    return problems


WORKER_BACKOFF = RestartBackoff(initial=1.0, maximum=30.0)


class ShardSupervisor:
    """Keeps one ``routewatch run`` worker per shard alive until stopped."""

    def __init__(self, config_path: str, shards: int, *, command: Callable[[int], list[str]] | None = None) -> None:
        self.config_path = config_path
        self.shards = shards
        self.command = command or self._worker_command
        self.workers: dict[int, asyncio.subprocess.Process] = {}
        self.restarts = 0
        self._stop = asyncio.Event()

    def _worker_command(self, shard: int) -> list[str]:
        return [sys.executable, "-m", "routewatch", "run", "-c", self.config_path,
                "--shards", str(self.shards), "--shard", str(shard)]

    async def run(self) -> int:
        problems = local_port_problems(load_config(self.config_path), self.shards)
        if problems:
            raise ConfigError(problems, source=self.config_path)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stop.set)
        loop.add_signal_handler(signal.SIGINT, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._signal(signal.SIGHUP))
        keepers = [asyncio.create_task(self._keep(shard)) for shard in range(self.shards)]
        await self._stop.wait()
        self._signal(signal.SIGTERM)
        await asyncio.gather(*keepers, return_exceptions=True)
        return 0

    def _signal(self, sig: signal.Signals) -> None:
        for process in self.workers.values():
            if process.returncode is None:
                process.send_signal(sig)

    async def _keep(self, shard: int) -> None:
        loop = asyncio.get_running_loop()
        delay = WORKER_BACKOFF.initial
        while not self._stop.is_set():
            started = loop.time()
            process = await asyncio.create_subprocess_exec(*self.command(shard))
            self.workers[shard] = process
            if self._stop.is_set():  # stopped while it was starting: it missed the SIGTERM sent to the others
                process.send_signal(signal.SIGTERM)
            log.info("shard %d: worker %d started", shard, process.pid)
            code = await process.wait()
            if self._stop.is_set():
                return
            self.restarts += 1
            if loop.time() - started >= WORKER_BACKOFF.healthy_after:
                delay = WORKER_BACKOFF.initial
            log.warning("shard %d: worker exited with %s; restarting in %.0f s", shard, code, delay)
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except TimeoutError:
                pass
            delay = WORKER_BACKOFF.next(delay)
