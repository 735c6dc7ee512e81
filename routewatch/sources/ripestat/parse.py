"""RIPEstat's answers into routewatch values: pure functions over the documented JSON shapes, no network.

Entries they cannot read are counted in ``skipped`` (by data call) and
logged, never fatal; an answer that cannot be read at all is
:class:`~routewatch.errors.RipestatError`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from routewatch.errors import RipestatError
from routewatch.model import (
    AsPath,
    BgpOrigin,
    Peer,
    Prefix,
    RouteAnnouncement,
    canonical_address,
    parse_asn,
    parse_prefix,
)
from routewatch.model import (
    parse_as_path as model_parse_as_path,
)
from routewatch.sources.ripestat.answers import MalformedEntry, RelatedPrefix, RoutingStatus, SeenAt, Visibility

log = logging.getLogger(__name__)


def parse_time(value: object) -> float | None:
    """RIPEstat's times are ISO 8601 in UTC, usually without a zone: epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        raise MalformedEntry(f"expected an ISO 8601 time, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEntry(f"expected an ISO 8601 time, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_as_path(value: object) -> AsPath:
    """``"34854 6939 {64512,64513}"`` (or a list of numbers) into an AS path with sets."""
    try:
        if isinstance(value, list):
            return tuple(parse_asn(token) for token in value)
        if isinstance(value, str):
            return model_parse_as_path(value)
    except ValueError as exc:
        raise MalformedEntry(f"unreadable AS path {value!r}: {exc}") from None
    raise MalformedEntry(f"expected an AS path, got {value!r}")


def _communities(value: object) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int, int], ...]]:
    tokens = value if isinstance(value, list) else str(value or "").replace(",", " ").split()
    pairs: list[tuple[int, int]] = []
    triples: list[tuple[int, int, int]] = []
    for token in tokens:
        parts = str(token).split(":")
        if not all(p.isdigit() for p in parts):
            raise MalformedEntry(f"unreadable community {token!r}")
        if len(parts) == 2:
            pairs.append((int(parts[0]), int(parts[1])))
        elif len(parts) == 3:
            triples.append((int(parts[0]), int(parts[1]), int(parts[2])))
        else:
            raise MalformedEntry(f"unreadable community {token!r}")
    return tuple(pairs), tuple(triples)


def _origin(value: object) -> BgpOrigin | None:
    text = str(value or "").upper()
    return BgpOrigin(text) if text in BgpOrigin.__members__ else None


def _data(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise RipestatError("RIPEstat answered without a 'data' object")
    return data


def parse_looking_glass_peer(entry: Mapping[str, Any], collector: str, time_: float) -> RouteAnnouncement:
    """One ``rrcs[].peers[]`` entry as an announcement.

    RIPEstat does not name the peer's AS: it is the first hop of the path (RIS
    peers are BGP neighbours of the collector and prepend themselves).
    """
    try:
        path = parse_as_path(entry["as_path"])
        prefix = parse_prefix(str(entry["prefix"]))
        address = canonical_address(str(entry["peer"]))
    except (KeyError, ValueError) as exc:
        raise MalformedEntry(f"unreadable looking-glass entry {dict(entry)!r}: {exc}") from None
    first = path[0] if path else None
    communities, large = _communities(entry.get("community"))
    next_hop = entry.get("next_hop")
    return RouteAnnouncement(
        time=time_,
        peer=Peer(collector, address, first if isinstance(first, int) else 0),
        prefix=prefix,
        as_path=path,
        origin=_origin(entry.get("origin")),
        next_hop=canonical_address(next_hop) if isinstance(next_hop, str) and next_hop else None,
        communities=communities,
        large_communities=large,
    )


def parse_looking_glass(payload: Mapping[str, Any], skipped: Counter[str] | None = None) -> list[RouteAnnouncement]:
    """Every RRC peer's route in a ``looking-glass`` answer, timed at the answer's data time."""
    data = _data(payload)
    when = parse_time(data.get("latest_time")) or parse_time(data.get("query_time")) or 0.0
    rrcs = data.get("rrcs") or []
    if not isinstance(rrcs, list):
        raise RipestatError("RIPEstat's looking-glass answer has no list of 'rrcs'")
    routes: list[RouteAnnouncement] = []
    for rrc in rrcs:
        if not isinstance(rrc, Mapping) or not isinstance(rrc.get("peers"), list):
            _skip(skipped, "looking-glass", f"unreadable collector entry {rrc!r}")
            continue
        collector = str(rrc.get("rrc", "")).lower() or "ripestat"
        for entry in rrc["peers"]:
            try:
                if not isinstance(entry, Mapping):
                    raise MalformedEntry(f"unreadable looking-glass entry {entry!r}")
                routes.append(parse_looking_glass_peer(entry, collector, when))
            except MalformedEntry as exc:
                _skip(skipped, "looking-glass", str(exc))
    return routes


def _seen(value: object) -> SeenAt | None:
    if not isinstance(value, Mapping) or not value:
        return None
    origin = value.get("origin")
    prefix = value.get("prefix")
    try:
        return SeenAt(
            time=parse_time(value.get("time")),
            origin=parse_asn(origin) if origin not in (None, "") else None,
            prefix=parse_prefix(str(prefix)) if prefix else None,
        )
    except ValueError as exc:
        raise MalformedEntry(f"unreadable first/last seen {dict(value)!r}: {exc}") from None


def _visibility(value: object) -> Visibility | None:
    if not isinstance(value, Mapping):
        return None
    seeing, total = value.get("ris_peers_seeing"), value.get("total_ris_peers")
    if not isinstance(seeing, int) or not isinstance(total, int):
        raise MalformedEntry(f"unreadable visibility {dict(value)!r}")
    return Visibility(seeing, total)


def _related(values: object, skipped: Counter[str] | None) -> tuple[RelatedPrefix, ...]:
    related = []
    for item in values if isinstance(values, list) else []:
        try:
            origin = item.get("origin")
            related.append(RelatedPrefix(parse_prefix(str(item["prefix"])),
                                         parse_asn(origin) if origin not in (None, "") else None))
        except (AttributeError, KeyError, ValueError):
            _skip(skipped, "routing-status", f"unreadable related prefix {item!r}")
    return tuple(related)


def parse_routing_status(payload: Mapping[str, Any], skipped: Counter[str] | None = None) -> RoutingStatus:
    """A ``routing-status`` answer (for a prefix, an address or an AS)."""
    data = _data(payload)
    visibility = data.get("visibility") or {}
    origins: list[int] = []
    for item in data.get("origins") or []:
        try:
            origins.append(parse_asn(item.get("origin") if isinstance(item, Mapping) else item))
        except ValueError:
            _skip(skipped, "routing-status", f"unreadable origin {item!r}")
    try:
        return RoutingStatus(
            resource=str(data.get("resource", "")),
            time=parse_time(data.get("query_time")),
            origins=tuple(sorted(set(origins))),
            visibility_v4=_visibility(visibility.get("v4")) if isinstance(visibility, Mapping) else None,
            visibility_v6=_visibility(visibility.get("v6")) if isinstance(visibility, Mapping) else None,
            first_seen=_seen(data.get("first_seen")),
            last_seen=_seen(data.get("last_seen")),
            less_specifics=_related(data.get("less_specifics"), skipped),
            more_specifics=_related(data.get("more_specifics"), skipped),
        )
    except MalformedEntry as exc:
        raise RipestatError(f"RIPEstat's routing-status answer is unreadable: {exc}") from None


def parse_announced_prefixes(payload: Mapping[str, Any], skipped: Counter[str] | None = None) -> list[Prefix]:
    """The prefixes of an ``announced-prefixes`` answer, in RIPEstat's order, without duplicates."""
    data = _data(payload)
    seen: dict[Prefix, None] = {}
    for item in data.get("prefixes") or []:
        try:
            seen[parse_prefix(str(item["prefix"]))] = None
        except (TypeError, KeyError, ValueError):
            _skip(skipped, "announced-prefixes", f"unreadable prefix entry {item!r}")
    return list(seen)


def _skip(skipped: Counter[str] | None, call: str, why: str) -> None:
    if skipped is not None:
        skipped[call] += 1
    log.warning("RIPEstat %s: skipping %s", call, why)
