"""``routewatch check zone`` against real servers: table, JSON, pinned servers, routes, exit codes."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from routewatch.cli import main
from tests.support.dns_servers import Lab, facebook_lab

pytestmark = pytest.mark.integration


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    running = facebook_lab(tmp_path / "lab", ipv6=True)
    yield running
    running.stop()


def args(lab: Lab, *extra: str) -> list[str]:
    return ["check", "zone", "facebook.com", "--parent", lab.address("com"), "--port", str(lab.port),
            "--timeout", "0.3", *extra]


def test_healthy_zone_table(lab: Lab) -> None:
    result = CliRunner().invoke(main, args(lab))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAMESERVER", "ADDRESS", "STATUS", "RTT", "ms", "UDP/TCP", "SERIAL", "AA",
                                "NSID", "SERVICE", "PREFIX", "BASELINE", "AT", "RISK", "FELL", "BACK", "TO"]
    row = next(line.split() for line in lines if line.startswith("b.ns.facebook.com."))
    assert row[1:3] == [lab.address("b"), "up"] and row[4:] == ["2021100401", "yes", "b-site", "-", "-", "-", "-"]
    assert any(line.split()[:3] == ["a.ns.facebook.com.", "::1", "up"] for line in lines)
    assert "verdict: facebook.com. is healthy (exit 0)" in result.output


def test_pinned_servers_and_degraded_exit(lab: Lab) -> None:
    lab.servers["d"].stop()
    result = CliRunner().invoke(main, ["check", "zone", "facebook.com.", "--server", lab.address("a"),
                                       "--server", lab.address("d"), "--port", str(lab.port),
                                       "--timeout", "0.3", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert [(t["nameserver"], t["up"], t["reason"]) for t in report["targets"]] == [
        (lab.address("a"), True, None), (lab.address("d"), False, "timeout")]
    assert report["discovery"]["ok"] is True and report["ns_sets"]["state"] == "unknown"


def test_down_and_could_not_check(lab: Lab) -> None:
    for letter in "abcd":
        lab.servers[letter].stop()
    down = CliRunner().invoke(main, args(lab))
    assert down.exit_code == 2, down.output
    assert "verdict: facebook.com. is down: no nameserver address answers (exit 2)" in down.output
    lab.servers["com"].stop()
    unknown = CliRunner().invoke(main, args(lab))
    assert unknown.exit_code == 3, unknown.output
    assert "no parent server gave the delegation" in unknown.output


def test_bad_arguments_exit_3_not_2() -> None:
    result = CliRunner().invoke(main, ["check", "zone", "facebook.com", "--server", "not-an-address"])
    assert result.exit_code == 3
    assert "not-an-address" in result.output
    assert CliRunner().invoke(main, ["check", "zone"]).exit_code == 3
    missing = CliRunner().invoke(main, ["check", "zone", "facebook.com", "-c", "/nonexistent/routewatch.yaml"])
    assert missing.exit_code == 3 and "cannot read" in missing.output


def test_real_process(lab: Lab, tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"zones:\n  - zone: facebook.com\n    parent_servers: [{lab.address('com')}]\n"
                      f"dns:\n  port: {lab.port}\n  timeout: 0.3\n")
    lab.servers["c"].stop()
    done = subprocess.run([sys.executable, "-m", "routewatch", "check", "zone", "facebook.com", "-c",
                           str(config), "--json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    down = [t for t in report["targets"] if not t["up"]]
    assert [(t["nameserver"], t["reason"]) for t in down] == [("c.ns.facebook.com.", "timeout")]


def test_routes_from_archives_fill_the_route_columns(lab: Lab, tmp_path: Path) -> None:
    """``--mrt``: the longest match most peers held a while serves the addresses; nothing is at risk."""
    from tests.support.mrt_writer import StateChange, Update, write_updates

    block = ipaddress.ip_network(lab.block + "0/24")
    a = lab.address("a")
    a_slash_25 = str(ipaddress.ip_network(f"{a}/25", strict=False))
    updates: list[Update | StateChange] = []
    for n in range(1, 7):
        peer, asn = f"192.0.2.{n}", 64500 + n
        updates.append(Update(1633348800, peer, asn, ["127.0.0.0/8", str(block)], [asn, 3356, 32934]))
        if n <= 4:
            updates.append(Update(1633348800, peer, asn, [a_slash_25], [asn, 3356, 32934]))
    updates.append(Update(1633349400, "192.0.2.1", 64501, ["198.51.100.0/24"], [64501, 64999]))  # time moves on
    archive = write_updates(tmp_path / "rrc00.updates.mrt", updates)
    result = CliRunner().invoke(main, args(lab, "--json", "--mrt", str(archive)))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    by_address = {t["address"]: t["routes"] for t in report["targets"]}
    assert by_address[a] == {"service_prefixes": [a_slash_25], "baseline_peers": 4, "peers_on_service": 4,
                             "peers_at_risk": 0, "at_risk": False, "fallbacks": [], "longest_match": a_slash_25}
    assert by_address["::1"]["service_prefixes"] == [] and by_address["::1"]["longest_match"] is None
    assert report["diversity"]["single_origin"] is None  # ::1 has no route
    table = CliRunner().invoke(main, args(lab, "--mrt", str(archive)))
    row = next(line.split() for line in table.output.splitlines() if line.startswith("a.ns.facebook.com.")
               and a in line)
    assert row[7:] == [a_slash_25, "4", "0", "-"]
    assert "routes: no service prefix found for ::1 in the data (no baseline to judge)" in table.output
