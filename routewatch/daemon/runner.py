"""``routewatch run``: one asyncio process wiring the BGP sources, the DNS probes, the core and the exporter.

Shape: the core (a ``Engine``) lives in the event loop thread and is only
touched there. Sources and the DNS prober are supervised components of a
*generation* (one per loaded config); the exporter serves from its own thread
and reads only the snapshots the publisher swaps in every second. SIGTERM and
SIGINT stop everything cleanly (state saved if configured); SIGHUP loads the
config again and, when it is valid, replaces the generation while the core's
state carries over; when it is not, the old config keeps running and
``routewatch_config_last_reload_successful`` drops to 0.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from routewatch import __version__
from routewatch.config.schema import Config, load_config
from routewatch.config.to_core import withdrawal_thresholds
from routewatch.core.detection import DetectionChange
from routewatch.daemon.api_feed import LoopDetail, RecentlyClosed
from routewatch.daemon.bootstrap import bootstrap_from_mrt
from routewatch.daemon.core_sink import CoreDriver
from routewatch.daemon.logs import DetectionLog, configure_logging
from routewatch.daemon.nameserver_routes import SnapshotRoutes
from routewatch.daemon.persist import encode_state, restore_state, save_state, set_aside, write_state
from routewatch.daemon.sharding import LocalShard, own_part
from routewatch.daemon.startup import FirstAttempts, start_lines, unguarded_line
from routewatch.daemon.supervise import Supervisor
from routewatch.daemon.tapped import TappedEngine, build_tapped, carry_over
from routewatch.daemon.vrp_driver import VrpDriver
from routewatch.dns.service import DnsMonitor
from routewatch.errors import RoutewatchError, StateError
from routewatch.exporter.api import JsonApi
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.server import MetricsServer
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox
from routewatch.exporter.webconfig import WebConfig, load_web_config
from routewatch.sources.base import Source, SourceContext, build_source
from routewatch.sources.health import SourceHealth
from routewatch.sources.ripestat import RipestatClient
from routewatch.sources.vrp.feeds import VrpFeeds, build_vrp_feeds

log = logging.getLogger(__name__)

PUBLISH_INTERVAL = 1.0
"""Seconds between snapshot swaps (and, for live feeds, clock ticks of the core)."""
SHUTDOWN_GRACE = 10.0


@dataclass
class Generation:
    """The parts built from one config; replaced whole on reload."""

    config: Config
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    dns: DnsMonitor | None = None
    vrp_feeds: VrpFeeds | None = None
    registered: set[str] = field(default_factory=set)
    sink: CoreDriver | None = None


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
        self._replayed: dict[str, set[str]] = {}
        self._bootstrap_degraded = False
        self._state_rejected = False
        self._save_blocked = False
        self._first_attempts = FirstAttempts(set())
        self._closed = RecentlyClosed()
        self._unguarded: set[str] = set()  # "zone address" already warned of, so a reload does not say it again

    # -- lifecycle ------------------------------------------------------------------

    async def run(self) -> int:
        config = own_part(load_config(self.config_path, daemon=True), self._shard)
        web = _web_config(config)
        configure_logging(config.logging)
        self.config = config
        self.detections = DetectionLog(config.logging.detection_log)
        self.monitor = await self._start_core(config)
        self._reload_time = self._clock()
        self._publish_process()
        api = JsonApi(self.box, LoopDetail(asyncio.get_running_loop(), lambda: self.monitor,
                                           lambda: self.config.limits.max_collectors))
        self.server = MetricsServer(Exposition(self.box), config.exporter.listen, config.exporter.port, web, api)
        self._start_exporter()
        self._install_signals()
        self._first_attempts = FirstAttempts.of(config)
        self.generation = self._start_generation(config)
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
        await self._stop_generation(self.generation)
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

    # -- the core -------------------------------------------------------------------

    async def _start_core(self, config: Config) -> TappedEngine:
        needs_snapshot = any(s.needs_snapshot for s in config.sources)
        monitor = build_tapped(config, bootstrapped=not needs_snapshot)
        monitor.sink = self._on_changes
        restored = False
        if config.state.path is not None:
            try:
                restored = self._restore(monitor, config)
            except (OSError, RoutewatchError, ValueError, KeyError, TypeError) as exc:
                # validated before use, so the monitor is untouched unless loading itself failed: rebuild anyway
                self._reject_state(config.state.path, exc)
                monitor = build_tapped(config, bootstrapped=not needs_snapshot)
                monitor.sink = self._on_changes
            if restored:
                monitor.bootstrapped = True
                log.info("state restored from %s (data time %.0f)", config.state.path, monitor.now)
        files = config.bgp.bootstrap.mrt_files
        if files and not restored:
            # Once, at start, and never over a restored state (that would bring back routes withdrawn
            # since the dump): a RIB dump counts as established, the update files after it do not.
            live = any(s.follows_present for s in config.sources)
            report = bootstrap_from_mrt(monitor, files, wall_clock=self._clock() if live else None)
            monitor.bootstrapped = True
            self._bootstrap_degraded = report.damaged
            log.info("bootstrapped from %d MRT files (%d events)", len(files), report.events)
        return monitor

    def _restore(self, monitor: TappedEngine, config: Config) -> bool:
        """Restore the saved state; a live daemon refuses one whose data time is ahead of the wall clock."""
        assert config.state.path is not None
        live = any(s.follows_present for s in config.sources)
        return restore_state(monitor, config.state.path, wall_clock=self._clock() if live else None)

    def _reject_state(self, path: str, exc: Exception) -> None:
        """Set a state file that cannot be used aside (kept for a look, never overwritten) and go on without it."""
        self._state_rejected = True
        problems = exc.problems if isinstance(exc, StateError) else [str(exc)]
        try:
            aside = set_aside(path, self._clock())
        except OSError as move:
            self._save_blocked = True
            log.error("state file %s rejected and cannot be moved aside (%s); it will not be overwritten, "
                      "state is not saved until it is moved: %s", path, move, "; ".join(problems))
            return
        log.error("state file %s rejected, kept as %s; starting without it (prefixes unknown until data "
                  "arrives): %d problem(s): %s", path, aside, len(problems), "; ".join(problems[:20]))

    # -- generations: sources and DNS -----------------------------------------------

    def _start_generation(self, config: Config) -> Generation:
        gen = Generation(config)
        sink = gen.sink = CoreDriver(self.monitor)  # this generation's core: a reload starts a new generation
        for settings in config.sources:
            context = SourceContext(config, self._clock, self._replayed.setdefault(settings.name, set()),
                                    looking_glass=lambda: RipestatClient(config.ripestat))
            source = gen.sources[settings.name] = build_source(settings, context)
            self._spawn(gen, f"source:{settings.name}", lambda s=source: s.run(sink, gen.stop))  # type: ignore[misc]
        if config.rpki.sources:
            gen.vrp_feeds = build_vrp_feeds(config.rpki)
            driver = VrpDriver(gen.vrp_feeds, lambda: self.monitor)
            self._spawn(gen, "rpki", lambda: driver.run(gen.stop))
        if config.zones:
            gen.dns = DnsMonitor(config, routes=SnapshotRoutes(self.box))
            dns = gen.dns
            self._spawn(gen, "dns", lambda: dns.run(gen.stop))
        return gen

    def _spawn(self, gen: Generation, name: str, work: Callable[[], Awaitable[None]]) -> None:
        gen.tasks.append(asyncio.create_task(self.supervisor.supervise(name, work, gen.stop), name=name))

    async def _stop_generation(self, gen: Generation) -> None:
        gen.stop.set()
        done, pending = await asyncio.wait(gen.tasks, timeout=SHUTDOWN_GRACE) if gen.tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in gen.tasks:
            self.supervisor.forget(task.get_name())

    def _register_dns_targets(self, gen: Generation) -> None:
        """Follow the routes of every nameserver address DNS discovery found (once per address)."""
        if gen.dns is None:
            return
        zones = {z.zone: z for z in gen.config.zones}
        added = False
        for target in gen.dns.targets():
            key = f"{target.zone} {target.address}"
            if key in gen.registered or target.zone not in zones:
                continue
            gen.registered.add(key)
            zone = zones[target.zone]
            address = ipaddress.ip_address(target.address)
            designated = zone.service_prefixes.get(target.address, [])
            if (not designated and key not in self._unguarded
                    and self.monitor.watch.covering_prefix(ipaddress.ip_network(address)) is None):
                self._unguarded.add(key)
                log.warning("%s", unguarded_line(zone.zone, target.nameserver, target.address))
            self.monitor.add_address(address, designated, zone.zone, zone.watch_nameserver_prefixes)
            added = True
        if added and gen.sink is not None:
            # judge the new addresses against the routes as they stand now, through the sources' sink
            # (detections recorded): after a bootstrap or a restart no route update may come for hours
            gen.sink.flush()

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
        self._register_dns_targets(gen)
        if any(s.follows_present for s in gen.config.sources):
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
        await self._stop_generation(self.generation)
        try:
            changed: list[DetectionChange] = []  # logged once the new detection log is in place
            monitor = carry_over(self.monitor, config, changed.extend)
            detections = (DetectionLog(config.logging.detection_log)
                          if config.logging.detection_log != old.logging.detection_log else None)
        except (OSError, RoutewatchError, ValueError) as exc:
            log.error("reload failed, the previous configuration stays in force: %s", exc)
            if server is not None:
                server.stop()
            self.generation = self._start_generation(old)
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
        self.generation = self._start_generation(config)
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
