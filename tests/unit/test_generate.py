"""``routewatch generate``: from an MRT RIB (against bgpdump), from a local RIPEstat, appending, zones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from routewatch.cli import main
from routewatch.config.schema import load_config
from routewatch.model import parse_prefix
from routewatch.tools.generate import is_excluded, merge, zones_served
from tests.support import ripestat_server as rs
from tests.support.tools import MRT_DIR, require_data

BVIEW_2002 = MRT_DIR / "bview.20020722.2337.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["generate", *args], catch_exceptions=False)


def listed(path: Path) -> dict[str, object]:
    return {str(p.prefix): sorted(p.asn) for p in load_config(path).prefixes}


def test_merge_compares_canonical_prefixes() -> None:
    merged = merge({"prefixes": [{"prefix": "2001:db8:0::/32", "asn": 64500}]},
                   {parse_prefix("2001:db8::/32"): frozenset({64500}), parse_prefix("192.0.2.0/24"): frozenset({1, 2})})
    assert [p["prefix"] for p in merged.document["prefixes"]] == ["2001:db8:0::/32", "192.0.2.0/24"]
    assert merged.document["prefixes"][1]["asn"] == [1, 2]
    assert is_excluded(parse_prefix("10.1.0.0/16"), [parse_prefix("10.0.0.0/8")])
    assert not is_excluded(parse_prefix("10.0.0.0/8"), [parse_prefix("10.1.0.0/16")])


@pytest.fixture
def ripestat(tmp_path: Path) -> Iterator[tuple[rs.RipestatServer, Path]]:
    with rs.running() as server:
        server.add("announced-prefixes", "AS3333", rs.announced_prefixes(3333, ["193.0.0.0/21", "2001:67c:2e8::/48"]))
        server.add("announced-prefixes", "AS64500", rs.announced_prefixes(64500, ["193.0.0.0/21"]))
        config = tmp_path / "settings.yaml"
        config.write_text(f"ripestat:\n  url: {server.url}\n  timeout: 0.5\n  retries: 0\n")
        yield server, config


def test_from_ripestat(ripestat: tuple[rs.RipestatServer, Path], tmp_path: Path) -> None:
    server, config = ripestat
    out = tmp_path / "generated.yaml"
    result = run("--asn", "3333", "--asn", "64500", "-c", str(config), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert listed(out) == {"193.0.0.0/21": [3333, 64500], "2001:67c:2e8::/48": [3333]}
    assert {r.params["sourceapp"] for r in server.requests} == {"routewatch"}


def test_ripestat_unreachable_exits_3(ripestat: tuple[rs.RipestatServer, Path]) -> None:
    server, config = ripestat
    server.faults = [rs.MALFORMED]
    result = run("--asn", "3333", "-c", str(config))
    assert result.exit_code == 3
    assert result.stderr.startswith("routewatch: could not generate: ") and "malformed JSON" in result.stderr
    assert result.stdout == ""


def test_nothing_found_exits_3() -> None:
    result = run("--asn", "64496", "--mrt", str(require_data(RRC06)))
    assert result.exit_code == 3
    assert "no prefixes found for AS64496" in result.stderr


def test_zones_served_by_the_prefixes() -> None:
    import ipaddress

    zones = {"a.test.": [ipaddress.ip_address("192.0.2.53")], "b.test.": [ipaddress.ip_address("2001:db8::53")]}
    assert zones_served(zones, [parse_prefix("192.0.2.0/24")]) == ["a.test."]


def test_output_is_yaml_the_config_loader_reads(tmp_path: Path) -> None:
    result = run("--asn", "24950", "--mrt", str(require_data(RRC06)), "--ignore-more-specifics",
                 "--group", "noc")
    document = yaml.safe_load(result.stdout)
    assert all(p["ignore_more_specifics"] and p["group"] == "noc" for p in document["prefixes"])
    path = tmp_path / "out.yaml"
    path.write_text(result.stdout)
    assert load_config(path).prefixes[0].group == "noc"


def test_generate_and_check_asn_agree_and_withdrawn_prefixes_are_named(tmp_path: Path) -> None:
    from tests.support.mrt_writer import Update, write_updates

    peers = [(f"192.0.2.{n}", 64500 + n) for n in range(1, 4)]
    updates = [Update(1_000, ip, asn, ["198.51.100.0/24", "203.0.113.0/24"], [asn, 3356, 64511]) for ip, asn in peers]
    updates += [Update(2_000, ip, asn, withdrawn=["203.0.113.0/24"]) for ip, asn in peers]
    archive = tmp_path / "rrc00.updates.mrt"
    write_updates(archive, updates)
    checked = CliRunner().invoke(main, ["check", "asn", "64511", "--mrt", str(archive), "--json"])
    assert {p["prefix"] for p in json.loads(checked.output)["prefixes"]} == {
        "198.51.100.0/24", "203.0.113.0/24"}

    result = run("--asn", "64511", "--mrt", str(archive), "-o", str(tmp_path / "routed.yaml"))
    assert result.exit_code == 0, result.output
    assert listed(tmp_path / "routed.yaml") == {"198.51.100.0/24": [64511]}
    assert "1 seen but withdrawn by the end of the data left out (--include-withdrawn)" in result.output

    result = run("--asn", "64511", "--mrt", str(archive), "--include-withdrawn", "-o", str(tmp_path / "all.yaml"))
    assert result.exit_code == 0, result.output
    assert set(listed(tmp_path / "all.yaml")) == {"198.51.100.0/24", "203.0.113.0/24"}

    gone = [Update(3_000, ip, asn, withdrawn=["198.51.100.0/24"]) for ip, asn in peers]
    write_updates(tmp_path / "rrc00.later.mrt", gone)
    result = run("--asn", "64511", "--mrt", str(archive), "--mrt", str(tmp_path / "rrc00.later.mrt"))
    assert result.exit_code == 3
    assert "AS64511: 2 prefixes seen originated in these files, all withdrawn by the end of the data" in result.output


RRC15 = (MRT_DIR / "updates.20100227.1600.gz", MRT_DIR / "updates.20100227.1610.gz")


def checked_prefixes(asn: str, files: tuple[Path, ...]) -> dict[str, str]:
    """What ``check asn`` says of each prefix of ``asn`` over ``files``: {prefix: verdict}."""
    checked = CliRunner().invoke(main, ["check", "asn", asn, *map(str, files), "--json"])
    return {p["prefix"]: p["verdict"] for p in json.loads(checked.output)["prefixes"]}


def test_several_files_after_one_mrt_agree_with_check_asn(tmp_path: Path) -> None:
    files = tuple(require_data(path) for path in RRC15)
    result = run("--asn", "22047", "--mrt", *map(str, files), "-o", str(tmp_path / "as22047.yaml"))
    assert result.exit_code == 0, result.output
    visible = {p for p, verdict in checked_prefixes("22047", files).items() if verdict == "visible"}
    assert len(visible) == 98
    assert set(listed(tmp_path / "as22047.yaml")) == visible
    assert result.output.startswith("98 prefixes added, 0 already listed")


def test_prefixes_withdrawn_by_the_end_of_real_archives_are_named_and_listed_on_request(tmp_path: Path) -> None:
    """AS1461's eleven prefixes in RIS rrc15's 2010-02-27 16:00-16:15 updates are all withdrawn by 16:15."""
    files = tuple(require_data(path) for path in RRC15)
    checked = checked_prefixes("1461", files)
    assert len(checked) == 11 and set(checked.values()) == {"not-visible"}
    result = run("--asn", "1461", "--mrt", *map(str, files))
    assert result.exit_code == 3
    assert result.output == ("routewatch: could not generate: AS1461: 11 prefixes seen originated in these files, "
                             "all withdrawn by the end of the data (--include-withdrawn lists them)\n")
    result = run("--asn", "1461", "--mrt", *map(str, files), "--include-withdrawn", "-o", str(tmp_path / "all.yaml"))
    assert result.exit_code == 0, result.output
    assert listed(tmp_path / "all.yaml") == {prefix: [1461] for prefix in checked}
