"""A zone whose delegation is removed at its parent (a real Knot parent reloaded without it) is down.

The zone's own server (NSD) goes on answering: that is the trap, since
resolvers ask the parent first and the parent now says NXDOMAIN. The daemon's
monitor, its metrics and ``check zone`` must all call the zone down and say why.
One parent server out of step (a stale copy without the delegation) must not:
the others still send resolvers to the zone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.config.schema import Config, DnsSettings, ZoneWatch
from routewatch.dns.health import NOT_DELEGATED
from routewatch.dns.service import DnsMonitor
from routewatch.exporter.state import ExportState, ProcessStatus
from tests.support.dns_servers import Knot, Nsd, free_port, lab_block
from tests.support.metrics import samples, scrape

pytestmark = pytest.mark.integration

ZONE = "removed.test."
LABEL = (("zone", ZONE),)


@dataclass
class Parent:
    knot: Knot
    nsd: Nsd
    parent: str
    child: str
    port: int

    def text(self, serial: int, *, delegated: bool) -> str:
        lines = ["$ORIGIN test.", "$TTL 300", f"@ IN SOA ns hostmaster {serial} 7200 3600 1209600 300",
                 "@ IN NS ns", f"ns IN A {self.parent}"]
        if delegated:
            lines += [f"{ZONE} IN NS ns1.{ZONE}", f"ns1.{ZONE} IN A {self.child}"]
        return "\n".join(lines) + "\n"


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Parent]:
    block = lab_block()
    parent, child = block + "1", block + "11"
    port = free_port([parent, child])
    child_text = (f"$ORIGIN {ZONE}\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                  f"@ IN NS ns1\nns1 IN A {child}\n")
    nsd = Nsd("child", tmp_path / "child", [child], port, zones={ZONE: child_text})
    knot = Knot("parent", tmp_path / "parent", [parent], port, zones={"test.": ""})
    running = Parent(knot, nsd, parent, child, port)
    knot.zones = {"test.": running.text(1, delegated=True)}
    try:
        nsd.start()
        knot.start()
        yield running
    finally:
        knot.stop()
        nsd.stop()


@pytest.fixture
def two_parents(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A root (NSD) delegating test. to two Knot servers, the first listed holding a copy without the
    zone's delegation; the zone (NSD) below. Yields the root's address and the port."""
    block = lab_block()
    root, stale, current, child = (block + n for n in ("1", "2", "3", "11"))
    port = free_port([root, stale, current, child])
    root_text = (f"$ORIGIN .\n$TTL 300\n@ IN SOA a.root. hostmaster 1 7200 3600 1209600 300\n@ IN NS a.root.\n"
                 f"a.root. IN A {root}\ntest. IN NS a.ns.test.\ntest. IN NS b.ns.test.\n"
                 f"a.ns.test. IN A {stale}\nb.ns.test. IN A {current}\n")

    def parent(delegated: bool) -> str:
        text = (f"$ORIGIN test.\n$TTL 300\n@ IN SOA a.ns hostmaster 1 7200 3600 1209600 300\n@ IN NS a.ns\n"
                f"@ IN NS b.ns\na.ns IN A {stale}\nb.ns IN A {current}\n")
        return text + (f"{ZONE} IN NS ns1.{ZONE}\nns1.{ZONE} IN A {child}\n" if delegated else "")

    servers = [Nsd("root", tmp_path / "root", [root], port, zones={".": root_text}),
               Knot("stale", tmp_path / "stale", [stale], port, zones={"test.": parent(False)}),
               Knot("current", tmp_path / "current", [current], port, zones={"test.": parent(True)}),
               Nsd("child", tmp_path / "child", [child], port, zones={ZONE: (
                   f"$ORIGIN {ZONE}\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                   f"@ IN NS ns1\nns1 IN A {child}\n")})]
    try:
        for server in servers:
            server.start()
        yield root, port
    finally:
        for server in servers:
            server.stop()


async def test_one_parent_server_without_the_delegation_does_not_take_the_zone_down(
        two_parents: tuple[str, int]) -> None:
    root, port = two_parents
    config = Config(zones=[ZoneWatch(zone=ZONE)],
                    dns=DnsSettings(port=port, timeout=1.0, retries=0, root_servers=[root]))
    found = (await DnsMonitor(config, clock=Clock(), stagger=False).run_once()).zone(ZONE)
    assert found.discovery.parent_answer is None and found.discovery.ok, found.discovery.problems
    assert (found.verdict, found.reason) == ("healthy", "")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_daemon_calls_the_zone_down_once_the_parent_removes_it(lab: Parent) -> None:
    clock = Clock()
    config = Config(zones=[ZoneWatch(zone=ZONE, parent_servers=[lab.parent])],
                    dns=DnsSettings(port=lab.port, timeout=1.0, retries=0))
    monitor = DnsMonitor(config, clock=clock, stagger=False)
    before = (await monitor.run_once()).zone(ZONE)
    assert (before.verdict, before.reason, before.discovery.parent_answer) == ("healthy", "", None)
    assert samples(scrape(ExportState(ProcessStatus("t"), dns=monitor.snapshot())))[
        ("routewatch_dns_zone_delegated", LABEL)] == 1.0

    lab.knot.reload({"test.": lab.text(2, delegated=False)})
    clock.now += config.dns.rediscover_interval + 1
    after = (await monitor.run_once()).zone(ZONE)
    assert after.discovery.parent_answer == "NXDOMAIN"
    assert (after.verdict, after.reason) == ("down", NOT_DELEGATED)
    assert after.addresses_up == after.addresses_total == 1  # the zone's own server still answers
    got = samples(scrape(ExportState(ProcessStatus("t"), dns=monitor.snapshot())))
    assert got[("routewatch_dns_zone_delegated", LABEL)] == 0.0
    assert got[("routewatch_dns_zone_state", (("state", "down"), *LABEL))] == 1.0
    assert got[("routewatch_dns_discovery_success", LABEL)] == 0.0


def test_check_zone_says_down_and_why(lab: Parent) -> None:
    def check(*extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["check", "zone", ZONE, "--parent", lab.parent, "--port", str(lab.port),
                                           "--timeout", "1", *extra])
        return result.exit_code, result.output

    assert check()[0] == 0
    lab.knot.reload({"test.": lab.text(2, delegated=False)})
    code, output = check("--json")
    report = json.loads(output)
    assert (code, report["exit_code"], report["verdict"], report["reason"]) == (2, 2, "down", NOT_DELEGATED)
    assert report["discovery"]["parent_answer"] == "NXDOMAIN" and report["targets"] == []
    code, output = check()
    assert code == 2
    assert f"verdict: {ZONE} is down: {NOT_DELEGATED} (exit 2)" in output
    assert "discovery: the parent answered NXDOMAIN for the zone, not a delegation" in output
