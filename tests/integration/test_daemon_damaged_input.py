"""``routewatch run`` meeting damaged input it is told to read at start: it starts, degraded, and says so.

Real processes, real files: an archive from the shared data damaged in the
test, state files written the way an operator's mistake or a disk would.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates
from tests.support.tools import MRT_DIR, require_data

PREFIX = "198.51.100.0/24"
ORIGIN = 32934
PEERS = 10
TEN_YEARS = 10 * 365 * 86_400


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


def _workdir(path: Path) -> Path:
    (path / "feed").mkdir()
    (path / "state").mkdir()
    now = int(time.time())
    write_updates(path / "rrc00.rib.mrt", [
        Update(now - 5, f"192.0.2.{n}", 64500 + n, [PREFIX], [64500 + n, 3356, ORIGIN]) for n in range(1, PEERS + 1)])
    return path


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return _workdir(tmp_path)


@pytest.fixture(scope="module")
def saved_state(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A state file the daemon itself wrote: started on the RIB, stopped (once for the module)."""
    return good_state(_workdir(tmp_path_factory.mktemp("saved")))


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


def good_state(workdir: Path) -> dict:
    """Start the daemon on the RIB, stop it, and return the state file it wrote."""
    port = exporter_port()
    daemon = Daemon(write_config(workdir, port, ["rrc00.rib.mrt"]), port, workdir).start()
    try:
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_baseline_peers", prefix=PREFIX) == PEERS, 15,
                 "the baseline")
    finally:
        assert daemon.stop() == 0
    return json.loads((workdir / "state" / "routewatch.json").read_text())


def _damaged_states(state: dict) -> dict[str, tuple[object, str]]:
    """Damaged copies of a real state, each with the path its message must name."""
    tracker = state["trackers"][PREFIX]
    return {
        "a list": ([], "(top level)"),
        "a string": ("routewatch", "(top level)"),
        "a list for a mapping": ({**state, "routes": []}, "routes"),
        "a peer index out of range": (
            {**state, "trackers": {PREFIX: {**tracker, "holders": [[10_000, None]]}}},
            f"trackers['{PREFIX}'].holders[0][0]: peer index 10000"),
        "a frozen baseline of characters": (
            {**state, "trackers": {PREFIX: {**tracker, "frozen": list("abc")}}},
            f"trackers['{PREFIX}'].frozen[0]"),
        "a clock in 2100": ({**state, "now": 4_102_444_800.0}, "now: the saved data time 4102444800 is"),
        "a clock beyond 2^53": ({**state, "now": 2.0**60}, "now: Value error, a time must be finite"),
    }


@pytest.mark.parametrize("case", list(_damaged_states({"trackers": {PREFIX: {}}})))
def test_a_state_file_that_fails_validation_is_set_aside_and_the_daemon_starts(workdir: Path, case: str,
                                                                              saved_state: dict) -> None:
    content, message = _damaged_states(saved_state)[case]
    path = workdir / "state" / "routewatch.json"
    path.write_text(json.dumps(content))
    written = path.read_bytes()
    port = exporter_port()
    daemon = Daemon(write_config(workdir, port, ["rrc00.rib.mrt"]), port, workdir).start()
    try:
        wait_for(lambda: daemon.value("routewatch_state_restore_rejected") == 1, 15, "the rejection to be exported")
        aside = list((workdir / "state").glob("routewatch.json.rejected-*"))
        assert len(aside) == 1 and aside[0].read_bytes() == written  # kept as it was, for a look
        assert message in daemon.log()
        # the daemon runs on without the state: the bootstrap files give it its routes again
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == PEERS, 15,
                 "the routes from the bootstrap")
    finally:
        assert daemon.stop() == 0
    assert aside[0].read_bytes() == written
    assert json.loads(path.read_text())["version"] == 1  # a fresh state, written beside the rejected one


def test_a_good_state_file_is_restored_and_not_rejected(workdir: Path, saved_state: dict) -> None:
    (workdir / "state" / "routewatch.json").write_text(json.dumps(saved_state))
    port = exporter_port()
    daemon = Daemon(write_config(workdir, port, ["rrc00.rib.mrt"]), port, workdir).start()
    try:
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_baseline_peers", prefix=PREFIX) == PEERS, 15,
                 "the restored baseline")
        assert daemon.value("routewatch_state_restore_rejected") == 0
        assert "state restored from" in daemon.log()
    finally:
        assert daemon.stop() == 0


@pytest.mark.parametrize("ahead", [-5, TEN_YEARS])
def test_a_bootstrap_file_stamped_years_ahead_does_not_blind_withdrawal_detection(workdir: Path, ahead: int) -> None:
    """A live daemon's bootstrap is live input too: a RIB dump from a collector whose clock says ten years
    ahead is judged at the wall clock (and counted), so the withdrawals the feed sends after it still open."""
    now = int(time.time())
    write_updates(workdir / "rrc00.rib.mrt", [
        Update(now + ahead, f"192.0.2.{n}", 64500 + n, [PREFIX], [64500 + n, 3356, ORIGIN])
        for n in range(1, PEERS + 1)])
    port = exporter_port()
    config = write_config(workdir, port, ["rrc00.rib.mrt"])
    config.write_text(config.read_text().replace(
        f"    asn: {ORIGIN}\n", f"    asn: {ORIGIN}\n    thresholds: {{hold_down: 1, min_baseline_peers: 3}}\n"))
    daemon = Daemon(config, port, workdir).start()
    try:
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == PEERS, 15,
                 "the routes from the bootstrap")
        skewed = "bootstrap: 10 element(s) stamped more than 300 s ahead of the wall clock" in daemon.log()
        assert skewed == (ahead > 0) and daemon.value("routewatch_bootstrap_degraded") == skewed
        assert (daemon.value("routewatch_bgp_data_timestamp_seconds") or 0) < time.time() + 60
        write_updates(workdir / "feed" / "updates.1.mrt", [
            # stamped a little ahead (within the tolerance), so the bootstrap's routes were held baseline_min_hold
            Update(int(time.time()) + 5, f"192.0.2.{n}", 64500 + n, withdrawn=[PREFIX]) for n in range(1, 9)])
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_state", prefix=PREFIX, state="withdrawn") == 1, 20,
                 "the withdrawal to open")
    finally:
        assert daemon.stop() == 0
    assert json.loads((workdir / "state" / "routewatch.json").read_text())["now"] < time.time() + 60
