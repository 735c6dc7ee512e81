"""``check prefix`` shows each route's RPKI state: offline from the config's VRPs, over RIPEstat from its validator."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from routewatch.cli import main
from tests.support import ripestat_server as rs
from tests.support.mrt_writer import Update, write_updates
from tests.support.rpki_servers import write_vrp_file


def _states(report: dict) -> dict[tuple[str, tuple[int, ...]], str]:
    views = ([report["exact"]] if report["exact"] else []) + report["more_specifics"]
    return {(v["prefix"], tuple(o["origins"])): o["rpki"] for v in views for o in v["origins"]}


def test_mrt_routes_are_validated_against_the_configs_vrps(tmp_path: Path) -> None:
    mrt = write_updates(tmp_path / "updates.mrt", [
        Update(1, "198.51.100.1", 64501, ["192.0.2.0/24"], [64501, 64500]),
        Update(1, "198.51.100.1", 64501, ["192.0.2.0/25"], [64501, 64500]),
        Update(1, "198.51.100.1", 64501, ["192.0.2.128/25"], [64501, 64511]),
    ])
    vrps = tmp_path / "vrps.json"
    write_vrp_file(vrps, [("192.0.2.0/24", 24, 64500)])
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"rpki:\n  sources:\n    - {{type: json, path: {vrps}}}\n")
    args = ["check", "prefix", "192.0.2.0/24", "--origin", "64500", "--json", "--mrt", str(mrt)]
    result = CliRunner().invoke(main, [*args, "-c", str(config)], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert _states(report) == {("192.0.2.0/24", (64500,)): "valid", ("192.0.2.0/25", (64500,)): "invalid-length",
                               ("192.0.2.128/25", (64511,)): "invalid-origin"}
    assert report["rpki_basis"] == "1 VRPs from json"
    without = json.loads(CliRunner().invoke(main, args, catch_exceptions=False).stdout)
    assert set(_states(without).values()) == {"unknown"}


def test_ripestat_states_come_from_its_rpki_validation_call(tmp_path: Path) -> None:
    prefix = "193.0.0.0/21"
    with rs.running() as server:
        server.add("looking-glass", prefix, rs.looking_glass(prefix, [
            rs.LgPeer("rrc00", "2.56.11.1", "34854 6939 3333", prefix),
            rs.LgPeer("rrc00", "2.56.11.2", "1103 64511", prefix),
        ]))
        server.add("routing-status", prefix, rs.routing_status(
            prefix, origins=[3333, 64511], seeing=330, total=345, more_specifics=[("193.0.0.0/24", 3333)]))
        server.add("rpki-validation", f"3333 {prefix}", rs.rpki_validation(3333, prefix, "valid"))
        server.add("rpki-validation", f"64511 {prefix}", rs.rpki_validation(64511, prefix, "invalid_asn"))
        server.add("rpki-validation", "3333 193.0.0.0/24", rs.rpki_validation(3333, "193.0.0.0/24", "invalid_length"))
        config = tmp_path / "routewatch.yaml"
        config.write_text(f"ripestat:\n  url: {server.url}\n  timeout: 0.5\n  retries: 0\n")
        result = CliRunner().invoke(main, ["check", "prefix", prefix, "--origin", "3333", "-c", str(config),
                                           "--json"], catch_exceptions=False)
        report = json.loads(result.stdout)
        assert _states(report) == {(prefix, (3333,)): "valid", (prefix, (64511,)): "invalid-origin",
                                   ("193.0.0.0/24", (3333,)): "invalid-length"}
        assert report["rpki_basis"] == "RIPEstat rpki-validation (routinator)"
        text = CliRunner().invoke(main, ["check", "prefix", prefix, "--origin", "3333", "-c", str(config)],
                                  catch_exceptions=False).stdout
        assert "invalid-origin" in text and "rpki: RIPEstat rpki-validation (routinator)" in text
