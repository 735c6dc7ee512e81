"""``routewatch run`` started with nothing reachable: its log says what is watched and why nothing is known, briefly.

A RIS Live URL and a RIPEstat URL on loopback ports nobody listens on, a zone
whose parent server is silent, and a BMP station that refuses an unlisted
router: the process's own output is read, as a newcomer would read it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.dns_servers import free_port

pytestmark = pytest.mark.integration

REFUSALS = 5


def _lines(daemon: Daemon) -> list[str]:
    return (daemon.workdir / "routewatch.log").read_text(errors="replace").splitlines()


def _matching(daemon: Daemon, pattern: str) -> list[str]:
    return [line for line in _lines(daemon) if re.search(pattern, line)]


@dataclass(frozen=True)
class Offline:
    daemon: Daemon
    ris_port: int
    ripestat_port: int
    dns_port: int
    bmp_port: int


def start(tmp_path: Path, *, bmp: bool) -> Offline:
    ris_port, ripestat_port, dns_port, bmp_port = (free_port(["127.0.0.1"]) for _ in range(4))
    port = exporter_port()
    config = tmp_path / "routewatch.yaml"
    station = f"  - {{type: bmp, port: {bmp_port}, routers: [192.0.2.1]}}\n" if bmp else ""
    config.write_text(f"""
prefixes:
  - {{prefix: 198.51.100.0/24, asn: 64500}}
  - {{prefix: 203.0.113.0/24, asn: 64500}}
zones:
  - zone: example.org
    parent_servers: [127.0.0.1]
sources:
  - {{type: ris-live, url: "ws://127.0.0.1:{ris_port}/v1/ws/"}}
{station}ripestat: {{url: "http://127.0.0.1:{ripestat_port}", retries: 2, timeout: 0.5}}
dns: {{port: {dns_port}, timeout: 0.2, retries: 0}}
exporter: {{listen: 127.0.0.1, port: {port}}}
logging: {{level: debug}}
""")
    return Offline(Daemon(config, port, tmp_path).start(), ris_port, ripestat_port, dns_port, bmp_port)


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Offline]:
    """RIS Live unreachable and a BMP station (up, listening) beside it."""
    started = start(tmp_path, bmp=True)
    try:
        yield started
    finally:
        started.daemon.stop()


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[Offline]:
    """RIS Live, the only source, unreachable."""
    started = start(tmp_path, bmp=False)
    try:
        yield started
    finally:
        started.daemon.stop()


def test_one_line_per_source_and_zone_then_why_nothing_is_known(offline: Offline) -> None:
    daemon = offline.daemon
    url = f"ws://127.0.0.1:{offline.ris_port}/v1/ws/"
    wait_for(lambda: _matching(daemon, "ris-live: cannot connect .*, retrying; "), 20,
             f"the first attempt's line: {daemon.log()}")
    assert [line.split(": ", 1)[1] for line in _matching(daemon, r"INFO .*: (source|zone) ")] == [
        f"source ris-live: RIS Live at {url}, every collector; watching 2 prefixes, the nameserver addresses of "
        f"1 zone; initial state from RIPEstat's looking glass at http://127.0.0.1:{offline.ripestat_port}",
        f"source bmp: BMP station on 127.0.0.1 port {offline.bmp_port} (pre-policy), routers 192.0.2.1/32; watching "
        "2 prefixes, the nameserver addresses of 1 zone",
        "zone example.org: delegation asked of 127.0.0.1; every nameserver address probed every 60 s on port "
        f"{offline.dns_port}; their routes watched",
    ]
    failed = _matching(daemon, r"WARNING .*: ris-live: cannot connect to .*, retrying; ")
    assert len(failed) == 1 and failed[0].endswith("2 of 2 prefixes unknown until data arrives")
    assert _matching(daemon, "INFO .*: bmp: up; 2 of 2 prefixes unknown until data arrives")


def test_retries_at_debug_after_the_first_warning(offline: Offline) -> None:
    daemon = offline.daemon
    wait_for(lambda: _matching(daemon, r"DEBUG .*ris-live: cannot connect .*\(attempt 3\)"), 20,
             f"a third connection attempt: {daemon.log()}")
    assert len(_matching(daemon, r"WARNING .*ris_live.client: ris-live: cannot connect")) == 1
    wait_for(lambda: _matching(daemon, r"looking glass: \d+ of \d+ questions"), 20, f"the bootstrap: {daemon.log()}")
    assert _matching(daemon, r"DEBUG .*RIPEstat looking-glass: .*retrying in")
    assert not _matching(daemon, r"(INFO|WARNING) .*RIPEstat looking-glass: .*retrying in")
    glass = _matching(daemon, r"WARNING .*looking glass: ")
    assert len(glass) == 1 and re.search(r"looking glass: 2 of 2 questions \(198.51.100.0/24, 203.0.113.0/24\) "
                                         r"failed: could not reach RIPEstat at http://127.0.0.1:\d+: looking-glass: "
                                         r".* \(3 attempts\)$", glass[0]), glass


def test_identical_warnings_are_held_back(offline: Offline) -> None:
    daemon, bmp_port = offline.daemon, offline.bmp_port
    for _ in range(REFUSALS):
        with socket.create_connection(("127.0.0.1", bmp_port), timeout=5) as connection:
            connection.recv(1)  # the station closes the connection: an unlisted router is refused
    wait_for(lambda: daemon.value("routewatch_source_messages_ignored_total", source="bmp",
                                  type="refused router") == REFUSALS, 10, "every refusal counted")
    assert len(_matching(daemon, "refused BMP connection from 127.0.0.1")) == 1


def test_no_source_reachable_is_said_once(unreachable: Offline) -> None:
    daemon = unreachable.daemon
    wait_for(lambda: _matching(daemon, r"DEBUG .*ris-live: cannot connect .*\(attempt 3\)"), 20,
             f"a third connection attempt: {daemon.log()}")
    said = _matching(daemon, "WARNING .*no source reachable")
    assert [line.split(": ", 1)[1] for line in said] == [
        "no source reachable yet: every prefix is unknown until one connects"]
