"""``check zone --ripestat``: the routes under each nameserver address from what RIS saw, nameservers served for real.

Three nameservers of facebook.com (two Knot, one NSD) answer on loopback; a
local RIPEstat server answers bgplay for each address with the service-prefix
story (127.0.0.16/29 withdrawn by 34 of 40 peers while 127.0.0.0/8 stays).
Where the routes stand now, every peer's longest match is the /8: only the
window's past shows that the /29 served the addresses and is gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.dns.check import ROUTES_GONE
from tests.support import ripestat_server as rs
from tests.support import service_prefix as sp
from tests.support.zone_lab import ZoneLab, zone_lab

pytestmark = pytest.mark.integration

START = sp.ANNOUNCED + 1


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneLab]:
    running = zone_lab(tmp_path_factory.mktemp("lab"))
    yield running
    running.stop()


@pytest.fixture
def ripestat() -> Iterator[rs.RipestatServer]:
    with rs.running() as server:
        yield server


def check_zone(lab: ZoneLab, server: rs.RipestatServer, tmp_path: Path, *extra: str) -> tuple[int, str]:
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"ripestat:\n  url: {server.url}\n  timeout: 2\n  retries: 0\n")
    result = CliRunner().invoke(main, ["check", "zone", "facebook.com", "--parent", sp.PARENT, "--port",
                                       str(lab.port), "--timeout", "0.5", "-c", str(config), "--ripestat", *extra])
    return result.exit_code, result.output


def serve(server: rs.RipestatServer, end: int) -> None:
    for address in sp.NAMESERVERS.values():
        server.add("bgplay", address, sp.bgplay_answer(address, START, end))


def test_every_address_at_risk_though_the_aggregate_covers_it(lab: ZoneLab, ripestat: rs.RipestatServer,
                                                              tmp_path: Path) -> None:
    serve(ripestat, sp.END)
    code, output = check_zone(lab, ripestat, tmp_path, "--json")
    report = json.loads(output)
    assert code == 2 and report["verdict"] == "down", output
    assert report["addresses_up"] == 3  # DNS itself answers: only the routes tell
    for target in report["targets"]:
        routes = target["routes"]
        assert routes["service_prefixes"] == [sp.SERVICE]
        assert (routes["baseline_peers"], routes["peers_at_risk"], routes["peers_on_service"]) == (40, 34, 6)
        assert routes["fallbacks"] == [{"kind": "aggregate", "prefix": sp.AGGREGATE, "peers": 34,
                                        "origins": [sp.ORIGIN]}]
    asked = [r for r in ripestat.requests if r.call == "bgplay"]
    assert sorted(r.params["resource"] for r in asked) == sorted(sp.NAMESERVERS.values())
    window = {int(r.params["endtime"]) - int(r.params["starttime"]) for r in asked}
    assert window == {86_400} and {r.params["unix_timestamps"] for r in asked} == {"TRUE"}
    code, text = check_zone(lab, ripestat, tmp_path)
    assert code == 2
    assert f"risk: 127.0.0.17 has lost {sp.SERVICE} at 34 of 40 baseline peers" in text
    assert f"verdict: facebook.com. is down: {ROUTES_GONE} (exit 2)" in text


def test_before_the_withdrawal_the_zone_is_healthy(lab: ZoneLab, ripestat: rs.RipestatServer,
                                                   tmp_path: Path) -> None:
    serve(ripestat, sp.WITHDRAWALS - 1)
    code, output = check_zone(lab, ripestat, tmp_path, "--json")
    report = json.loads(output)
    assert code == 0 and report["verdict"] == "healthy", output
    for target in report["targets"]:
        assert (target["routes"]["baseline_peers"], target["routes"]["peers_at_risk"]) == (40, 0)


def test_ripestat_failing_could_not_check(lab: ZoneLab, ripestat: rs.RipestatServer, tmp_path: Path) -> None:
    serve(ripestat, sp.END)
    ripestat.faults.append(rs.SERVER_ERROR)
    code, output = check_zone(lab, ripestat, tmp_path)
    assert code == 3 and "could not reach RIPEstat" in output and "verdict" not in output


def test_mrt_and_ripestat_together_is_a_usage_error(lab: ZoneLab, ripestat: rs.RipestatServer,
                                                    tmp_path: Path) -> None:
    code, output = check_zone(lab, ripestat, tmp_path, f"--mrt={tmp_path / 'any.mrt'}")
    assert code == 3 and "give one" in output
