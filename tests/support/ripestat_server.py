"""A local HTTP server that answers like RIPEstat's data API, for tests.

It serves canned answers in the documented shapes (the envelope with
``messages``, ``status``, ``status_code``, ``data``; looking-glass ``rrcs[].peers[]``;
routing-status ``visibility``/``origins``/``more_specifics``; announced-prefixes
``prefixes[]``; bgplay ``initial_state``/``events``), built by the functions below,
and can misbehave on demand: HTTP 500, 429 with Retry-After, answers slower
than the client's timeout, malformed JSON and ``"status": "error"`` bodies.
Every request is recorded, with the most requests ever in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ENVELOPE = {
    "see_also": [],
    "version": "2.1",
    "data_call_status": "supported",
    "cached": False,
    "query_id": "20240101000000-00000000-0000-0000-0000-000000000000",
    "process_time": 12,
    "server_id": "app000",
    "build_version": "live.2024.1.1.1",
    "time": "2024-01-01T00:00:00.000000",
}


def ok(call: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A successful answer in RIPEstat's envelope."""
    return {**ENVELOPE, "data_call_name": call, "messages": [], "data": dict(data),
            "status": "ok", "status_code": 200}


def error(call: str, message: str, status_code: int = 400) -> dict[str, Any]:
    """An error answer as RIPEstat sends it: ``status`` error, the reason in ``messages``."""
    return {**ENVELOPE, "data_call_name": call, "messages": [["error", message]], "data": {},
            "status": "error", "status_code": status_code}


@dataclass(frozen=True, slots=True)
class LgPeer:
    """One looking-glass peer entry."""

    rrc: str
    peer: str
    as_path: str
    prefix: str
    community: str = ""
    origin: str = "IGP"

    def entry(self) -> dict[str, Any]:
        last = self.as_path.split()[-1] if self.as_path else ""
        return {
            "asn_origin": last if last.isdigit() else "",
            "as_path": self.as_path,
            "community": self.community,
            "last_updated": "2024-01-01T00:00:00",
            "prefix": self.prefix,
            "peer": self.peer,
            "origin": self.origin,
            "next_hop": self.peer,
            "latest_time": "2024-01-01T07:59:00",
        }


def looking_glass(resource: str, peers: list[LgPeer], latest_time: str = "2024-01-01T07:59:00") -> dict[str, Any]:
    by_rrc: dict[str, list[dict[str, Any]]] = {}
    for peer in peers:
        by_rrc.setdefault(peer.rrc.upper(), []).append(peer.entry())
    return ok("looking-glass", {
        "rrcs": [{"rrc": rrc, "location": "Amsterdam, Netherlands", "peers": entries}
                 for rrc, entries in sorted(by_rrc.items())],
        "query_time": "2024-01-01T08:00:00",
        "latest_time": latest_time,
        "parameters": {"resource": resource, "look_back_limit": 86400, "cache": None},
    })


def routing_status(resource: str, *, origins: list[int], seeing: int, total: int, version: int = 4,
                   more_specifics: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    family, other = ("v4", "v6") if version == 4 else ("v6", "v4")
    seen = {"prefix": resource, "origin": str(origins[0]), "time": "2010-01-01T00:00:00"} if origins else {}
    return ok("routing-status", {
        "first_seen": seen,
        "last_seen": {**seen, "time": "2024-01-01T08:00:00"} if seen else {},
        "visibility": {family: {"ris_peers_seeing": seeing, "total_ris_peers": total},
                       other: {"ris_peers_seeing": 0, "total_ris_peers": total}},
        "origins": [{"origin": asn, "route_objects": ["RIPE"]} for asn in origins],
        "less_specifics": [],
        "more_specifics": [{"prefix": p, "origin": o} for p, o in more_specifics or []],
        "resource": resource,
        "query_time": "2024-01-01T08:00:00",
    })


def announced_prefixes(asn: int, prefixes: list[str]) -> dict[str, Any]:
    return ok("announced-prefixes", {
        "prefixes": [{"prefix": p, "timelines": [{"starttime": "2023-12-18T00:00:00",
                                                  "endtime": "2024-01-01T08:00:00"}]} for p in prefixes],
        "query_starttime": "2023-12-18T00:00:00",
        "query_endtime": "2024-01-01T08:00:00",
        "resource": str(asn),
        "latest_time": "2024-01-01T08:00:00",
        "earliest_time": "2000-08-01T00:00:00",
    })


def rpki_validation(asn: int, prefix: str, status: str) -> dict[str, Any]:
    """An rpki-validation answer (``status``: valid, invalid_asn, invalid_length, unknown)."""
    return ok("rpki-validation", {"resource": str(asn), "prefix": prefix, "validating_roas": [],
                                  "status": status, "validator": "routinator"})


def bgplay(resource: str, start: int, end: int, initial: list[dict[str, Any]],
           events: list[dict[str, Any]]) -> dict[str, Any]:
    """A bgplay answer (``unix_timestamps=TRUE``): ``initial`` in bgp-state's route shape (``target_prefix``,
    ``source_id`` "<rrc number>-<peer address>", ``path`` list, ``community``), ``events`` in bgp-updates'
    (``type`` A/W, ``timestamp``, ``attrs``, ``seq``)."""
    sources = sorted({r["source_id"] for r in initial} | {e["attrs"]["source_id"] for e in events})
    return ok("bgplay", {
        "resource": resource, "query_starttime": start, "query_endtime": end,
        "initial_state": initial, "events": events,
        "targets": sorted({r["target_prefix"] for r in initial} | {e["attrs"]["target_prefix"] for e in events}),
        "sources": [{"id": s, "rrc": s.split("-")[0], "ip": s.split("-", 1)[1]} for s in sources],
        "nodes": [],
    })


@dataclass(frozen=True, slots=True)
class Fault:
    """A misbehaviour served instead of the canned answer: ``status``/``body`` or a ``delay``."""

    status: int = 500
    body: bytes = b"Internal Server Error"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


MALFORMED = Fault(200, b'{"status": "ok", "data": {"rrcs": [')
SERVER_ERROR = Fault(500, b"<html>Internal Server Error</html>")


def too_many_requests(retry_after: str = "7") -> Fault:
    return Fault(429, b"Too Many Requests", (("Retry-After", retry_after),))


def slow(delay: float) -> Fault:
    """An answer (the canned one) that only starts after ``delay`` seconds."""
    return Fault(0, b"", (), delay)


@dataclass(slots=True)
class Request:
    call: str
    params: dict[str, str]


@dataclass
class RipestatServer:
    """Canned answers by (data call, resource); faults served first, in order, once each."""

    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    hold: float = 0.0
    #: The first ``meet`` requests wait for one another, so that that many are in flight at once however
    #: loaded the machine is (a concurrency test cannot rest on ``hold`` alone: under load the client
    #: may send its second request after the first was answered).
    meet: int = 0
    max_in_flight: int = 0
    url: str = ""
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: int = 0
    _met: threading.Barrier | None = None

    def add(self, call: str, resource: str, answer: dict[str, Any]) -> None:
        self.answers[(call, resource)] = answer

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._arrived += 1
            if self.meet and self._met is None:
                self._met = threading.Barrier(self.meet, timeout=30)
            meeting = self._met if self._arrived <= self.meet else None
        if meeting is not None:
            meeting.wait()  # broken after 30 s if the client never sends that many at once: the test fails

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def respond(self, path: str, query: str) -> tuple[int, bytes, tuple[tuple[str, str], ...], float]:
        parts = path.strip("/").split("/")
        params = dict(parse_qsl(query))
        call = parts[1] if len(parts) == 3 and parts[0] == "data" and parts[2] == "data.json" else ""
        with self._lock:
            self.requests.append(Request(call, params))
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault.status:
            return fault.status, fault.body, fault.headers, fault.delay
        delay = (fault.delay if fault else 0.0) + self.hold
        # rpki-validation is asked per (AS, prefix): its answers are added under "AS prefix"
        key = " ".join(filter(None, (params.get("resource", ""), params.get("prefix", ""))))
        answer = self.answers.get((call, key))
        if answer is None:
            missing = error(call or "unknown", f"no canned answer for {path}?{query}", 404)
            return 404, json.dumps(missing).encode(), (), delay
        return int(answer.get("status_code", 200)), json.dumps(answer).encode(), (), delay


def _handler(server: RipestatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            server._enter()
            try:
                split = urlsplit(self.path)
                status, body, headers, delay = server.respond(split.path, split.query)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer
            finally:
                server._leave()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: pytest shows the test's own output."""

    return Handler


@contextmanager
def running(server: RipestatServer | None = None) -> Iterator[RipestatServer]:
    """Serve on 127.0.0.1 on a free port in a thread; ``server.url`` is the base URL."""
    server = server or RipestatServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
