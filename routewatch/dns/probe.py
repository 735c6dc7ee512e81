"""Asking one server one SOA question, over UDP or TCP, and saying what happened.

This is the thin I/O shell around :mod:`routewatch.dns.classify`: it sends the
query with dnspython's asyncio functions (never its stub resolver, which would
fail over and hide a dead server), times it, retries once on silence, and maps
every exception to a :class:`ProbeFailure`. It never raises for anything a
server or the network does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.query

from routewatch.dns.classify import Verdict, classify_authoritative, classify_recursive, make_soa_query
from routewatch.dns.targets import ProbeFailure, Transport
from routewatch.dns.udp import udp_exchange

RETRYABLE = frozenset({ProbeFailure.TIMEOUT, ProbeFailure.UNREACHABLE})
"""Failures that may be packet loss; an answer (even REFUSED) is not retried."""


@dataclass(frozen=True, slots=True)
class Observation:
    """The outcome of one probe (after retries).

    ``rtt`` is the round-trip time in seconds of the attempt that produced an
    answer (None when none did); ``attempts`` counts the queries sent;
    ``detail`` is a human-readable explanation for logs and ``check zone``.
    """

    transport: Transport
    failure: ProbeFailure | None
    rtt: float | None
    serial: int | None
    authoritative: bool
    nsid: str | None
    attempts: int
    detail: str

    @property
    def up(self) -> bool:
        return self.failure is None


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """How to ask: port, per-attempt timeout in seconds, and retries after a silent attempt."""

    port: int = 53
    timeout: float = 2.0
    retries: int = 1


async def probe_soa(
    address: str,
    zone: str,
    transport: Transport,
    settings: ProbeSettings,
    *,
    recursive: bool = False,
    limit: asyncio.Semaphore | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> Observation:
    """Ask ``address`` for the SOA of ``zone``; classify as authoritative unless ``recursive``.

    ``limit`` bounds how many queries are in flight across all probes; it is
    held per attempt, so a slow server does not starve the others between
    attempts. The round-trip time of an answer is dnspython's own measure (from
    just before the send to the receipt, as ``dig`` reports it); ``timer``
    times failures that still produced bytes (e.g. malformed answers).
    """
    observation: Observation | None = None
    for attempt in range(1, settings.retries + 2):
        async with limit if limit is not None else contextlib.nullcontext():
            observation = await _attempt(address, zone, transport, settings, recursive, timer, attempt)
        if observation.failure not in RETRYABLE:
            break
    assert observation is not None  # the loop runs at least once
    return observation


async def _attempt(
    address: str,
    zone: str,
    transport: Transport,
    settings: ProbeSettings,
    recursive: bool,
    timer: Callable[[], float],
    attempt: int,
) -> Observation:
    query = make_soa_query(zone, recursion=recursive)
    started = timer()
    try:
        response = await _exchange(query, address, transport, settings)
        rtt = float(response.time)
        detail = ""
        if transport is Transport.UDP and response.flags & dns.flags.TC:
            response = await _exchange(query, address, Transport.TCP, settings)
            rtt += float(response.time)
            detail = "truncated over UDP, answered over TCP; "
    except Exception as exc:  # noqa: BLE001 - anything a server or network does is a verdict, not a crash
        failure, reason = failure_from_exception(exc)
        elapsed = None if failure in RETRYABLE else timer() - started
        return Observation(transport, failure, elapsed, None, False, None, attempt, reason)
    verdict = classify_recursive(query, response) if recursive else classify_authoritative(query, response)
    return _observation(transport, verdict, rtt, attempt, detail)


async def _exchange(
    query: dns.message.Message, address: str, transport: Transport, settings: ProbeSettings
) -> dns.message.Message:
    if transport is Transport.TCP:
        return await dns.asyncquery.tcp(query, address, timeout=settings.timeout, port=settings.port)
    return await udp_exchange(query, address, settings.port, settings.timeout)


def _observation(transport: Transport, verdict: Verdict, rtt: float, attempt: int, detail: str) -> Observation:
    status = "ok" if verdict.up else str(verdict.failure)
    flags = "aa" if verdict.authoritative else "no aa"
    return Observation(
        transport,
        verdict.failure,
        rtt,
        verdict.serial,
        verdict.authoritative,
        verdict.nsid,
        attempt,
        f"{detail}{status}: rcode {verdict.rcode}, {flags}",
    )


def failure_from_exception(exc: BaseException) -> tuple[ProbeFailure, str]:
    """Map what a query raised to a failure reason and a one-line explanation."""
    if isinstance(exc, dns.exception.Timeout | asyncio.TimeoutError | TimeoutError):
        return ProbeFailure.TIMEOUT, "no answer before the timeout"
    if isinstance(exc, dns.query.BadResponse | dns.query.UnexpectedSource):
        return ProbeFailure.WRONG_ANSWER, "the answer does not match the query (ID or question)"
    if isinstance(exc, EOFError | ConnectionResetError):
        return ProbeFailure.UNREACHABLE, "the connection was closed before an answer"
    if isinstance(exc, ConnectionRefusedError):
        return ProbeFailure.UNREACHABLE, "port unreachable (connection refused)"
    if isinstance(exc, OSError):
        return ProbeFailure.UNREACHABLE, f"network error: {exc.strerror or exc}"
    return ProbeFailure.MALFORMED, f"unparsable answer: {type(exc).__name__}: {exc}"
