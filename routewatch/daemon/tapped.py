"""The core as the daemon drives it: every detection change reaches the detection log, whoever applied the event.

Several parts feed one ``Engine`` (MRT files, the live feed, reconciliation,
the clock). Rather than trusting each to forward what ``apply`` returned,
:class:`TappedEngine` hands every change to a sink at the outermost call, so
a change is logged exactly once and none is lost. State transfer on reload
(:func:`carry_over`) keeps routes, baselines and open detections across a
config change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from routewatch.config.schema import Config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import Detection, DetectionChange
from routewatch.core.engine import Engine
from routewatch.daemon.persist import dump_state, load_state
from routewatch.model import Event, RouteAnnouncement
from routewatch.rpki.validation import VrpIndex
from routewatch.rpki.vrp import Vrp

Sink = Callable[[list[DetectionChange]], None]


class TappedEngine(Engine):
    """A ``Engine`` whose changes also go to ``sink`` (set after construction)."""

    sink: Sink = staticmethod(lambda changes: None)  # type: ignore[assignment]
    _depth: int = 0

    @contextmanager
    def _outer(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def _tap(self, changes: list[DetectionChange]) -> list[DetectionChange]:
        if self._depth == 0 and changes:
            self.sink(changes)
        return changes

    def apply(self, event: Event, *, established: bool = False) -> list[DetectionChange]:
        with self._outer():
            changes = super().apply(event, established=established)
        return self._tap(changes)

    def apply_all(self, events: Iterable[Event], *, established: bool = False) -> list[DetectionChange]:
        with self._outer():
            changes = super().apply_all(events, established=established)
        return self._tap(changes)

    def advance(self, now: float) -> list[DetectionChange]:
        with self._outer():
            changes = super().advance(now)
        return self._tap(changes)

    def flush(self) -> list[DetectionChange]:
        with self._outer():
            changes = super().flush()
        return self._tap(changes)

    def set_vrps(self, vrps: Iterable[Vrp] | VrpIndex) -> list[DetectionChange]:
        with self._outer():
            changes = super().set_vrps(vrps)
        return self._tap(changes)

    def restore_anomalies(self, detections: list[Detection]) -> list[DetectionChange]:
        with self._outer():
            changes = super().restore_anomalies(detections)
        return self._tap(changes)

    def reconcile(self, routes: Iterable[RouteAnnouncement], collectors: set[str], time: float
                  ) -> list[DetectionChange]:
        with self._outer():
            changes = super().reconcile(routes, collectors, time)
        return self._tap(changes)


def build_tapped(config: Config, *, bootstrapped: bool) -> TappedEngine:
    return build_engine(config, bootstrapped=bootstrapped, kind=TappedEngine)


def carry_over(old: Engine, config: Config, sink: Sink) -> TappedEngine:
    """A monitor for ``config`` holding ``old``'s state, minus the prefixes the new config no longer watches.

    The new config judges the carried routes at once: a detection it no longer
    holds closes, one it now sees opens, and those changes go to ``sink``. The
    RPKI detections are judged by the carried VRP set, or, where the new config
    has no RPKI sources, close as no longer judged.
    """
    new = build_tapped(config, bootstrapped=old.bootstrapped)
    new.sink = sink
    load_state(new, watched_state(dump_state(old), config, new), validate=False)  # dumped a moment ago
    # Validated against the last set until the new generation's sources load; a config without
    # ``rpki.sources`` has none to load, and its restored RPKI detections have closed above.
    if new.settings.rpki and old.rpki.index is not None:
        new.set_vrps(old.rpki.index)
    return new


def watched_state(state: dict[str, Any], config: Config, new: Engine) -> dict[str, Any]:
    """``state`` without the prefixes, detections, nameserver addresses and ASN counts ``config`` no longer watches.

    For a reload and for a restart alike: a prefix removed from the config
    while the daemon was down must not come back from the state file as a
    watched, exported prefix at every start (its series would outlive the config).
    """
    asns = {f"asn:{a.asn}" for a in config.asns} | {f"path:{a.asn}" for a in config.asns if a.downstreams is not None}
    zone_names = {z.zone for z in config.zones}
    zones = {f"zone:{zone}" for zone in zone_names}
    trackers = {prefix: raw for prefix, raw in state["trackers"].items()
                if _still_watched(prefix, raw, new, asns, zones)}
    return {
        **state,
        "trackers": trackers,
        "anomalies": [d for d in state.get("anomalies", []) if d["watched"] in trackers],
        # a watched ASN removed and later added back starts from none found, not from its old cap
        "asn_prefix_count": {asn: count for asn, count in state.get("asn_prefix_count", {}).items()
                             if f"asn:{asn}" in asns},
        "addresses": {address: raw for address, raw in state.get("addresses", {}).items()
                      if raw["zone"] in zone_names or ipaddress.ip_address(address) in new.addresses},
    }


def _still_watched(prefix: str, raw: dict[str, Any], new: Engine, asns: set[str], zones: set[str]) -> bool:
    source = raw["source"]
    if source == "config":
        return new.watch.get(ipaddress.ip_network(prefix)) is not None
    return source in asns or source in zones
