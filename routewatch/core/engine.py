"""The pure core: events in, detections and state snapshots out.

``Monitor.apply(event)`` and ``Monitor.advance(now)`` are the only ways time and
data enter. They do no I/O and read no clock, so a test, a replay of a year of
archives and the live daemon drive exactly the same code and get the same
answers.

Time is data time: hold-downs and baselines run on the timestamps the
collectors put on their messages. Work is batched per data-time tick: events
with the same timestamp are applied, then the prefixes they touched are
evaluated once.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from routewatch.config.schema import Config
from routewatch.core.detection import Detection, DetectionChange
from routewatch.core.detectors.base import DETECTORS, Detector
from routewatch.core.detectors.view import Scope
from routewatch.core.dns_risk import AddressRisk, AddressTracker
from routewatch.core.settings import CoreSettings
from routewatch.core.snapshot import CoreSnapshot, PrefixStatus
from routewatch.core.table import RouteTable
from routewatch.core.visibility import Exclusion, VisibilityTracker
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import (
    Address,
    Event,
    FeedState,
    Peer,
    PeerStateChange,
    Prefix,
    RouteAnnouncement,
    RouteWithdrawal,
    Safi,
    SourceStatus,
    prefix_key,
)

#: Most prefixes kept in the place cache; past it the cache starts again (a hostile feed cannot grow it).
_PLACES_LIMIT = 1 << 20
_UNICAST = Safi.UNICAST
_ROUTES = (RouteAnnouncement, RouteWithdrawal)  # a tuple: isinstance checks it faster than a union


@dataclass(frozen=True, slots=True)
class _Place:
    """What a prefix is to the core, looked up once per prefix instead of once per update.

    ``watched`` is the most specific watched prefix covering it, ``exact``
    whether that is the prefix itself, ``tracker`` its visibility tracker then,
    and ``covers_address`` whether it covers a nameserver address.
    """

    watched: WatchedPrefix | None
    exact: bool
    tracker: VisibilityTracker | None
    covers_address: bool


@dataclass(slots=True)
class _Sessions:
    down: set[int] = field(default_factory=set)
    settle_until: dict[int, float] = field(default_factory=dict)
    stale_collectors: set[str] = field(default_factory=set)
    known_collectors: set[str] = field(default_factory=set)


class Monitor:
    """Route table, sessions, visibility and DNS-risk trackers driven by events; the registered detectors judge."""

    def __init__(self, watch: WatchSet, settings: CoreSettings | None = None, *, bootstrapped: bool = True,
                 service_prefixes: dict[Address, tuple[Prefix, ...]] | None = None) -> None:
        self.watch = watch
        self.settings = settings or CoreSettings()
        self.table = RouteTable()
        self.now = 0.0
        self.bootstrapped = bootstrapped
        self.sessions = _Sessions()
        self.visibility: dict[Prefix, VisibilityTracker] = {}
        self.detectors: dict[str, Detector] = {name: make(self.settings) for name, make in DETECTORS.items()}
        self._route_judges = [d for d in self.detectors.values() if d.scope is Scope.ROUTES]
        self._visibility_judges = [d for d in self.detectors.values() if d.scope is Scope.VISIBILITY]
        self.addresses: dict[Address, AddressTracker] = {}
        self.updates: Counter[str] = Counter()
        self._dirty: set[Prefix] = set()
        self._dirty_sub: dict[Prefix, set[int] | None] = {}  # None: judge every peer
        self._dirty_addresses: set[Address] = set()
        self._timers: list[tuple[float, int, Prefix | None]] = []
        self._waiting: set[Prefix] = set()  # prefixes whose baseline time alone will change
        # snapshot() rebuilds only what changed since the last one: a status per watched prefix
        self._statuses: dict[Prefix, PrefixStatus] = {}
        self._restatus: set[Prefix] = set()
        self._status_order: list[Prefix] | None = None
        self._status_basis: tuple[bool, bool] | None = None
        self._timer_seq = 0
        self._next_sweep = 0.0
        self._places: dict[Prefix, _Place] = {}
        self._places_version = -1
        for watched in watch:
            self.track(watched)
        for address in watch.addresses:
            self.add_address(address, (service_prefixes or {}).get(address, ()))
        self.exclusion = Exclusion(self._excluded, self.stale, lambda i: self.table.peers[i].asn)

    @classmethod
    def from_config(cls, config: Config, *, bootstrapped: bool = True) -> Monitor:
        service = {
            ipaddress.ip_address(address): tuple(prefixes)
            for zone in config.zones for address, prefixes in zone.service_prefixes.items()
        }
        bgp = config.bgp
        settings = CoreSettings(baseline_window=bgp.baseline_window, baseline_min_hold=bgp.baseline_min_hold,
                                peer_settle=bgp.peer_settle, anomaly_min_peers=bgp.anomaly_min_peers)
        return cls(WatchSet.from_config(config), settings, bootstrapped=bootstrapped, service_prefixes=service)

    # -- inputs -------------------------------------------------------------------

    def apply(self, event: Event, *, established: bool = False) -> list[DetectionChange]:
        """Apply one event; returns the detections it (or the time it moved to) opened or closed.

        ``established`` marks events from a snapshot (RIB dump, looking glass):
        their routes count in the baseline at once.
        """
        changes: list[DetectionChange] = []
        if event.time > self.now:
            changes.extend(self.advance(event.time))
        if isinstance(event, _ROUTES):
            self._apply_route(event, established)
        elif isinstance(event, PeerStateChange):
            self._apply_session(event)
        elif isinstance(event, SourceStatus):
            self._apply_source(event)
        return changes

    def apply_all(self, events: Iterable[Event], *, established: bool = False) -> list[DetectionChange]:
        changes: list[DetectionChange] = []
        for event in events:
            changes.extend(self.apply(event, established=established))
        changes.extend(self._flush())
        return changes

    def advance(self, now: float) -> list[DetectionChange]:
        """Move data time forward to ``now``, firing hold-down timers and sweeps on the way."""
        changes = self._flush()
        while self._timers and self._timers[0][0] <= now:
            due, _, prefix = heapq.heappop(self._timers)
            self.now = max(self.now, due)
            if prefix is None:
                self._settled()
                changes.extend(self._flush())
            else:
                changes.extend(self._evaluate_prefix(prefix))
        if now >= self._next_sweep:
            self.now = max(self.now, now)
            changes.extend(self._sweep())
            changes.extend(self._flush())
            self._next_sweep = now + self.settings.sweep_interval
        self.now = max(self.now, now)
        return changes

    def flush(self) -> list[DetectionChange]:
        """Evaluate what the latest events touched (replay calls it at the end of the data)."""
        return self._flush()

    # -- routes -------------------------------------------------------------------

    def _apply_route(self, event: RouteAnnouncement | RouteWithdrawal, established: bool) -> None:
        prefix = event.prefix
        place = self._place_of(prefix)
        if place.watched is None and isinstance(event, RouteAnnouncement) and self.watch.asn_caps:
            discovered = self.watch.discover(prefix, event.origin_asns)
            if discovered is not None:
                self.track(discovered)
                place = self._place(prefix)
        covering = place.watched
        if covering is None and not place.covers_address:
            return
        self.sessions.known_collectors.add(event.peer.collector)
        if isinstance(event, RouteAnnouncement):
            self.updates["announce"] += 1
            peer = self.table.announce(event)
        else:
            self.updates["withdraw"] += 1
            peer = self.table.withdraw(event)
        if event.safi != _UNICAST:
            return
        if covering is not None:
            if place.tracker is not None:
                self._update_holding(place.tracker, peer, established)
            self._mark_sub(prefix, peer)
        if place.covers_address:
            self._dirty_addresses.update(a for a in self.addresses if a.version == prefix.version and a in prefix)

    def _place_of(self, prefix: Prefix) -> _Place:
        if self._places_version != self.watch.version:
            self._places.clear()
            self._places_version = self.watch.version
        return self._places.get(prefix) or self._place(prefix)

    def _place(self, prefix: Prefix) -> _Place:
        """Where ``prefix`` stands in the watch set; kept for relevant prefixes until the watch set changes."""
        watched = self.watch.covering_prefix(prefix)
        exact = watched is not None and watched.prefix == prefix
        tracker = self.visibility.get(prefix) if exact else None
        place = _Place(watched, exact, tracker, self.watch.covers_address(prefix))
        if place.covers_address or (watched is not None and (tracker is not None or not exact)):
            if len(self._places) >= _PLACES_LIMIT:
                self._places.clear()
            self._places[prefix] = place
        return place

    def _update_holding(self, tracker: VisibilityTracker, peer: int, established: bool) -> None:
        paths = self.table.peer_unicast_paths(tracker.watched.prefix, peer)
        holding = bool(paths) and any(map(tracker.watched.path_expected, paths))
        tracker.set_holding(peer, holding, self.now, self.exclusion, established)
        self._dirty.add(tracker.watched.prefix)

    def _mark_sub(self, prefix: Prefix, peer: int | None) -> None:
        """Have the route detectors judge ``peer`` (None: every peer) at ``prefix`` again."""
        if peer is None:
            self._dirty_sub[prefix] = None
            return
        peers = self._dirty_sub.setdefault(prefix, set())
        if peers is not None:
            peers.add(peer)

    def track(self, watched: WatchedPrefix, *, from_table: bool = True) -> None:
        """Start tracking a watched prefix; routes already in the table count at once."""
        if watched.prefix in self.visibility:
            return
        self.visibility[watched.prefix] = VisibilityTracker(watched, self.settings.baseline_min_hold,
                                                            self.settings.baseline_window)
        self._status_order = None
        if from_table:
            tracker = self.visibility[watched.prefix]
            for peer in self.table.unicast_paths_by_peer(watched.prefix):
                self._update_holding(tracker, peer, True)
        self._dirty.add(watched.prefix)

    def reconcile(self, routes: Iterable[RouteAnnouncement], collectors: set[str], time: float
                  ) -> list[DetectionChange]:
        """Make the routes of ``collectors``' peers equal a fresh snapshot (after a feed gap).

        A live feed cannot replay what it sent while disconnected. Routes the
        snapshot confirms stay as they are (no double counting, no false
        withdrawal); routes it lacks were withdrawn during the gap and are
        withdrawn now; routes only it has were announced during the gap.
        """
        snapshot: dict[tuple[Prefix, Peer], list[RouteAnnouncement]] = {}
        for route in routes:
            if route.peer.collector in collectors:
                snapshot.setdefault((route.prefix, route.peer), []).append(route)
        changes = self.advance(time)
        for prefix in self.table.prefixes():
            for held in list(self.table.routes(prefix)):
                if held.peer.collector in collectors and (prefix, held.peer) not in snapshot:
                    changes.extend(self.apply(RouteWithdrawal(time, held.peer, prefix, held.safi, held.path_id)))
        for announcements in snapshot.values():
            for route in announcements:
                changes.extend(self.apply(replace(route, time=time), established=True))
        changes.extend(self._flush())
        return changes

    # -- sessions and sources -----------------------------------------------------

    def _apply_session(self, event: PeerStateChange) -> None:
        peer = self.table.peer_index(event.peer)
        self.sessions.known_collectors.add(event.peer.collector)
        if event.established:
            # A peer back from down was excluded and stays so while it settles: nothing to recount.
            # One that was not seen going down is excluded from now on: recount where it is.
            was_down = peer in self.sessions.down
            self.sessions.down.discard(peer)
            self.sessions.settle_until[peer] = event.time + self.settings.peer_settle
            self.schedule(event.time + self.settings.peer_settle, None)
            if not was_down:
                self._peers_changed({peer})
            return
        if peer in self.sessions.down:
            return
        self.sessions.down.add(peer)
        for prefix in self.table.drop_peer(event.peer):
            watched = self.watch.covering_prefix(prefix)
            if watched is not None:
                if watched.prefix == prefix:
                    self.visibility[prefix].set_holding(peer, False, self.now, self.exclusion)
                self._mark_sub(prefix, peer)
            self._dirty_addresses.update(a for a in self.addresses if a.version == prefix.version and a in prefix)
        self._peers_changed({peer})

    def _apply_source(self, event: SourceStatus) -> None:
        if event.collector is None:
            return
        self.sessions.known_collectors.add(event.collector)
        stale = self.sessions.stale_collectors
        was_stale = event.collector in stale
        if event.state is FeedState.UP:
            stale.discard(event.collector)
        else:
            stale.add(event.collector)
        if was_stale != (event.collector in stale):
            for tracker in self.visibility.values():
                tracker.invalidate()
            self._dirty.update(self.visibility)
            self._dirty_addresses.update(self.addresses)
            for prefix in self.table.prefixes():
                if self.watch.covering_prefix(prefix) is not None:
                    self._mark_sub(prefix, None)

    def _peers_changed(self, peers: set[int]) -> None:
        """Whether ``peers`` count changed (session down, settled): recount where they are candidates."""
        for prefix, tracker in self.visibility.items():
            frozen = tracker.frozen or ()
            if any(p in tracker.last_held or p in tracker.holders or p in frozen for p in peers):
                tracker.invalidate()
                self._dirty.add(prefix)
        self._dirty_addresses.update(self.addresses)

    def _settled(self) -> None:
        """Peers back from a session reset whose settle time is over count again."""
        settled = {p for p, until in self.sessions.settle_until.items() if until <= self.now}
        for peer in settled:
            del self.sessions.settle_until[peer]
        if settled:
            self._peers_changed(settled)

    def _excluded(self, peer: int) -> bool:
        return peer in self.sessions.down or self.sessions.settle_until.get(peer, 0.0) > self.now

    def stale(self, peer: int) -> bool:
        """Is ``peer``'s collector untrustworthy right now?"""
        stale = self.sessions.stale_collectors
        return bool(stale) and self.table.peers[peer].collector in stale

    def all_collectors_stale(self) -> bool:
        s = self.sessions
        return bool(s.known_collectors) and s.known_collectors <= s.stale_collectors

    # -- evaluation ---------------------------------------------------------------

    def _flush(self) -> list[DetectionChange]:
        # Each dirty set is swapped for a fresh one rather than popped empty: a set that once held
        # every watched prefix keeps its large table, and set.pop() scans it from the start.
        changes: list[DetectionChange] = []
        while self._dirty_sub:
            dirty_sub, self._dirty_sub = self._dirty_sub, {}
            for prefix, peers in dirty_sub.items():
                place = self._place_of(prefix)
                watched = place.watched
                if watched is not None:
                    self._restatus.add(watched.prefix)
                    for detector in self._route_judges:
                        changes.extend(detector.judge(prefix, watched, place.exact, peers, self))
        while self._dirty:
            dirty, self._dirty = self._dirty, set()
            for prefix in dirty:
                changes.extend(self._evaluate_prefix(prefix))
        while self._dirty_addresses:
            addresses, self._dirty_addresses = self._dirty_addresses, set()
            for address in addresses:
                self._evaluate_address(address)
        return changes

    def unknown(self, tracker: VisibilityTracker) -> bool:
        """No trustworthy collector left, or no snapshot loaded and the prefix never seen: unknown, not zero."""
        return self._unknown(tracker, self.all_collectors_stale())

    def _unknown(self, tracker: VisibilityTracker, all_stale: bool) -> bool:
        return all_stale or (not self.bootstrapped and not tracker.ever_seen)

    def _evaluate_prefix(self, prefix: Prefix) -> list[DetectionChange]:
        tracker = self.visibility.get(prefix)
        if tracker is None:
            return []
        changes: list[DetectionChange] = []
        for detector in self._visibility_judges:
            changes.extend(detector.judge(prefix, tracker.watched, True, None, self))
        if tracker.waiting():
            self._waiting.add(prefix)
        self._restatus.add(prefix)
        return changes

    def schedule(self, due: float, prefix: Prefix | None) -> None:
        """Evaluate ``prefix`` (None: everything) at data time ``due`` even if no event arrives."""
        self._timer_seq += 1
        heapq.heappush(self._timers, (due, self._timer_seq, prefix))

    def _sweep(self) -> list[DetectionChange]:
        """Re-evaluate prefixes whose baseline time alone changes (a holder matures, a past holder expires)."""
        changes: list[DetectionChange] = []
        for prefix in list(self._waiting):
            tracker = self.visibility[prefix]
            if not tracker.waiting():
                self._waiting.discard(prefix)
            elif tracker.due(self.now):
                changes.extend(self._evaluate_prefix(prefix))
        self._dirty_addresses.update(self.addresses)
        return changes

    # -- nameserver addresses -----------------------------------------------------

    def add_address(self, address: Address, service_prefixes: Iterable[Prefix] = (), zone: str = "",
                    exported: bool = False) -> None:
        """Follow the routes under a nameserver address (found by DNS discovery or configured)."""
        self.watch.add_address(address)
        tracker = self.addresses.get(address)
        if tracker is None:
            tracker = self.addresses[address] = AddressTracker(address, zone, exported)
        for prefix in service_prefixes:
            tracker.service.add(prefix)
            tracker.learning = False
            self.track(self.watch.add_service_prefix(prefix, frozenset(), zone, exported))
        self._dirty_addresses.add(address)

    def _evaluate_address(self, address: Address) -> None:
        tracker = self.addresses[address]
        lpm = tracker.longest_matches(tracker.covering_in(self.table), self.table)
        if tracker.learning:
            learned = tracker.learn_service(lpm, self.table, self.settings.anomaly_min_peers, self.now,
                                            self.settings.baseline_min_hold)
            if learned is not None:
                self.track(self.watch.add_service_prefix(learned, tracker.origins, tracker.zone, tracker.exported))
        for prefix in tracker.service:
            self._learn_origins(prefix)
        members: set[int] = set()
        for prefix in tracker.service:
            vis = self.visibility.get(prefix)
            if vis is not None:
                members |= vis.members(self.now, self.exclusion)
        tracker.update(lpm, members, self.stale)

    def _learn_origins(self, prefix: Prefix) -> None:
        """A service prefix designated without origins takes the origin most peers see."""
        vis = self.visibility.get(prefix)
        if vis is None or vis.watched.origins:
            return
        origins = self.table.origin_counts(prefix)
        if origins:
            learned = frozenset((origins.most_common(1)[0][0],))
            vis.watched = replace(vis.watched, origins=learned)
            self.watch.add(vis.watched)
            for peer in self.table.unicast_paths_by_peer(prefix):
                self._update_holding(vis, peer, True)

    # -- outputs ------------------------------------------------------------------

    def snapshot(self) -> CoreSnapshot:
        """A frozen view of the state for exporters and the CLI.

        Called every second by the daemon: only the statuses of prefixes
        evaluated since the last call are rebuilt (all of them when the
        feed's trust or the bootstrap changed), so a quiet minute with
        10,000 watched prefixes costs almost nothing.
        """
        all_stale = self.all_collectors_stale()
        basis = (all_stale, self.bootstrapped)
        if basis != self._status_basis:
            self._status_basis = basis
            self._restatus.update(self.visibility)
        restatus, self._restatus = self._restatus, set()
        for prefix in restatus:
            tracker = self.visibility.get(prefix)
            if tracker is not None:
                # An equal status keeps its object, so the exporter keeps its formatted lines while it lives.
                status = self._status(prefix, tracker, all_stale)
                if status != self._statuses.get(prefix):
                    self._statuses[prefix] = status
        if self._status_order is None or len(self._status_order) != len(self.visibility):
            for prefix in self.visibility.keys() - self._statuses.keys():
                self._statuses[prefix] = self._status(prefix, self.visibility[prefix], all_stale)
            self._status_order = sorted(self.visibility, key=prefix_key)
        prefixes = tuple(self._statuses[p] for p in self._status_order)
        return CoreSnapshot(
            time=self.now,
            prefixes=prefixes,
            addresses={a: t.risk() for a, t in self.addresses.items()},
            open_detections=tuple(self.open_detections()),
            stale_collectors=frozenset(self.sessions.stale_collectors),
            known_collectors=frozenset(self.sessions.known_collectors),
            tracked_routes=self.table.route_count(),
            asn_over_cap=dict(self.watch.asn_over_cap),
            updates=dict(self.updates),
        )

    def _status(self, prefix: Prefix, tracker: VisibilityTracker, all_stale: bool) -> PrefixStatus:
        counts = tracker.counts(self.now, self.exclusion)
        watched = tracker.watched
        found: dict[str, Any] = {}
        for detector in self.detectors.values():
            found.update(detector.status(prefix, self))
        return PrefixStatus(
            prefix=prefix,
            description=watched.description,
            group=watched.group,
            source=watched.source,
            exported=watched.exported,
            origins=tuple(sorted(watched.origins)),
            state=tracker.state(counts, self._unknown(tracker, all_stale)),
            visible_peers=counts.visible,
            visible_peer_asns=counts.visible_asns,
            baseline_peers=counts.baseline,
            ratio=counts.ratio,
            thresholds=watched.thresholds,
            **found,
        )

    def restore_anomalies(self, detections: list[Detection]) -> None:
        """Re-judge every restored route, keeping restored detections open without re-opening them."""
        for detector in self.detectors.values():
            detector.restore(d for d in detections if d.kind in detector.kinds)
        for prefix in self.table.prefixes():
            if self.watch.covering_prefix(prefix) is not None:
                self._mark_sub(prefix, None)
        self._dirty.update(self.visibility)
        self._dirty_addresses.update(self.addresses)
        self._flush()

    def open_detections(self) -> list[Detection]:
        return [d for detector in self.detectors.values() for d in detector.open_detections(self)]

    def address_risk(self, address: Address) -> AddressRisk | None:
        tracker = self.addresses.get(address)
        return tracker.risk() if tracker else None
