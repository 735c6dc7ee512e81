"""``routewatch run`` meeting damaged input it is told to read at start: it starts, degraded, and says so.

Real processes, real files: an archive from the shared data damaged in the
test, state files written the way an operator's mistake or a disk would.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates
from tests.support.tools import MRT_DIR, require_data

PREFIX = "198.51.100.0/24"
ORIGIN = 32934
PEERS = 10


def write_config(workdir: Path, port: int, bootstrap: list[str]) -> Path:
    path = workdir / "routewatch.yaml"
    path.write_text(f"""
prefixes:
  - prefix: {PREFIX}
    asn: {ORIGIN}
sources:
  - type: mrt
    name: feed
    files: ["feed/*.mrt"]
    follow: true
    poll_interval: 0.2
    collector: rrc00
bgp:
  baseline_min_hold: 1
  bootstrap: {{mrt_files: {bootstrap!r}, ripestat: false}}
exporter: {{listen: 127.0.0.1, port: {port}}}
state: {{path: state/routewatch.json, save_interval: 3600}}
logging: {{format: human, detection_log: detections.jsonl}}
""")
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "feed").mkdir()
    (tmp_path / "state").mkdir()
    now = int(time.time())
    write_updates(tmp_path / "rrc00.rib.mrt", [
        Update(now - 5, f"192.0.2.{n}", 64500 + n, [PREFIX], [64500 + n, 3356, ORIGIN]) for n in range(1, PEERS + 1)])
    return tmp_path


def test_a_corrupt_gzip_in_the_bootstrap_files_is_a_degraded_start_not_an_exit(workdir: Path) -> None:
    data = bytearray(require_data(MRT_DIR / "ris.rrc06.updates.1427846400.gz").read_bytes())
    data[77] ^= 0x10  # inside the first deflate block: reading it raised zlib.error before
    (workdir / "rrc06.updates.gz").write_bytes(bytes(data))
    port = exporter_port()
    daemon = Daemon(write_config(workdir, port, ["rrc06.updates.gz", "rrc00.rib.mrt"]), port, workdir).start()
    try:
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == PEERS, 15,
                 "the good file's routes")
        assert daemon.value("routewatch_bootstrap_degraded") == 1
        log = daemon.log()
        assert "bootstrap degraded" in log and "rrc06.updates.gz: byte offset" in log
    finally:
        assert daemon.stop() == 0


def test_a_clean_bootstrap_is_not_degraded(workdir: Path) -> None:
    port = exporter_port()
    daemon = Daemon(write_config(workdir, port, ["rrc00.rib.mrt"]), port, workdir).start()
    try:
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == PEERS, 15,
                 "the routes")
        assert daemon.value("routewatch_bootstrap_degraded") == 0
    finally:
        assert daemon.stop() == 0
