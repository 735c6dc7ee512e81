"""The /metrics server against password guessing, over-long passwords, and a reload onto a busy port.

Real sockets throughout: clients on distinct loopback addresses, the real
daemon for the reload.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import httpx
import pytest

from routewatch import __version__
from routewatch.exporter.auth import FAILURE_BURST, BasicAuth
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.server import MetricsServer
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox
from routewatch.exporter.webconfig import load_web_config
from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates

PASSWORD = "s3cret-scrape"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MetricsServer]:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  prometheus: '{hashed}'\n")
    config = load_web_config(web)
    running = MetricsServer(Exposition(SnapshotBox(ExportState(ProcessStatus("9.9.9")))), "127.0.0.1", 0, config)
    running.auth = BasicAuth(config.users, clock=lambda: 1000.0)  # time stands still: no failure is earned back
    running.start()
    yield running
    running.stop()


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_a_password_over_72_bytes_gets_a_401(server: MetricsServer) -> None:
    with client_from("127.0.0.1") as client:
        response = client.get(f"http://127.0.0.1:{server.port}/metrics", auth=("prometheus", "x" * 100))
    assert response.status_code == 401
    assert server.auth.bcrypt_checks == 0


def test_guessing_is_rate_limited_per_address_and_a_refused_password_costs_no_second_bcrypt(
        server: MetricsServer) -> None:
    url = f"http://127.0.0.1:{server.port}/metrics"
    with client_from("127.0.0.1") as attacker:
        codes = [attacker.get(url, auth=("prometheus", f"guess-{i}")).status_code for i in range(200)]
    assert codes[:FAILURE_BURST] == [401] * FAILURE_BURST
    assert set(codes[FAILURE_BURST:]) == {429}
    assert server.auth.bcrypt_checks == FAILURE_BURST  # the other 195 guesses cost no bcrypt at all

    with client_from("127.0.0.3") as clumsy:
        assert clumsy.get(url, auth=("prometheus", "guess-0")).status_code == 401  # refused before: cached
        assert server.auth.bcrypt_checks == FAILURE_BURST
        assert clumsy.get(url, auth=("prometheus", "another")).status_code == 401
        assert server.auth.bcrypt_checks == FAILURE_BURST + 1

    with client_from("127.0.0.2") as prometheus:
        response = prometheus.get(url, auth=("prometheus", PASSWORD))
    assert response.status_code == 200 and b"routewatch_build_info" in response.content
    assert server.auth.bcrypt_checks == FAILURE_BURST + 2


def write_config(workdir: Path, port: int) -> Path:
    path = workdir / "routewatch.yaml"
    path.write_text(f"""
prefixes:
  - prefix: 198.51.100.0/24
    asn: 32934
sources:
  - type: mrt
    name: feed
    files: ["feed/*.mrt"]
    follow: true
    poll_interval: 0.2
    collector: rrc00
bgp:
  bootstrap: {{mrt_files: [rib.mrt], ripestat: false}}
exporter: {{listen: 127.0.0.1, port: {port}}}
""")
    return path


def test_a_reload_onto_a_busy_port_keeps_the_old_listener_and_reports_failure(tmp_path: Path) -> None:
    (tmp_path / "feed").mkdir()
    write_updates(tmp_path / "rib.mrt", [Update(int(time.time()) - 5, "192.0.2.1", 64501, ["198.51.100.0/24"],
                                                [64501, 32934])])
    port = exporter_port()
    config = write_config(tmp_path, port)
    daemon = Daemon(config, port, tmp_path).start()
    busy = socket.socket()
    try:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config.write_text(config.read_text().replace(f"port: {port}", f"port: {busy.getsockname()[1]}"))
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: daemon.value("routewatch_config_last_reload_successful") == 0, 15,
                 "the reload to be reported failed")
        assert "cannot listen on 127.0.0.1" in daemon.log()
        assert daemon.value("routewatch_build_info", version=__version__) == 1  # still served on the old port
    finally:
        busy.close()
        assert daemon.stop() == 0
