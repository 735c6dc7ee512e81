"""The RIPEstat data API client: retries with backoff, a concurrency cap, a short-lived cache.

RIPEstat is a shared public service: the client sends the ``sourceapp``
parameter it asks for on every call, keeps at most ``concurrency`` requests in
flight, caches answers for a short while, and backs off exponentially on
connection errors, 5xx and 429 (honouring ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import orjson

from routewatch import __version__
from routewatch.config.schema import RipestatSettings
from routewatch.errors import RipestatError
from routewatch.model import Prefix, RouteAnnouncement
from routewatch.sources.ripestat.answers import RoutingStatus
from routewatch.sources.ripestat.parse import parse_announced_prefixes, parse_looking_glass, parse_routing_status

log = logging.getLogger(__name__)

#: Longest wait between two attempts, whatever Retry-After asks for.
MAX_BACKOFF = 60.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


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
