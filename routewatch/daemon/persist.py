"""Save and restore the core's state, so a restart neither forgets an outage nor pages again.

What survives: the routes, each watched prefix's baseline (holders, recent
holders, a frozen baseline and an open withdrawal), the past holders of
untracked more-specifics (``core.past_holders``), anomaly detections that are
open, session and collector health, learned service prefixes and origins, and
data time. The file is JSON (versioned), written atomically: a crash while
saving leaves the previous file intact. It is validated whole
(:mod:`routewatch.daemon.state_schema`) before anything of it is used; a file
that fails is renamed aside, never overwritten, and the daemon starts without it.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from routewatch.core.detection import Detection, DetectionChange, DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.table import key_path_id, key_peer, key_safi, route_key
from routewatch.core.visibility import ESTABLISHED
from routewatch.core.watch import WatchedPrefix
from routewatch.daemon.state_schema import FORMAT_VERSION, validate_state
from routewatch.model import AsPath, Peer, parse_prefix


def _path_out(path: AsPath) -> list[Any]:
    return [sorted(hop) if isinstance(hop, frozenset) else hop for hop in path]


def _path_in(raw: list[Any]) -> AsPath:
    return tuple(frozenset(hop) if isinstance(hop, list) else int(hop) for hop in raw)


def _detection_out(d: Detection) -> dict[str, Any]:
    return {"kind": d.kind.value, "prefix": str(d.prefix), "watched": str(d.watched), "start": d.start,
            "description": d.description, "evidence": d.evidence}


def _detection_in(raw: dict[str, Any]) -> Detection:
    return Detection(DetectionKind(raw["kind"]), parse_prefix(raw["prefix"]), parse_prefix(raw["watched"]),
                     raw["start"], description=raw.get("description", ""), evidence=raw.get("evidence", {}))


def dump_state(monitor: Engine) -> dict[str, Any]:
    """The monitor's state as plain data."""
    table = monitor.table
    routes = {
        str(prefix): [[key_peer(k), key_safi(k), key_path_id(k), _path_out(path)]
                      for k, path in table.raw_routes(prefix).items()]
        for prefix in table.prefixes()
    }
    trackers = {
        str(prefix): {
            "origins": sorted(t.watched.origins),
            "source": t.watched.source,
            "description": t.watched.description,
            "exported": t.watched.exported,
            "holders": [[p, None if since == ESTABLISHED else since] for p, since in t.holders.items()],
            "last_held": [[p, last] for p, last in t.last_held.items()],
            "frozen": sorted(t.frozen) if t.frozen is not None else None,
            "below_since": t.below_since,
            "open": _detection_out(t.open) if t.open else None,
            "ever_seen": t.ever_seen,
        }
        for prefix, t in monitor.visibility.items()
    }
    past = {
        str(prefix): {"holders": [[p, None if since == ESTABLISHED else since] for p, since in t.holders.items()],
                      "last_held": [[p, last] for p, last in t.last_held.items()]}
        for prefix, t in monitor.past.items()
    }
    addresses = {
        str(a): {"service": [str(p) for p in t.service], "learning": t.learning, "origins": sorted(t.origins),
                 "zone": t.zone, "exported": t.exported}
        for a, t in monitor.addresses.items()
    }
    s = monitor.sessions
    return {
        "version": FORMAT_VERSION,
        "now": monitor.now,
        "peers": [[p.collector, p.address, p.asn] for p in table.peers],
        "routes": routes,
        "trackers": trackers,
        # open withdrawals are saved with their prefix's tracker above
        "anomalies": [_detection_out(d) for d in monitor.open_detections() if d.kind is not DetectionKind.WITHDRAWAL],
        "addresses": addresses,
        "past": past,
        "sessions": {"down": sorted(s.down), "settle_until": [[p, t] for p, t in s.settle_until.items()],
                     "stale": sorted(s.stale_collectors), "known": sorted(s.known_collectors)},
        "asn_prefix_count": {str(k): v for k, v in monitor.watch.asn_prefix_count.items()},
    }


def load_state(monitor: Engine, state: dict[str, Any], *, wall_clock: float | None = None,
               validate: bool = True) -> list[DetectionChange]:
    """Restore ``state`` into a freshly built monitor without raising detections again.

    Returns the detection changes judging the restored routes made (see
    :meth:`Engine.restore_anomalies`): the caller passes them to the detection
    log (a ``TappedEngine`` hands them to its sink itself). Raises StateError,
    before touching the monitor, when the state fails validation (skipped only
    for a state this process dumped itself).
    """
    if validate:
        validate_state(orjson.dumps(state), wall_clock=wall_clock)
    table = monitor.table
    for collector, address, asn in state["peers"]:
        table.peer_index(Peer(collector, address, asn))
    for text, raw in state["trackers"].items():
        prefix = parse_prefix(text)
        watched = monitor.watch.get(prefix)
        if watched is None or (not watched.origins and raw["origins"]):
            watched = WatchedPrefix(prefix, frozenset(raw["origins"]),
                                    watched.thresholds if watched else monitor.watch.default_thresholds,
                                    description=raw["description"], source=raw["source"], exported=raw["exported"],
                                    exclude=watched.exclude if watched else monitor.watch.inherited_exclusion(prefix))
            monitor.watch.add(watched)
        monitor.track(watched, from_table=False)
        t = monitor.visibility[prefix]
        t.holders = {table.peer_index(table.peers[int(p)]): ESTABLISHED if since is None else since
                     for p, since in raw["holders"]}
        t.last_held = {int(p): last for p, last in raw["last_held"]}
        t.frozen = frozenset(raw["frozen"]) if raw["frozen"] is not None else None
        t.below_since = raw["below_since"]
        t.open = _detection_in(raw["open"]) if raw["open"] else None
        t.ever_seen = raw["ever_seen"]
        t.restored()
    for text, raw in state.get("past", {}).items():
        prefix = parse_prefix(text)
        covering = monitor.watch.covering_prefix(prefix)
        if covering is not None and covering.prefix != prefix:  # still an untracked more-specific
            monitor.past.restore(covering, prefix,
                                 {int(p): ESTABLISHED if since is None else since for p, since in raw["holders"]},
                                 {int(p): last for p, last in raw["last_held"]})
    for text, raw in state["addresses"].items():
        address = ipaddress.ip_address(text)
        monitor.add_address(address, (), raw["zone"], raw["exported"])
        tracker = monitor.addresses[address]
        tracker.service = {parse_prefix(p) for p in raw["service"]}
        tracker.learning = raw["learning"]
        tracker.origins = frozenset(raw["origins"])
    anomalies = [_detection_in(raw) for raw in state["anomalies"]]
    refused = _restore_routes(monitor, state, anomalies)
    s = monitor.sessions
    s.down = set(state["sessions"]["down"])
    s.settle_until = {int(p): t for p, t in state["sessions"]["settle_until"]}
    for until in s.settle_until.values():
        monitor.schedule(until, None)  # the settle ends even if nothing arrives
    s.stale_collectors = set(state["sessions"]["stale"])
    s.known_collectors = set(state["sessions"]["known"])
    for asn, count in state["asn_prefix_count"].items():
        monitor.watch.asn_prefix_count[int(asn)] = count
    monitor.now = state["now"]
    return monitor.restore_anomalies(_without(anomalies, refused))


def _restore_routes(monitor: Engine, state: dict[str, Any], anomalies: list[Detection]) -> set[str]:
    """Put the saved routes back, more-specifics of a watched prefix only up to ``limits.max_more_specifics``;
    returns the prefixes refused.

    Runs once the watched prefixes and nameserver addresses are back (they
    say what counts against the cap). The more-specifics open detections
    name go first, so a detection restored open keeps its offenders.
    """
    table = monitor.table
    named = {p for d in anomalies for p in _named(d)}
    refused: set[str] = set()
    for text, entries in sorted(state["routes"].items(), key=lambda item: item[0] not in named):
        if not entries:
            continue
        prefix = parse_prefix(text)
        if not monitor.more_specifics.admit_restored(monitor.places.of(prefix), prefix, table, len(entries)):
            monitor.places.forget(prefix)
            refused.add(text)
            continue
        for peer, safi, path_id, path in entries:
            table.restore_route(prefix, route_key(peer, safi, path_id), _path_in(path))
    return refused


def _named(d: Detection) -> list[str]:
    """The prefixes a saved detection names as offending: its listed offenders, or (saved before they were
    listed) its own."""
    listed = d.evidence.get("offenders")
    if isinstance(listed, list) and listed:
        return [str(o.get("prefix")) for o in listed if isinstance(o, dict)]
    return [str(d.prefix)]


def _without(anomalies: list[Detection], refused: set[str]) -> list[Detection]:
    """Restored detections without the offenders whose routes were refused beyond the cap.

    Nothing judges a prefix with no route again, so such an offender would
    hold its detection open for good; a detection left with no offender is
    not restored (the kept routes open it again if they still offend).
    """
    if not refused:
        return anomalies
    kept: list[Detection] = []
    for d in anomalies:
        listed = d.evidence.get("offenders")
        if isinstance(listed, list) and listed:
            offenders = [o for o in listed if not (isinstance(o, dict) and str(o.get("prefix")) in refused)]
            if offenders:
                kept.append(replace(d, evidence={**d.evidence, "offenders": offenders}))
        elif str(d.prefix) not in refused:
            kept.append(d)
    return kept


def encode_state(monitor: Engine) -> bytes:
    """The state as the bytes of a state file."""
    return orjson.dumps(dump_state(monitor))


def write_state(path: str | Path, data: bytes) -> None:
    """Write a state file atomically (temporary file in the same directory, synced, then renamed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".routewatch-state-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_state(monitor: Engine, path: str | Path) -> None:
    """Encode and write the state at once (shutdown, tests)."""
    write_state(path, encode_state(monitor))


def restore_state(monitor: Engine, path: str | Path, *, wall_clock: float | None = None,
                  narrow: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> bool:
    """Load a saved state if the file exists; returns whether it did.

    Raises StateError (the monitor untouched) when the file is not JSON or
    fails validation; ``wall_clock`` refuses a data time ahead of it;
    ``narrow`` takes out what the current config no longer watches. The
    detection changes the restore makes reach a ``TappedEngine``'s sink.
    """
    target = Path(path)
    if not target.exists():
        return False
    data = target.read_bytes()
    validate_state(data, wall_clock=wall_clock)
    state = orjson.loads(data)
    load_state(monitor, narrow(state) if narrow is not None else state, validate=False)
    return True


def set_aside(path: str | Path, when: float) -> Path:
    """Rename a rejected state file to ``<name>.rejected-<UTC time>``, so it is kept, never overwritten."""
    target = Path(path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    aside = target.with_name(f"{target.name}.rejected-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = target.with_name(f"{target.name}.rejected-{stamp}-{n}")
    os.replace(target, aside)
    return aside
