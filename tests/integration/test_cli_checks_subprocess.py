"""``check prefix``, ``check asn`` and ``generate`` as real processes, as a script would run them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ripestat_server as rs
from tests.support.tools import MRT_DIR, REPO, require_data
from tests.support.visibility_oracle import cached_lines, judge, prefixes_originated, replay

pytestmark = pytest.mark.integration

UPDATES_2010 = MRT_DIR / "updates.20100722.2015.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"


def routewatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "routewatch", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120, check=False)


def test_check_prefix_process_equals_bgpdump() -> None:
    oracle = judge(replay(cached_lines(require_data(UPDATES_2010))), "62.100.192.0/19", (46284,))
    done = routewatch("check", "prefix", "62.100.192.0/19", "--origin", "46284", "--json", "--mrt", str(UPDATES_2010))
    report = json.loads(done.stdout)
    assert (report["visible_peers"], report["visible_peer_asns"]) == (oracle.visible, oracle.visible_asns)
    assert done.returncode == report["exit_code"] == 0


def test_check_asn_process_equals_bgpdump() -> None:
    lines = cached_lines(require_data(RRC06))
    states = replay(lines)
    done = routewatch("check", "asn", "24950", "--json", str(RRC06))
    report = json.loads(done.stdout)
    assert report["prefixes"]
    for prefix in report["prefixes"]:
        assert prefix["visible_peers"] == judge(states, prefix["prefix"], (24950,)).visible
    assert done.returncode == report["exit_code"]


def test_generate_process_writes_a_valid_config(tmp_path: Path) -> None:
    out = tmp_path / "routewatch.yaml"
    done = routewatch("generate", "--asn", "24950", "--mrt", str(require_data(RRC06)), "-o", str(out))
    assert done.returncode == 0, done.stderr
    validated = routewatch("config", "validate", str(out))
    assert validated.returncode == 0, validated.stderr
    listed = {line.split(": ", 1)[1] for line in out.read_text().splitlines() if line.startswith("- prefix: ")}
    assert listed == prefixes_originated(cached_lines(RRC06), 24950)


def test_unreachable_ripestat_is_one_line_and_exit_3(tmp_path: Path) -> None:
    with rs.running() as server:
        server.faults = [rs.slow(2.0), rs.slow(2.0)]
        config = tmp_path / "routewatch.yaml"
        config.write_text(f"ripestat:\n  url: {server.url}\n  timeout: 0.3\n  retries: 0\n")
        done = routewatch("check", "prefix", "193.0.0.0/21", "-c", str(config))
    assert done.returncode == 3
    [line] = done.stderr.strip().splitlines()
    assert re.fullmatch(rf"routewatch: could not check: could not reach RIPEstat at {re.escape(server.url)}: "
                        r"(routing-status|looking-glass): no answer within 0\.3 s \(1 attempt\)", line)
    assert "Traceback" not in done.stderr
