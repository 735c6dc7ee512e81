"""What RIS saw of a resource over a window, from RIPEstat's ``bgplay`` data call: a snapshot and the updates since.

A one-off check that asks only where an address's routes stand now (the
looking glass) falls into the 2021-10-04 trap: with the /24 serving
a.ns.facebook.com withdrawn and the /17 still announced, every peer's longest
match is the /17 and the address looks served. The baseline needs the past:
``bgplay`` gives the state of the routes for the resource at the window's
start (``initial_state``, in ``bgp-state``'s shape) and every update since
(``events``, in ``bgp-updates``' shape), which go through the same core as
an MRT archive (:mod:`routewatch.tools.zone_routes`).

Peers are ``source_id`` ``"<rrc number>-<peer address>"``; RIPEstat names no
peer AS, so it is the first hop of the path (RIS peers prepend themselves),
remembered per source for its withdrawals, which carry no path.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routewatch.errors import RipestatError
from routewatch.model import Peer, RouteAnnouncement, RouteWithdrawal, canonical_address, parse_prefix
from routewatch.sources.ripestat.answers import MalformedEntry
from routewatch.sources.ripestat.client import RipestatClient
from routewatch.sources.ripestat.parse import parse_as_path, parse_time

log = logging.getLogger(__name__)

CALL = "bgplay"


@dataclass(frozen=True, slots=True)
class RouteHistory:
    """The routes for a resource at ``start`` and the updates until ``end`` (data time, epoch seconds)."""

    start: float
    end: float
    initial: tuple[RouteAnnouncement, ...]
    updates: tuple[RouteAnnouncement | RouteWithdrawal, ...]


def _source(value: object, asns: dict[str, int], path: tuple[Any, ...] | None) -> Peer:
    text = str(value or "")
    rrc, _, address = text.partition("-")
    if not rrc.isdigit() or not address:
        raise MalformedEntry(f"unreadable source_id {value!r}")
    if path:
        first = path[0]
        asns[text] = first if isinstance(first, int) else 0
    return Peer(f"rrc{int(rrc):02d}", canonical_address(address), asns.get(text, 0))


def _route(entry: Mapping[str, Any], time_: float, asns: dict[str, int]) -> RouteAnnouncement:
    path = parse_as_path(entry.get("path"))
    return RouteAnnouncement(time_, _source(entry.get("source_id"), asns, path),
                             parse_prefix(str(entry.get("target_prefix"))), path)


def _update(entry: Mapping[str, Any], asns: dict[str, int]) -> RouteAnnouncement | RouteWithdrawal:
    attrs = entry.get("attrs")
    when = parse_time(entry.get("timestamp"))
    if not isinstance(attrs, Mapping) or when is None:
        raise MalformedEntry(f"unreadable update {entry!r}")
    kind = entry.get("type")
    if kind == "A":
        return _route(attrs, when, asns)
    if kind == "W":
        return RouteWithdrawal(when, _source(attrs.get("source_id"), asns, None),
                               parse_prefix(str(attrs.get("target_prefix"))))
    raise MalformedEntry(f"unknown update type {kind!r}")


def parse_bgplay(payload: Mapping[str, Any], skipped: Counter[str] | None = None) -> RouteHistory:
    """A ``bgplay`` answer as routes and updates; unreadable entries are skipped and counted."""
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise RipestatError("RIPEstat's bgplay answer has no 'data' object")
    try:
        start, end = parse_time(data.get("query_starttime")), parse_time(data.get("query_endtime"))
    except MalformedEntry as exc:
        raise RipestatError(f"RIPEstat's bgplay answer is unreadable: {exc}") from None
    initial, events = data.get("initial_state"), data.get("events")
    if start is None or end is None or not isinstance(initial, list) or not isinstance(events, list):
        raise RipestatError("RIPEstat's bgplay answer lacks its window, initial_state or events")
    asns: dict[str, int] = {}
    routes: list[RouteAnnouncement] = []
    updates: list[RouteAnnouncement | RouteWithdrawal] = []
    for entry in initial:
        try:
            if not isinstance(entry, Mapping):
                raise MalformedEntry(f"unreadable route {entry!r}")
            routes.append(_route(entry, start, asns))
        except (MalformedEntry, ValueError) as exc:
            _skipped(skipped, exc)
    for entry in events:
        try:
            if not isinstance(entry, Mapping):
                raise MalformedEntry(f"unreadable update {entry!r}")
            updates.append(_update(entry, asns))
        except (MalformedEntry, ValueError) as exc:
            _skipped(skipped, exc)
    updates.sort(key=lambda u: u.time)  # documented as in order; a stable sort keeps RIPEstat's within a second
    return RouteHistory(start, end, tuple(routes), tuple(updates))


def _skipped(skipped: Counter[str] | None, exc: Exception) -> None:
    if skipped is not None:
        skipped[CALL] += 1
    log.warning("RIPEstat %s: skipping %s", CALL, exc)


async def route_history(client: RipestatClient, resource: str, start: float, end: float) -> RouteHistory:
    """What RIS saw of ``resource`` (a prefix or an address) from ``start`` to ``end``."""
    payload = await client.data_call(CALL, {"resource": resource, "starttime": str(int(start)),
                                            "endtime": str(int(end)), "unix_timestamps": "TRUE"})
    return parse_bgplay(payload, client.skipped)
