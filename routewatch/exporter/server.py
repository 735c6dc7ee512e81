"""The ``/metrics`` HTTP(S) server, in its own thread, over the snapshot-reading exposition.

TLS is applied per connection with the handshake in the handler thread, so a
client that stalls its handshake holds up only its own connection. The web
config can be swapped at runtime (SIGHUP): new connections use the new TLS
context and users.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from routewatch.exporter.api import PREFIX as API_PREFIX
from routewatch.exporter.api import JsonApi
from routewatch.exporter.auth import FAILURE_REFILL, AuthVerdict, BasicAuth
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.webconfig import WebConfig

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30.0
_INDEX = (b"<html><head><title>routewatch</title></head><body><h1>routewatch</h1>"
          b"<p><a href=\"/metrics\">Metrics</a></p>"
          b"<p><a href=\"/api/v1/detections\">Open detections (JSON)</a></p></body></html>\n")
_JSON = "application/json"


def _accepts_gzip(accept_encoding: str) -> bool:
    """Whether the scraper lists gzip (Prometheus always does) without refusing it by ``q=0``."""
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=")
        try:
            return not params.strip() or float(quality) > 0
        except ValueError:
            return False
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    exporter: MetricsServer

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        context = self.exporter.tls_context
        if context is not None:
            conn = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("HTTP connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT
    protocol_version = "HTTP/1.1"
    # the headers and the body are two writes: with Nagle's algorithm the body's last segment waits for the
    # client's delayed ACK of the headers (~40 ms a response on Linux)
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        exporter = self.server.exporter
        auth = exporter.auth
        if auth.enabled:
            verdict = auth.verdict(self.headers.get("Authorization"), str(self.client_address[0]))
            if verdict is AuthVerdict.THROTTLED:
                self._send(429, b"Too many failed logins\n", "text/plain; charset=utf-8",
                           {"Retry-After": str(int(FAILURE_REFILL))})
                return
            if verdict is AuthVerdict.DENIED:
                self._send(401, b"Unauthorized\n", "text/plain; charset=utf-8",
                           {"WWW-Authenticate": 'Basic realm="routewatch", charset="UTF-8"'})
                return
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            gzip = _accepts_gzip(self.headers.get("Accept-Encoding", ""))
            body, content_type = exporter.exposition(self.headers.get("Accept", ""), gzip=gzip)
            if gzip:
                self._send(200, body, content_type, {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
            else:
                self._send(200, body, content_type, {"Vary": "Accept-Encoding"})
        elif path.startswith(API_PREFIX) and exporter.api is not None:
            code, body = exporter.api(path)
            self._send(code, body, _JSON, {"Cache-Control": "no-store"})
        elif path == "/":
            self._send(200, _INDEX, "text/html; charset=utf-8")
        else:
            self._send(404, b"Not found\n", "text/plain; charset=utf-8")

    def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class MetricsServer:
    """Serves ``exposition`` on ``listen``:``port`` (0: any free port), gzipped when the scraper accepts it.

    ``api``, when given, answers ``/api/v1/...`` behind the same TLS and basic auth.
    """

    def __init__(self, exposition: Exposition, listen: str, port: int,
                 web: WebConfig | None = None, api: JsonApi | None = None) -> None:
        self.exposition = exposition
        self.api = api
        self._listen = listen
        self._requested_port = port
        self.tls_context: ssl.SSLContext | None = None
        self.auth = BasicAuth({})
        self.configure(web or WebConfig())
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def configure(self, web: WebConfig) -> None:
        """Use ``web`` for new connections (a reload swaps it without dropping the socket)."""
        self.tls_context = web.tls.context() if web.tls is not None else None
        self.auth = BasicAuth(web.users)

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def scheme(self) -> str:
        return "https" if self.tls_context is not None else "http"

    def bind(self) -> None:
        """Take the listening socket now; raises OSError when the address cannot be bound.

        Separate from :meth:`start` so that a reload can learn that the new
        address is taken while the old listener still serves.
        """
        if self._httpd is not None:
            return
        server_class = type("_BoundServer", (_Server,), {
            "address_family": socket.AF_INET6 if ":" in self._listen else socket.AF_INET,
        })
        httpd = server_class((self._listen, self._requested_port), _Handler)
        httpd.exporter = self
        self._httpd = httpd

    def start(self) -> None:
        """Bind (unless :meth:`bind` did) and serve in a daemon thread; raises OSError when it cannot bind."""
        self.bind()
        httpd = self._httpd
        assert httpd is not None
        self._thread = threading.Thread(target=httpd.serve_forever, name="routewatch-http", daemon=True)
        self._thread.start()
        log.info("serving metrics on %s://%s:%d/metrics", self.scheme, self._listen, self.port)

    def stop(self) -> None:
        if self._httpd is None:
            return
        if self._thread is not None:  # shutdown() waits for serve_forever, which a bound-only server never ran
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
