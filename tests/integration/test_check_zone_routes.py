"""``check zone --mrt`` and ``check prefix --mrt`` on the service-prefix scenario, nameservers served for real.

Three nameservers of facebook.com (two Knot, one NSD) answer on loopback; the
archives say their service prefix 127.0.0.16/29 was withdrawn by 34 of 40
peers while 127.0.0.0/8 stayed. The DNS answers, so only the routes can tell.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.dns.check import ROUTES_GONE
from tests.support import service_prefix as sp
from tests.support.zone_lab import ZoneLab, zone_lab

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneLab]:
    running = zone_lab(tmp_path_factory.mktemp("lab"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return [str(p) for p in sp.write_mrt(tmp_path_factory.mktemp("mrt"))]


def check_zone(lab: ZoneLab, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "zone", "facebook.com", "--parent", sp.PARENT, "--port",
                                       str(lab.port), "--timeout", "0.5", *extra])
    return result.exit_code, result.output


def test_every_address_at_risk_though_the_aggregate_covers_it(lab: ZoneLab, archives: list[str]) -> None:
    code, output = check_zone(lab, "--json", *[f"--mrt={path}" for path in archives])
    report = json.loads(output)
    assert code == 2 and report["verdict"] == "down", output
    assert report["addresses_up"] == 3  # DNS itself answers: only the routes tell
    for target in report["targets"]:
        routes = target["routes"]
        assert routes["service_prefixes"] == [sp.SERVICE]
        assert (routes["baseline_peers"], routes["peers_at_risk"], routes["peers_on_service"]) == (40, 34, 6)
        assert routes["at_risk"] is True
        assert routes["fallbacks"] == [{"kind": "aggregate", "prefix": sp.AGGREGATE, "peers": 34,
                                        "origins": [sp.ORIGIN]}]
    code, text = check_zone(lab, *[f"--mrt={path}" for path in archives])
    assert code == 2
    header = text.splitlines()[0]
    assert "SERVICE PREFIX" in header and "BASELINE" in header and "AT RISK" in header and "FELL BACK TO" in header
    row = next(line for line in text.splitlines() if line.startswith("a.ns.facebook.com."))
    assert row.split()[7:] == [sp.SERVICE, "40", "34", "AT", "RISK", sp.AGGREGATE, "aggregate", "(34)"]
    assert f"risk: 127.0.0.17 has lost {sp.SERVICE} at 34 of 40 baseline peers" in text
    assert f"verdict: facebook.com. is down: {ROUTES_GONE} (exit 2)" in text


def test_before_the_withdrawal_the_zone_is_healthy(lab: ZoneLab, tmp_path: Path) -> None:
    stories = sp.updates()
    files = []
    for collector, story in stories.items():
        before = [u for u in story if u.time < sp.WITHDRAWALS] + [
            u for u in story if u.time == sp.END]  # the data goes on, the /29 does not move
        files.append(str(sp.write_updates(tmp_path / f"{collector}.updates.mrt", before)))
    code, output = check_zone(lab, "--json", *[f"--mrt={path}" for path in files])
    report = json.loads(output)
    assert code == 0 and report["verdict"] == "healthy", output
    for target in report["targets"]:
        assert (target["routes"]["baseline_peers"], target["routes"]["peers_at_risk"]) == (40, 0)


def test_one_address_at_risk_is_degraded(lab: ZoneLab, tmp_path: Path) -> None:
    """A more specific /32 for a.ns only, withdrawn by most peers: a.ns at risk, b and c not."""
    from tests.support.mrt_writer import Update

    a = sp.NAMESERVERS["a.ns.facebook.com."] + "/32"
    story: list[Update] = []
    for peer in sp.peers()[:20]:
        story.append(Update(sp.ANNOUNCED, peer.address, peer.asn, [sp.AGGREGATE, sp.SERVICE, a], peer.path()))
    for peer in sp.peers()[:15]:
        story.append(Update(sp.WITHDRAWALS, peer.address, peer.asn, withdrawn=[a]))
    path = sp.write_updates(tmp_path / "rrc00.updates.mrt", story)
    code, output = check_zone(lab, "--json", f"--mrt={path}")
    report = json.loads(output)
    assert code == 1 and report["verdict"] == "degraded", output
    by_address = {t["address"]: t["routes"] for t in report["targets"]}
    assert by_address["127.0.0.17"]["service_prefixes"] == [a]
    assert by_address["127.0.0.17"]["fallbacks"] == [{"kind": "aggregate", "prefix": sp.SERVICE, "peers": 15,
                                                      "origins": [sp.ORIGIN]}]
    assert by_address["127.0.0.18"]["at_risk"] is False and by_address["127.0.0.18"]["baseline_peers"] == 20


def test_unreadable_archives_could_not_check(lab: ZoneLab, archives: list[str], tmp_path: Path) -> None:
    code, output = check_zone(lab, f"--mrt={tmp_path / 'missing.mrt'}")
    assert code == 3 and "no such file" in output and "healthy" not in output
    damaged = tmp_path / "rrc00.updates.damaged"
    damaged.write_bytes(Path(archives[0]).read_bytes()[:-7])
    code, output = check_zone(lab, f"--mrt={archives[1]}", f"--mrt={damaged}")
    assert code == 3 and str(damaged) in output and "verdict" not in output


def test_check_prefix_says_withdrawn_as_of_the_end_of_the_data(archives: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "prefix", sp.SERVICE, "--origin", str(sp.ORIGIN), *archives])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{sp.SERVICE}: WITHDRAWN"
    assert "data time 2021-10-04 15:59:00 UTC" in lines[1]
    as_json = json.loads(CliRunner().invoke(main, ["check", "prefix", sp.SERVICE, "--origin", str(sp.ORIGIN),
                                                   "--json", *archives]).output)
    assert (as_json["verdict"], as_json["visible_peers"], as_json["exit_code"]) == ("withdrawn", 6, 2)
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"prefixes:\n  - prefix: {sp.SERVICE}\n    asn: {sp.ORIGIN}\n"
                      "    thresholds: {withdrawn_ratio: 0.1, recovered_ratio: 0.5}\n")
    partial = CliRunner().invoke(main, ["check", "prefix", sp.SERVICE, "-c", str(config), *archives])
    assert partial.exit_code == 1 and partial.output.startswith(f"{sp.SERVICE}: DEGRADED"), partial.output
