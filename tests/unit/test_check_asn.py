"""``routewatch check asn`` on the shared MRT files (against bgpdump) and on a local RIPEstat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from routewatch.cli import main
from tests.support import ripestat_server as rs
from tests.support.tools import MRT_DIR, require_data

UPDATES_2010 = MRT_DIR / "updates.20100722.2015.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "asn", *args], catch_exceptions=False)


def test_table_flags_prefixes_below_threshold() -> None:
    result = run("25620", "--mrt", str(require_data(UPDATES_2010)), "--min-visibility", "1.0")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("AS25620: ")
    flagged = [line for line in lines if "<--" in line]
    report = json.loads(run("25620", "--json", "--mrt", str(UPDATES_2010), "--min-visibility", "1.0").stdout)
    below = [p for p in report["prefixes"] if p["verdict"] != "visible"]
    assert len(flagged) == len(below) > 0
    assert result.exit_code in (1, 2)


def test_an_as_seen_nowhere_is_not_visible() -> None:
    result = run("64496", "--mrt", str(require_data(RRC06)))
    assert result.exit_code == 2
    assert "the data shows no prefix originated by this AS" in result.stdout


def test_max_prefixes_caps_and_says_so() -> None:
    report = json.loads(run("25620", "--json", "--max-prefixes", "2", "--mrt", str(require_data(UPDATES_2010))).stdout)
    assert len(report["prefixes"]) == 2
    assert report["over_cap"] > 0


@pytest.fixture
def ripestat(tmp_path: Path) -> Iterator[tuple[rs.RipestatServer, Path]]:
    prefixes = {"193.0.0.0/21": (330, [3333]), "193.0.10.0/23": (100, [3333]), "2001:67c:2e8::/48": (0, [])}
    with rs.running() as server:
        server.add("announced-prefixes", "AS3333", rs.announced_prefixes(3333, list(prefixes)))
        for prefix, (seeing, origins) in prefixes.items():
            server.add("routing-status", prefix, rs.routing_status(
                prefix, origins=origins, seeing=seeing, total=345, version=6 if ":" in prefix else 4))
        config = tmp_path / "routewatch.yaml"
        config.write_text(f"ripestat:\n  url: {server.url}\n  timeout: 0.5\n  retries: 0\n  concurrency: 2\n")
        yield server, config


def test_ripestat_bulk(ripestat: tuple[rs.RipestatServer, Path]) -> None:
    server, config = ripestat
    result = run("AS3333", "-c", str(config), "--json")
    report = json.loads(result.stdout)
    verdicts = {p["prefix"]: p["verdict"] for p in report["prefixes"]}
    assert verdicts == {"193.0.0.0/21": "visible", "193.0.10.0/23": "withdrawn", "2001:67c:2e8::/48": "not-visible"}
    assert result.exit_code == 2
    assert [r.call for r in server.requests].count("announced-prefixes") == 1
    assert server.max_in_flight <= 2


def test_ripestat_down_exits_3(ripestat: tuple[rs.RipestatServer, Path]) -> None:
    server, config = ripestat
    server.faults = [rs.SERVER_ERROR]
    result = run("3333", "-c", str(config))
    assert result.exit_code == 3
    assert result.stderr.strip() == (f"routewatch: could not check: could not reach RIPEstat at {server.url}: "
                                     "announced-prefixes: HTTP 500 (1 attempt)")
