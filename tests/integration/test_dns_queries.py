"""Configured queries (``zones[].queries``) asked of every address of a real delegation (Knot and NSD)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.config.schema import Config
from routewatch.dns.service import DnsMonitor
from routewatch.exporter.state import ExportState, ProcessStatus
from tests.support.dns_servers import Lab, facebook_lab
from tests.support.metrics import samples, scrape

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    running = facebook_lab(Path(tmp_path_factory.mktemp("queries")), ipv6=False)
    yield running
    running.stop()


def config(lab: Lab) -> dict[str, object]:
    www = "www.facebook.com."
    address = re.escape(lab.block + "80")
    return {
        "zones": [{
            "zone": "facebook.com",
            "parent_servers": [lab.address("com")],
            "queries": [
                {"name": www, "type": "A", "expect": [f"IN A {address}$"]},
                {"name": www, "type": "AAAA", "expect": ["IN AAAA"]},
                {"name": "nothere.facebook.com", "type": "A", "valid_rcodes": ["NXDOMAIN"]},
            ],
        }],
        "dns": {"port": lab.port, "timeout": 0.5, "retries": 0, "dnssec": {"enabled": False}},
    }


def test_each_query_judged_at_each_address(lab: Lab) -> None:
    snapshot = asyncio.run(DnsMonitor(Config.model_validate(config(lab)), stagger=False).run_once())
    targets = snapshot.targets_of("facebook.com.")
    assert len(targets) == 4
    for target in targets:
        assert target.queries is not None
        assert [(r.query, r.ok, r.rcode) for r in target.queries.results] == [
            ("www.facebook.com. A", True, "NOERROR"),
            ("www.facebook.com. AAAA", False, "NOERROR"),
            ("nothere.facebook.com. A", True, "NXDOMAIN"),
        ]
        assert target.queries.results[1].detail == "no answer record matches IN AAAA"
    zone = snapshot.zone("facebook.com.")
    assert zone.addresses_up == 4 and zone.verdict == "degraded"  # every server up, one query failing
    got = samples(scrape(ExportState(ProcessStatus("t"), dns=snapshot)))
    labels = (("address", lab.address("b")), ("nameserver", "b.ns.facebook.com."))
    assert got[("routewatch_dns_query_success", (*labels, ("query", "www.facebook.com. A"),
                                                 ("zone", "facebook.com.")))] == 1.0
    assert got[("routewatch_dns_query_success", (*labels, ("query", "www.facebook.com. AAAA"),
                                                 ("zone", "facebook.com.")))] == 0.0


def test_check_zone_reports_failing_queries(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "routewatch.yaml"
    path.write_text(yaml.safe_dump(config(lab)))
    result = CliRunner().invoke(main, ["check", "zone", "facebook.com", "-c", str(path)])
    assert result.exit_code == 1, result.output
    assert f"query www.facebook.com. AAAA at {lab.address('a')}: no answer record matches IN AAAA" in result.output
    report = json.loads(CliRunner().invoke(main, ["check", "zone", "facebook.com", "-c", str(path), "--json"]).output)
    assert [q["ok"] for q in report["targets"][0]["queries"]] == [True, False, True]


def test_bad_queries_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "routewatch.yaml"
    path.write_text(yaml.safe_dump({"zones": [{"zone": "example.com", "queries": [
        {"name": "www.example.com", "type": "NOPE"}, {"name": "www.example.com", "type": "A", "expect": ["("]}]}]}))
    result = CliRunner().invoke(main, ["check", "zone", "example.com", "-c", str(path)])
    assert result.exit_code == 3
    assert "zones[0].queries[0].type" in result.output and "expected a DNS record type" in result.output
    assert "zones[0].queries[1].expect[0]" in result.output and "not a valid regular expression" in result.output
