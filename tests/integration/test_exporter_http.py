"""The /metrics server over real sockets: TLS from an openssl-made certificate, bcrypt basic auth, client certs."""

from __future__ import annotations

import gzip
import http.client
import logging
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import bcrypt
import httpx
import pytest

from routewatch.errors import ConfigError
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.server import MetricsServer
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox
from routewatch.exporter.webconfig import load_web_config
from tests.support.events import announce, peer, withdraw
from tests.support.metrics import ORIGIN, full_state, watched_monitor
from tests.support.pki import make_pki
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-scrape"
OPENMETRICS = "application/openmetrics-text;version=1.0.0"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def bcrypt_hash() -> str:
    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode().replace("$2b$", "$2y$")


def serve(web_file: Path | None) -> MetricsServer:
    exposition = Exposition(SnapshotBox(ExportState(ProcessStatus("9.9.9"))))
    server = MetricsServer(exposition, "127.0.0.1", 0, load_web_config(web_file) if web_file else None)
    server.start()
    return server


@pytest.fixture
def running() -> Iterator[list[MetricsServer]]:
    servers: list[MetricsServer] = []
    yield servers
    for server in servers:
        server.stop()


def test_plain_http_serves_metrics_and_404s_elsewhere(running: list[MetricsServer]) -> None:
    server = serve(None)
    running.append(server)
    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics")
    assert response.status_code == 200
    assert 'routewatch_build_info{version="9.9.9"} 1.0' in response.text
    assert httpx.get(f"http://127.0.0.1:{server.port}/nope").status_code == 404


def test_metrics_are_gzipped_only_when_the_scraper_accepts_gzip(running: list[MetricsServer]) -> None:
    server = serve(None)
    running.append(server)

    def fetch(accept_encoding: str | None) -> tuple[str | None, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/metrics", headers={} if accept_encoding is None else {"Accept-Encoding": accept_encoding})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 200
        return response.getheader("Content-Encoding"), body

    plain_encoding, plain = fetch(None)
    assert plain_encoding is None
    assert b'routewatch_build_info{version="9.9.9"} 1.0' in plain
    for accepted in ("gzip", "deflate, gzip;q=0.5", "*"):
        encoding, body = fetch(accepted)
        assert encoding == "gzip", accepted
        assert gzip.decompress(body) == plain
    for refused in ("identity", "gzip;q=0", "br"):
        assert fetch(refused) == (None, plain), refused


def test_kept_gzip_blocks_decode_in_curl_and_httpx_across_status_changes(running: list[MetricsServer]) -> None:
    curl = require_tool("curl")
    prefixes = [f"10.{i // 250}.{i % 250}.0/24" for i in range(1_200)]  # three blocks of 512 and a part
    monitor = watched_monitor(*prefixes)
    monitor.apply_all(announce(0, peer(i), p, (64500 + i, ORIGIN)) for p in prefixes for i in range(3))
    monitor.advance(20)
    box = SnapshotBox(replace(full_state(), core=monitor.snapshot()))
    server = MetricsServer(Exposition(box), "127.0.0.1", 0)
    server.start()
    running.append(server)
    url = f"http://127.0.0.1:{server.port}/metrics"

    def scrapes() -> tuple[bytes, bytes, bytes]:
        """The body as curl and httpx decode it from gzip, and as sent plain."""
        by_curl = subprocess.run([curl, "-sSf", "--compressed", "-H", f"Accept: {OPENMETRICS}", url],
                                 capture_output=True, check=True, timeout=30).stdout
        with httpx.Client(headers={"Accept": OPENMETRICS}) as client:
            packed = client.get(url, headers={"Accept-Encoding": "gzip"})
            plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert packed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
        return by_curl, packed.content, plain.content

    for t, step in enumerate((lambda: None, lambda: monitor.apply(withdraw(30, peer(1), prefixes[700])),
                              lambda: monitor.apply(announce(40, peer(1), prefixes[700], (64501, ORIGIN))))):
        step()
        monitor.advance(50 + t)
        box.update(core=monitor.snapshot())
        expected = Exposition(SnapshotBox(box.current))(OPENMETRICS)[0]
        assert scrapes() == (expected, expected, expected), t
        assert scrapes() == (expected, expected, expected), t  # quiet: the kept blocks


def test_tls_with_basic_auth_401_without_password_and_bcrypt_once(pki: Path, bcrypt_hash: str,
                                                                   running: list[MetricsServer]) -> None:
    web = pki / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                   f"basic_auth_users:\n  prometheus: '{bcrypt_hash}'\n")
    server = serve(web)
    running.append(server)
    url = f"https://127.0.0.1:{server.port}/metrics"
    verify = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    with httpx.Client(verify=verify) as client:
        anonymous = client.get(url)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"].startswith('Basic realm="routewatch"')
        assert client.get(url, auth=("prometheus", "wrong")).status_code == 401
        assert client.get(url, auth=("nobody", PASSWORD)).status_code == 401
        checks_before = server.auth.bcrypt_checks
        for _ in range(20):
            assert client.get(url, auth=("prometheus", PASSWORD)).status_code == 200
    assert server.auth.bcrypt_checks == checks_before + 1, "verified credentials must be cached"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=2)  # plain HTTP to a TLS port


def test_client_certificates_are_required_when_configured(pki: Path, running: list[MetricsServer]) -> None:
    web = pki / "mtls.yml"
    web.write_text("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                   "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
                   "  min_version: TLS13\n")
    server = serve(web)
    running.append(server)
    url = f"https://127.0.0.1:{server.port}/metrics"
    with_cert = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    with_cert.load_cert_chain(pki / "client.crt", pki / "client.key")
    assert httpx.get(url, verify=with_cert).status_code == 200
    without = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    with pytest.raises(httpx.HTTPError):
        httpx.get(url, verify=without, timeout=2)


def test_unsupported_and_unknown_keys_are_rejected_by_name(tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
                   "  client_auth_type: RequireAnyClientCert\n  min_version: TLS14\n"
                   "rate_limit:\n  interval: 1s\nbasic_auth_user:\n  x: y\nbasic_auth_users:\n  alice: plaintext\n")
    with pytest.raises(ConfigError) as caught:
        load_web_config(web)
    problems = caught.value.problems
    assert "rate_limit: rate limiting is not supported by routewatch" in problems
    assert any(p.startswith("basic_auth_user: unknown key") for p in problems)
    assert any(p.startswith("tls_server_config.cipher_suites: choosing cipher suites") for p in problems)
    assert any(p.startswith("tls_server_config.client_auth_type: RequireAnyClientCert accepts") for p in problems)
    assert any(p.startswith("tls_server_config.min_version: expected one of TLS10") for p in problems)
    assert any(p.startswith("basic_auth_users.alice: expected a bcrypt hash") for p in problems)
    assert not any("plaintext" in p for p in problems), "a secret must not be echoed"


def test_missing_certificate_files_fail_at_load(tmp_path: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n")
    with pytest.raises(ConfigError, match="cannot load the certificate"):
        load_web_config(web)


def test_basic_auth_without_tls_warns(tmp_path: Path, bcrypt_hash: str, caplog: pytest.LogCaptureFixture) -> None:
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  prometheus: '{bcrypt_hash}'\n")
    with caplog.at_level(logging.WARNING):
        config = load_web_config(web)
    assert config.tls is None and set(config.users) == {"prometheus"}
    assert "basic auth without TLS" in caplog.text
