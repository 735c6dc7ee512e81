"""The DNS monitor: discovers and probes every configured zone on schedule.

Work is launched as tasks when due and never awaited by the scheduler, so a
server that times out delays nothing but its own next probe. The clock, the
sleep and the random source are injected: tests drive :meth:`DnsMonitor.step`
with a fake clock, and only the network round trips are real.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from routewatch.config.schema import Config, DnsSettings
from routewatch.core.routes import RouteLookup
from routewatch.dns.checks import CHECKS, CheckJob
from routewatch.dns.discovery import Discoverer, Discovery
from routewatch.dns.probe import ProbeSettings, probe_soa
from routewatch.dns.schedule import Agenda, Due, Work
from routewatch.dns.snapshot import DnsSnapshot
from routewatch.dns.state import ResolverState, TargetState, ZoneState, merge_targets
from routewatch.dns.targets import Target, Transport, cap_targets

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Coroutine[Any, Any, None]]


class DnsMonitor:
    """Discovery, probes and resolver checks for every zone in the config.

    ``pinned`` maps a zone to server addresses to probe instead of discovering
    (``check zone --server``); ``routes`` answers which route covers an
    address, for the diversity flags. With ``stagger`` (the default), a new
    target's first probes are spread at random over one period instead of
    all firing at once: 2,000 simultaneous probes would queue behind each
    other and inflate every measured round-trip time. ``check zone`` and
    tests turn it off to probe everything immediately.
    """

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        routes: RouteLookup | None = None,
        pinned: Mapping[str, Sequence[str]] | None = None,
        stagger: bool = True,
    ) -> None:
        self._stagger = stagger
        self._dns: DnsSettings = config.dns
        self._cap = config.limits.max_nameserver_addresses
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._routes = routes
        self._settings = ProbeSettings(config.dns.port, config.dns.timeout, config.dns.retries)
        self._limit = asyncio.Semaphore(config.dns.concurrency)
        self._discoverer = Discoverer(
            self._settings, root_servers=config.dns.root_servers, resolvers=config.dns.resolvers, limit=self._limit
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._zones: dict[str, ZoneState] = {}
        self._agenda = Agenda()
        pinned = pinned or {}
        start = clock()
        for watch in config.zones:
            state = ZoneState(watch, pinned=watch.zone in pinned)
            state.resolvers = {r: ResolverState(r) for r in config.dns.resolvers}
            self._zones[watch.zone] = state
            if state.resolvers:
                self._agenda.add(start, Work.RESOLVE, watch.zone)
            if state.pinned:
                found = [Target(watch.zone, address, address) for address in pinned[watch.zone]]
                merged = merge_targets({}, found, complete=True, now=start, keep_until=float("inf"))
                self._install(state, merged, start)
            else:
                self._agenda.add(start, Work.DISCOVER, watch.zone)

    def targets(self) -> list[Target]:
        """Every (zone, nameserver, address) currently probed, for the BGP side's route checks."""
        return sorted(t for zone in self._zones.values() for t in zone.targets)

    def snapshot(self) -> DnsSnapshot:
        """The state right now, as immutable values (see :mod:`routewatch.dns.snapshot`)."""
        now = self._clock()
        warning = self._dns.dnssec.expiry_warning
        zones = tuple(z.snapshot(now, self._dns.serial_grace, self._routes, warning) for z in self._zones.values())
        targets = tuple(t.snapshot() for z in self._zones.values() for t in z.targets.values())
        return DnsSnapshot(now, zones, targets)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; in-flight probes are cancelled on the way out."""
        try:
            while not stop.is_set():
                delay = max(0.0, self.step() - self._clock())
                await self._pause(stop, delay)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def run_once(self) -> DnsSnapshot:
        """Discover (if due), then probe every target over UDP and TCP once; for ``check zone`` and tests."""
        self.step()
        await self.drain()
        self.step()
        await self.drain()
        return self.snapshot()

    async def drain(self) -> None:
        """Wait until nothing launched so far is still running."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    def step(self) -> float:
        """Launch whatever is due now; return when the next thing falls due."""
        now = self._clock()
        for entry in self._agenda.pop_due(now):
            zone = self._zones[entry.zone]
            if entry.work is Work.DISCOVER:
                self._launch(self._discover(zone, now))
            elif entry.work is Work.RESOLVE:
                self._agenda.add(now + self._jittered(self._dns.interval), Work.RESOLVE, zone.zone)
                if not zone.resolving:
                    zone.resolving = True
                    self._launch(self._resolve(zone))
            else:
                self._start_probe(zone, entry, now)
        upcoming = self._agenda.next_time()
        return now + self._dns.interval if upcoming is None else upcoming

    def _start_probe(self, zone: ZoneState, entry: Due, now: float) -> None:
        assert entry.target is not None and entry.transport is not None and entry.check is not None
        key = (entry.check, entry.transport)
        state = zone.targets.get(entry.target)
        if state is None or state.next_due.get(key) != entry.time:
            return  # dropped by discovery, or superseded
        due = now + self._jittered(self._periods(zone)[entry.check][entry.transport])
        state.next_due[key] = due
        self._agenda.add(due, Work.PROBE, zone.zone, entry.target, entry.transport, entry.check)
        if key not in state.in_flight:  # a probe slower than its period is not doubled
            state.in_flight.add(key)
            self._launch(self._probe(zone, state, entry.check, entry.transport))

    def _periods(self, zone: ZoneState) -> dict[str, Mapping[Transport, float]]:
        """Each registered check's period per transport for ``zone`` (checks it turns off are left out)."""
        periods = {name: check.periods(zone.watch, self._dns) for name, check in CHECKS.items()}
        return {name: by_transport for name, by_transport in periods.items() if by_transport}

    def _jittered(self, period: float) -> float:
        return period * (1.0 + self._rng.uniform(-self._dns.jitter, self._dns.jitter))

    def _launch(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("DNS work failed unexpectedly", exc_info=task.exception())

    async def _pause(self, stop: asyncio.Event, delay: float) -> None:
        self._wake.clear()
        waits = [asyncio.ensure_future(w) for w in (stop.wait(), self._wake.wait(), self._sleep(delay))]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    async def _discover(self, zone: ZoneState, started: float) -> None:
        applied = False
        try:
            known = [t.address for t in zone.targets]
            discovery = await self._discoverer.discover(
                zone.zone,
                parent_servers=zone.watch.parent_servers,
                nameservers=list(zone.watch.nameservers),  # normalised by the config
                known_addresses=known,
            )
            self.apply_discovery(zone, discovery, self._clock())
            applied = True
        finally:
            zone.discovery_attempt = started
            if not applied:  # it raised: count the failure and try again, or the zone is never rediscovered
                zone.discovery_failures += 1
                self._agenda.add(self._clock() + min(self._dns.rediscover_interval, self._dns.interval),
                                 Work.DISCOVER, zone.zone)
            self._wake.set()  # new targets are due now

    def apply_discovery(self, zone: ZoneState, discovery: Discovery, now: float) -> None:
        """Fold one discovery round into the zone: keep, add or drop targets, schedule the next round."""
        zone.last_discovery = discovery
        if discovery.ok:
            zone.discovery_success = now
            next_round = now + self._dns.rediscover_interval
        else:
            zone.discovery_failures += 1
            next_round = now + min(self._dns.rediscover_interval, self._dns.interval)
            log.warning("discovery of %s incomplete: %s", zone.zone, "; ".join(discovery.problems))
        self._agenda.add(next_round, Work.DISCOVER, zone.zone)
        keep_until = now + max(float(discovery.ttl), self._dns.rediscover_interval)
        current = {t: s.expires for t, s in zone.targets.items()}
        merged = merge_targets(current, discovery.targets(), complete=discovery.ok, now=now, keep_until=keep_until)
        self._install(zone, merged, now, listed=set(discovery.targets()))

    def _install(
        self, zone: ZoneState, merged: Mapping[Target, float], now: float, listed: set[Target] | None = None
    ) -> None:
        """Replace the zone's targets; new ones are probed over both transports (staggered or at once)."""
        kept, zone.over_cap = cap_targets(list(merged), self._cap)
        fresh: dict[Target, TargetState] = {}
        for target in kept:
            state = zone.targets.get(target)
            if state is None:
                state = TargetState(target, merged[target])
                for check, by_transport in self._periods(zone).items():
                    for transport, period in by_transport.items():
                        first = now + self._rng.uniform(0, period) if self._stagger else now
                        state.next_due[(check, transport)] = first
                        self._agenda.add(first, Work.PROBE, zone.zone, target, transport, check)
            state.expires = merged[target]
            state.retained = listed is not None and target not in listed
            fresh[target] = state
        zone.targets = fresh

    async def _probe(self, zone: ZoneState, state: TargetState, check: str, transport: Transport) -> None:
        try:
            job = CheckJob(state.target, transport, self._settings, zone.watch, self._limit)
            outcome = await CHECKS[check].run(job)
            now = self._clock()
            state.record(outcome, now)
            zone.note_serials(now)
        finally:
            state.in_flight.discard((check, transport))

    async def _resolve(self, zone: ZoneState) -> None:
        try:
            for resolver in zone.resolvers.values():
                observation = await probe_soa(resolver.resolver, zone.zone, Transport.UDP, self._settings,
                                              recursive=True, limit=self._limit)
                resolver.record(observation, self._clock())
        finally:
            zone.resolving = False
