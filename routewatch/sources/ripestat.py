"""A small, polite client of RIPEstat's data API (https://stat.ripe.net/docs/data-api/).

RIPEstat is a shared public service: routewatch sends the ``sourceapp``
parameter it asks for on every call, keeps at most ``concurrency`` requests in
flight, caches answers for a short while (a CLI run and a reconciliation both
ask the same question several times), and backs off exponentially on
connection errors, 5xx and 429 (honouring ``Retry-After``).

Every failure becomes :class:`~routewatch.errors.RipestatError` with one honest
line ("could not reach RIPEstat at https://stat.ripe.net: ..."), so that the CLI
prints a sentence and the live source logs one, never a traceback.

The response parsers (``parse_*``) are pure functions over the documented JSON
shapes, so they are tested without any network; entries they cannot read are
counted in :attr:`RipestatClient.skipped` and logged, never fatal.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from routewatch import __version__
from routewatch.config.schema import RipestatSettings
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

log = logging.getLogger(__name__)

#: Longest wait between two attempts, whatever Retry-After asks for.
MAX_BACKOFF = 60.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class MalformedEntry(ValueError):
    """One entry of an answer could not be read; it is skipped and counted."""


@dataclass(frozen=True, slots=True)
class Visibility:
    """RIPEstat's own visibility: full-table RIS peers seeing the resource, of all of them."""

    seeing: int
    total: int

    @property
    def ratio(self) -> float | None:
        return self.seeing / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class SeenAt:
    """When (and as what) a resource was first or last seen in BGP."""

    time: float | None
    origin: int | None
    prefix: Prefix | None


@dataclass(frozen=True, slots=True)
class RelatedPrefix:
    """A less- or more-specific prefix and its origin, as routing-status lists them."""

    prefix: Prefix
    origin: int | None


@dataclass(frozen=True, slots=True)
class RoutingStatus:
    """The ``routing-status`` data call: a summary of the resource's current routing."""

    resource: str
    time: float | None
    origins: tuple[int, ...]
    visibility_v4: Visibility | None
    visibility_v6: Visibility | None
    first_seen: SeenAt | None
    last_seen: SeenAt | None
    less_specifics: tuple[RelatedPrefix, ...] = ()
    more_specifics: tuple[RelatedPrefix, ...] = ()

    def visibility(self, version: int) -> Visibility | None:
        return self.visibility_v4 if version == 4 else self.visibility_v6


# -- parsing (pure) -------------------------------------------------------------


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


def _messages(payload: Mapping[str, Any]) -> str:
    """RIPEstat's ``messages`` are ``[[level, text], ...]``; the errors say what went wrong."""
    texts = []
    for message in payload.get("messages") or []:
        if isinstance(message, list | tuple) and len(message) == 2:
            texts.append(f"{message[0]}: {message[1]}")
        else:
            texts.append(str(message))
    return "; ".join(texts)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


# -- the client -----------------------------------------------------------------


class RipestatClient:
    """Asynchronous RIPEstat data API client with retries, a concurrency cap and a TTL cache."""

    def __init__(
        self,
        settings: RipestatSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        cache_ttl: float = 60.0,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.base_url = settings.url.rstrip("/")
        self.cache_ttl = cache_ttl
        self.backoff = backoff
        self.skipped: Counter[str] = Counter()
        self.requests = 0
        self._sleep = sleep
        self._clock = clock
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, Mapping[str, Any]]] = {}
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(settings.timeout),
            transport=transport,
            headers={"User-Agent": f"routewatch/{__version__}", "Accept": "application/json"},
            follow_redirects=True,
        )

    async def __aenter__(self) -> RipestatClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- data calls -----------------------------------------------------------------

    async def looking_glass(self, resource: str) -> list[RouteAnnouncement]:
        """Every RRC peer's current route for ``resource`` (a prefix, matched exactly, or an address)."""
        return parse_looking_glass(await self.data_call("looking-glass", {"resource": resource}), self.skipped)

    async def routing_status(self, resource: str) -> RoutingStatus:
        """Visibility, origins, first/last seen and related prefixes of a prefix, address or AS."""
        return parse_routing_status(await self.data_call("routing-status", {"resource": resource}), self.skipped)

    async def announced_prefixes(self, asn: int) -> list[Prefix]:
        """The prefixes ``asn`` originated in RIPEstat's default window (the last two weeks)."""
        return parse_announced_prefixes(await self.data_call("announced-prefixes", {"resource": f"AS{asn}"}),
                                        self.skipped)

    async def data_call(self, name: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """The JSON answer of one data call, from the cache when fresh; ``status`` must be ``ok``."""
        key = (name, tuple(sorted(params.items())))
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        payload = await self._fetch(name, params)
        if self.cache_ttl > 0:
            self._cache[key] = (self._clock() + self.cache_ttl, payload)
        return payload

    # -- transport ------------------------------------------------------------------

    async def _fetch(self, name: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        path = f"/data/{name}/data.json"
        query = {**params, "sourceapp": self.settings.sourceapp}
        attempts = self.settings.retries + 1
        problem = ""
        for attempt in range(attempts):
            delay = self.backoff * 2**attempt
            try:
                async with self._semaphore:
                    self.requests += 1
                    response = await self._http.get(path, params=query)
            except httpx.TimeoutException:
                problem = f"no answer within {self.settings.timeout:g} s"
            except httpx.TransportError as exc:
                problem = str(exc) or type(exc).__name__
            else:
                if response.status_code not in _RETRY_STATUS:
                    return self._payload(name, response)
                problem = f"HTTP {response.status_code}"
                waited = retry_after(response.headers.get("Retry-After"), time.time())
                if waited is not None:
                    delay = waited
            if attempt + 1 < attempts:
                log.debug("RIPEstat %s: %s; retrying in %.1f s", name, problem, delay)
                await self._sleep(min(delay, MAX_BACKOFF))
        raise RipestatError(
            f"could not reach RIPEstat at {self.base_url}: {name}: {problem} "
            f"({attempts} attempt{'s' if attempts > 1 else ''})"
        )

    def _payload(self, name: str, response: httpx.Response) -> Mapping[str, Any]:
        where = f"RIPEstat at {self.base_url}: {name}"
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise RipestatError(f"{where}: HTTP {response.status_code} with malformed JSON ({exc})") from None
        if not isinstance(payload, Mapping):
            raise RipestatError(f"{where}: expected a JSON object, got {type(payload).__name__}")
        status = payload.get("status")
        if response.status_code >= 400 or status not in (None, "ok"):
            detail = _messages(payload) or f"status {status!r}"
            raise RipestatError(f"{where}: HTTP {response.status_code}: {detail}")
        return payload
