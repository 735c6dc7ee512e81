"""The pure core: events in, detections and state snapshots out.

``Engine.apply(event)`` and ``Engine.advance(now)`` are the only ways time and
data enter. They do no I/O and read no clock, so a test, a replay of a year of
archives and the live daemon drive exactly the same code and get the same
answers.

Time is data time: hold-downs and baselines run on the timestamps the
collectors put on their messages. Work is batched per data-time tick: events
with the same timestamp are applied, then the prefixes they touched are
judged once, by every detector in ``DETECTORS``.

The engine holds the route table and each watched prefix's visibility; what
peers count (``sessions``), what a session or collector changing standing
touches (``standing``), when time alone fires (``timers``), what a prefix
is to the watch set (``places``), the statuses a snapshot reuses and the
snapshot itself (``status``), the nameserver addresses (``nameservers``),
reconciliation after a feed gap (``reconcile``), a new VRP set
(``revalidation``) and restored detections (``restore``) live in modules of
their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable

from routewatch.core.detection import Detection, DetectionChange
from routewatch.core.detectors.base import DETECTORS, Detector
from routewatch.core.dns_risk import AddressRisk, AddressTracker
from routewatch.core.judging import Judging
from routewatch.core.more_specifics import MoreSpecificCap
from routewatch.core.nameservers import Nameservers
from routewatch.core.past_holders import PastHolders
from routewatch.core.peer_filter import StaticExclusions
from routewatch.core.places import PlaceCache
from routewatch.core.reconcile import reconcile
from routewatch.core.restore import restore_detections
from routewatch.core.revalidation import revalidate
from routewatch.core.rpki import VrpTracker
from routewatch.core.sessions import PeerSessions
from routewatch.core.settings import CoreSettings
from routewatch.core.snapshot import CoreSnapshot
from routewatch.core.standing import Standing
from routewatch.core.status import StatusCache, take_snapshot, unknown_now
from routewatch.core.table import RouteTable
from routewatch.core.timers import Timers
from routewatch.core.visibility import Exclusion, VisibilityTracker
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import (
    Address,
    Event,
    PeerStateChange,
    Prefix,
    RouteAnnouncement,
    RouteWithdrawal,
    Safi,
    SourceStatus,
)
from routewatch.rpki.validation import VrpIndex
from routewatch.rpki.vrp import Vrp

_UNICAST = Safi.UNICAST
_ROUTES = (RouteAnnouncement, RouteWithdrawal)  # a tuple: isinstance checks it faster than a union


class Engine:
    """Route table, sessions and visibility driven by events; the registered detectors judge what changed."""

    def __init__(self, watch: WatchSet, settings: CoreSettings | None = None, *, bootstrapped: bool = True,
                 service_prefixes: dict[Address, tuple[Prefix, ...]] | None = None) -> None:
        self.watch = watch
        self.settings = settings or CoreSettings()
        self.table = RouteTable()
        self.now = 0.0
        self.bootstrapped = bootstrapped
        self.sessions = PeerSessions()
        self.visibility: dict[Prefix, VisibilityTracker] = {}
        self.detectors: dict[str, Detector] = {name: make(self.settings) for name, make in DETECTORS.items()}
        self.judging = Judging(self.detectors)
        self.updates: Counter[str] = Counter()
        self.rpki = VrpTracker()
        self.timers = Timers(self.settings.sweep_interval)
        self.statuses = StatusCache()
        self.places = PlaceCache(watch, self.visibility)
        self.more_specifics = MoreSpecificCap(self.settings.max_more_specifics)
        self.configured = StaticExclusions(self.settings.exclude, lambda i: self.table.peers[i])
        self.exclusion = Exclusion(self._excluded, self.stale, lambda i: self.table.peers[i].asn)
        self.past = PastHolders(self.settings.baseline_min_hold, self.settings.baseline_window)
        self.dirty: set[Prefix] = set()
        self.nameservers = Nameservers(self)
        self.standing = Standing(self)
        for watched in watch:
            self.track(watched)
        for address in watch.addresses:
            self.add_address(address, (service_prefixes or {}).get(address, ()))

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
            self.standing.session(event)
        elif isinstance(event, SourceStatus):
            self.standing.source(event)
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
        if now < self.timers.next_due():  # the common tick: nothing due
            self.now = max(self.now, now)
            return changes
        while (fired := self.timers.pop_due(now)) is not None:
            due, prefix = fired
            self.now = max(self.now, due)
            if prefix is None:
                self.standing.peers_changed(self.sessions.settled(self.now))
                self.nameservers.touch_all()  # a longest match waiting to be learned may be stable now
                changes.extend(self._flush())
            else:
                changes.extend(self._evaluate_prefix(prefix))
        if self.timers.sweep_due(now):
            self.now = max(self.now, now)
            for prefix in self.timers.swept(self.visibility, self.now):
                changes.extend(self._evaluate_prefix(prefix))
            self.past.sweep(self.now, self.exclusion)
            self.nameservers.touch_all()
            changes.extend(self._flush())
        self.now = max(self.now, now)
        return changes

    def flush(self) -> list[DetectionChange]:
        """Judge what the latest events touched (replay calls it at the end of the data)."""
        return self._flush()

    def schedule(self, due: float, prefix: Prefix | None, key: Hashable | None = None) -> None:
        """Judge ``prefix`` (None: every peer's standing and every nameserver address) at data time ``due``
        even if no event arrives; instead of the timer scheduled before under ``key``, if given."""
        self.timers.schedule(due, prefix, key)

    # -- routes -------------------------------------------------------------------

    def _apply_route(self, event: RouteAnnouncement | RouteWithdrawal, established: bool) -> None:
        prefix = event.prefix
        place = self.places.of(prefix)
        if place.watched is None and isinstance(event, RouteAnnouncement) and self.watch.asn_caps:
            discovered = self.watch.discover(prefix, event.origin_asns, event.as_path)
            if discovered is not None:
                self.track(discovered)
                place = self.places.fresh(prefix)
        covering = place.watched
        if covering is None and not place.covers_address:
            return
        if (covering is not None and not place.exact and not place.covers_address and prefix not in self.table
                and isinstance(event, RouteAnnouncement)
                and not self.more_specifics.admit(covering.prefix, prefix, self.table)):
            self.places.forget(prefix)  # refused: nothing of it is kept
            self.statuses.touch(covering.prefix)
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
            elif not place.exact:
                self.past.set_holding(covering, prefix, peer, self._holding(covering, prefix, peer), self.now,
                                      self.exclusion, established)
            self.judging.mark(prefix, peer)
        if place.covers_address:
            self.nameservers.touch_under(prefix, established)

    def _holding(self, watched: WatchedPrefix, prefix: Prefix, peer: int) -> bool:
        """Does ``peer`` hold a unicast route for ``prefix`` with an origin ``watched`` expects?"""
        paths = self.table.peer_unicast_paths(prefix, peer)
        return bool(paths) and any(map(watched.path_expected, paths))

    def _update_holding(self, tracker: VisibilityTracker, peer: int, established: bool) -> None:
        watched = tracker.watched  # the hottest path: _holding written out
        paths = self.table.peer_unicast_paths(watched.prefix, peer)
        holding = bool(paths) and any(map(watched.path_expected, paths))
        tracker.set_holding(peer, holding, self.now, self.exclusion, established)
        self.dirty.add(watched.prefix)

    def track(self, watched: WatchedPrefix, *, from_table: bool = True) -> None:
        """Start tracking a watched prefix; routes already in the table count at once.

        A more-specific tracked from now on (it serves a nameserver address
        found late) keeps the baseline its past holders gave it, so a
        withdrawal that happened before is seen (see ``past_holders``).
        """
        if watched.prefix in self.visibility:
            return
        tracker = self.past.pop(watched.prefix)
        if tracker is None:
            tracker = VisibilityTracker(watched, self.settings.baseline_min_hold, self.settings.baseline_window)
        else:
            tracker.watched = watched
            tracker.restored()
        self.visibility[watched.prefix] = tracker
        self.statuses.reorder()
        if from_table:
            self.relearn(tracker)
        self.dirty.add(watched.prefix)

    def relearn(self, tracker: VisibilityTracker) -> None:
        """Judge every peer's routes for a tracked prefix again (it is new, or its expected origins changed)."""
        for peer in self.table.unicast_paths_by_peer(tracker.watched.prefix):
            self._update_holding(tracker, peer, True)

    def reconcile(self, routes: Iterable[RouteAnnouncement], collectors: set[str], time: float
                  ) -> list[DetectionChange]:
        """Make the routes of ``collectors``' peers equal a fresh snapshot after a feed gap (see ``reconcile``)."""
        return reconcile(self, routes, collectors, time)

    def set_vrps(self, vrps: Iterable[Vrp] | VrpIndex) -> list[DetectionChange]:
        """Validate against a new VRP set from now on: every route under a watched prefix is judged again
        (see ``revalidation``)."""
        return revalidate(self, vrps)

    # -- sessions and sources -----------------------------------------------------

    def _excluded(self, peer: int) -> bool:
        return self.sessions.excluded(peer, self.now)

    def stale(self, peer: int, watched: WatchedPrefix | None = None) -> bool:
        """Must ``peer`` count for nothing (under ``watched``)? Its collector is untrustworthy right now, or the
        configuration excludes it: everywhere, or at ``watched`` and its more-specifics.

        Every detector and every visibility count asks here, so an exclusion holds for all of them at once.
        """
        stale = self.sessions.stale_collectors
        if stale and self.table.peers[peer].collector in stale:
            return True
        return self.configured.excluded(peer, None if watched is None else watched.exclude)

    # -- judging ------------------------------------------------------------------

    def _flush(self) -> list[DetectionChange]:
        changes = self.judging.judge_routes(self.places, self.statuses, self)
        while self.dirty:  # swapped, not popped empty: see Judging.judge_routes
            dirty, self.dirty = self.dirty, set()
            for prefix in dirty:
                changes.extend(self._evaluate_prefix(prefix))
        self.nameservers.flush()
        return changes

    def unknown(self, tracker: VisibilityTracker) -> bool:
        """No trustworthy collector left, or no snapshot loaded and the prefix never seen: unknown, not zero."""
        return unknown_now(tracker, self.sessions.all_stale(), self.bootstrapped)

    def _evaluate_prefix(self, prefix: Prefix) -> list[DetectionChange]:
        tracker = self.visibility.get(prefix)
        if tracker is None:
            return []
        changes = self.judging.judge_visibility(tracker.watched, self)
        if tracker.waiting():
            self.timers.waiting.add(prefix)
        self.statuses.touch(prefix)
        return changes

    # -- nameserver addresses -----------------------------------------------------

    @property
    def addresses(self) -> dict[Address, AddressTracker]:
        return self.nameservers.trackers

    def add_address(self, address: Address, service_prefixes: Iterable[Prefix] = (), zone: str = "",
                    exported: bool = False) -> None:
        """Follow the routes under a nameserver address (found by DNS discovery or configured)."""
        self.nameservers.add(address, service_prefixes, zone, exported)

    def address_risk(self, address: Address) -> AddressRisk | None:
        tracker = self.addresses.get(address)
        return tracker.risk() if tracker else None

    # -- outputs ------------------------------------------------------------------

    def snapshot(self) -> CoreSnapshot:
        """A frozen view of the state for exporters and the CLI (statuses rebuilt only where they changed)."""
        return take_snapshot(self)

    def restore_anomalies(self, detections: list[Detection]) -> list[DetectionChange]:
        """Re-judge every restored route, keeping restored detections open without re-opening them; returns
        the real changes, for the detection log (see ``restore``)."""
        return restore_detections(self, detections)

    def open_detections(self) -> list[Detection]:
        return [d for detector in self.detectors.values() for d in detector.open_detections(self)]
