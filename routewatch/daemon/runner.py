"""``routewatch run``: one asyncio process wiring the BGP sources, the DNS probes, the core and the exporter.

Shape: the core (a ``Engine``) lives in the event loop thread and is only
touched there. Sources and the DNS prober are supervised components of a
*generation* (one per loaded config); the exporter serves from its own thread
and reads only the snapshots the publisher swaps in every second. SIGTERM and
SIGINT stop everything cleanly (state saved if configured); SIGHUP loads the
config again and, when it is valid, replaces the generation while the core's
state carries over; when it is not, the old config keeps running and
``routewatch_config_last_reload_successful`` drops to 0. What the core starts
from is ``core_start``'s; what a generation is and runs, ``generation``'s.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path

from routewatch import __version__
from routewatch.config.schema import Config, load_config
from routewatch.config.to_core import withdrawal_thresholds
from routewatch.core.detection import DetectionChange
from routewatch.daemon.api_feed import LoopDetail, RecentlyClosed
from routewatch.daemon.core_start import follows_present, start_core
from routewatch.daemon.generation import Generations
from routewatch.daemon.logs import DetectionLog, configure_logging
from routewatch.daemon.persist import encode_state, save_state, write_state
from routewatch.daemon.sharding import LocalShard, own_part
from routewatch.daemon.startup import FirstAttempts, start_lines
from routewatch.daemon.supervise import Supervisor
from routewatch.daemon.tapped import carry_over
from routewatch.errors import RoutewatchError
from routewatch.exporter.api import JsonApi
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.server import MetricsServer
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox
from routewatch.exporter.webconfig import WebConfig, load_web_config
from routewatch.sources.health import SourceHealth

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 1.0
"""Seconds between snapshot swaps (and, for live feeds, clock ticks of the core)."""


def _shard_of(config: Config | None) -> tuple[int, int]:
    if config is None:
        return (0, 1)
    return (config.sharding.shard or 0, config.sharding.shards)


class Daemon:
    """Runs until SIGTERM/SIGINT (or :meth:`request_stop`); returns the process exit code."""

    def __init__(self, config_path: str | Path, *, clock: Callable[[], float] = time.time,
                 shard: LocalShard | None = None) -> None:
        self.config_path = Path(config_path)
        self._shard = shard
        self._clock = clock
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self.box = SnapshotBox(ExportState(ProcessStatus(__version__)))
        self.supervisor = Supervisor(on_change=self._publish_process)
        self._reload_ok = True
        self._reload_time: float | None = None
        self.server: MetricsServer | None = None
        self._exporter_stop = asyncio.Event()
        self._exporter_task: asyncio.Task[None] | None = None
        self.generations = Generations(self.supervisor, clock, lambda: self.monitor, self.box)
        self._bootstrap_degraded = False
        self._state_rejected = False
        self._save_blocked = False
        self._first_attempts = FirstAttempts(set())
        self._closed = RecentlyClosed()

    # -- lifecycle ------------------------------------------------------------------

    async def run(self) -> int:
        config = own_part(load_config(self.config_path, daemon=True), self._shard)
        web = _web_config(config)
        configure_logging(config.logging)
        self.config = config
        self.detections = DetectionLog(config.logging.detection_log)
        started = start_core(config, self._on_changes, self._clock)
        self.monitor = started.monitor
        self._bootstrap_degraded = started.bootstrap_degraded
        self._state_rejected, self._save_blocked = started.state_rejected, started.save_blocked
        self._reload_time = self._clock()
        self._publish_process()
        api = JsonApi(self.box, LoopDetail(asyncio.get_running_loop(), lambda: self.monitor,
                                           lambda: self.config.limits.max_collectors))
        self.server = MetricsServer(Exposition(self.box), config.exporter.listen, config.exporter.port, web, api)
        self._start_exporter()
        self._install_signals()
        self._first_attempts = FirstAttempts.of(config)
        self.generation = self.generations.start(config)
        background = [asyncio.create_task(self._publish_loop()), asyncio.create_task(self._save_loop()),
                      asyncio.create_task(self._reload_loop())]
        log.info("routewatch %s running with %s", __version__, self.config_path)
        for line in start_lines(config):  # before any task runs: nothing the sources say comes first
            log.info("%s", line)
        await self._stop.wait()
        log.info("shutting down")
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await self.generations.stop(self.generation)
        self._save_state()
        self._exporter_stop.set()
        if self._exporter_task is not None:
            await asyncio.gather(self._exporter_task, return_exceptions=True)
        self.detections.close()
        return 0

    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self.request_reload)

    # -- exporter -------------------------------------------------------------------

    def _start_exporter(self) -> None:
        server = self.server
        assert server is not None
        stop = self._exporter_stop

        async def serve() -> None:
            server.start()
            try:
                await stop.wait()
            finally:
                await asyncio.to_thread(server.stop)  # joins the server thread: not on the loop

        self._exporter_task = asyncio.create_task(self.supervisor.supervise("exporter", serve, stop))

    # -- periodic work --------------------------------------------------------------

    async def _publish_loop(self) -> None:
        while True:
            try:
                self.publish()
            except Exception:  # noqa: BLE001 - stale metrics are better than none: log and keep publishing
                log.exception("publishing snapshots failed")
            await asyncio.sleep(PUBLISH_INTERVAL)

    def publish(self) -> None:
        """Swap in fresh snapshots (and move a live core's clock to now)."""
        gen = self.generation
        self.generations.register_dns_targets(gen)
        if follows_present(gen.config):
            self.monitor.advance(self._clock())
        sources: tuple[SourceHealth, ...] = tuple(source.health() for source in gen.sources.values())
        core = self.monitor.snapshot()
        if self._first_attempts.pending:
            for level, line in self._first_attempts.lines(sources, core):
                log.log(level, "%s", line)
        self.box.update(core=core, dns=gen.dns.snapshot() if gen.dns else None, sources=sources,
                        rpki_sources=tuple(gen.vrp_feeds.statuses()) if gen.vrp_feeds else (),
                        max_collectors=gen.config.limits.max_collectors,
                        default_thresholds=withdrawal_thresholds(gen.config.bgp.thresholds),
                        closed_detections=self._closed.listed())

    def _on_changes(self, changes: list[DetectionChange]) -> None:
        """Every detection change: to the detection log, and the closed ones kept for the JSON API."""
        self.detections.write(changes)
        self._closed.keep(changes)

    def _publish_process(self) -> None:
        self.box.update(process=ProcessStatus(__version__, self._reload_ok, self._reload_time,
                                              self.supervisor.statuses(), self._bootstrap_degraded,
                                              self._state_rejected, _shard_of(getattr(self, "config", None))))

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.state.save_interval)
            path = self.config.state.path
            if path is None or self._save_blocked:
                continue
            try:
                # the state is read on the loop (consistent), written and synced off it
                await asyncio.to_thread(write_state, path, encode_state(self.monitor))
            except OSError as exc:
                log.error("cannot save state to %s: %s", path, exc)
            except Exception:  # noqa: BLE001 - a failed save must not stop later saves
                log.exception("saving state failed")

    def _save_state(self) -> None:
        path = self.config.state.path
        if path is None or self._save_blocked:
            return
        try:
            save_state(self.monitor, path)
        except OSError as exc:
            log.error("cannot save state to %s: %s", path, exc)

    # -- reload ---------------------------------------------------------------------

    async def _reload_loop(self) -> None:
        while True:
            await self._reload.wait()
            self._reload.clear()
            try:
                await self.reload()
            except Exception:  # noqa: BLE001 - the next SIGHUP must still be heard
                log.exception("reload failed")
                self._reload_ok = False
                self._publish_process()

    async def reload(self) -> bool:
        """Load the config file again; keep the running one when the new one is invalid."""
        try:
            config = own_part(load_config(self.config_path, daemon=True), self._shard)
            web = _web_config(config)
        except RoutewatchError as exc:
            log.error("reload rejected, the previous configuration stays in force: %s", exc)
            self._reload_ok = False
            self._publish_process()
            return False
        old = self.config
        try:
            server = self._bind_exporter(old, config, web)
        except OSError as exc:
            log.error("reload rejected, the previous configuration stays in force: cannot listen on %s:%d: %s",
                      config.exporter.listen, config.exporter.port, exc.strerror or exc)
            self._reload_ok = False
            self._publish_process()
            return False
        await self.generations.stop(self.generation)
        try:
            changed: list[DetectionChange] = []  # logged once the new detection log is in place
            monitor = carry_over(self.monitor, config, changed.extend)
            detections = (DetectionLog(config.logging.detection_log)
                          if config.logging.detection_log != old.logging.detection_log else None)
        except (OSError, RoutewatchError, ValueError) as exc:
            log.error("reload failed, the previous configuration stays in force: %s", exc)
            if server is not None:
                server.stop()
            self.generation = self.generations.start(old)
            self._reload_ok = False
            self._publish_process()
            return False
        configure_logging(config.logging)
        if detections is not None:
            self.detections.close()
            self.detections = detections
        self.monitor = monitor
        self.monitor.sink = self._on_changes
        if changed:
            self._on_changes(changed)
        self.config = config
        await self._reconfigure_exporter(server, web)
        self.generation = self.generations.start(config)
        self._reload_ok = True
        self._reload_time = self._clock()
        self._publish_process()
        self.publish()
        log.info("configuration reloaded from %s", self.config_path)
        return True

    def _bind_exporter(self, old: Config, new: Config, web: WebConfig) -> MetricsServer | None:
        """A server bound to the new address when it changed (None when it did not); raises OSError."""
        assert self.server is not None
        if (old.exporter.listen, old.exporter.port) == (new.exporter.listen, new.exporter.port):
            return None
        server = MetricsServer(self.server.exposition, new.exporter.listen, new.exporter.port, web,
                               api=self.server.api)
        server.bind()
        return server

    async def _reconfigure_exporter(self, server: MetricsServer | None, web: WebConfig) -> None:
        """Swap to the server bound for the new address, or give the running one the new web config."""
        assert self.server is not None
        if server is None:
            self.server.configure(web)
            return
        self._exporter_stop.set()
        if self._exporter_task is not None:
            await asyncio.gather(self._exporter_task, return_exceptions=True)
        self.supervisor.forget("exporter")
        self._exporter_stop = asyncio.Event()
        self.server = server
        self._start_exporter()


def _web_config(config: Config) -> WebConfig:
    path = config.exporter.web_config_file
    return load_web_config(path) if path is not None else WebConfig()
