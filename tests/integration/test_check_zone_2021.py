"""The 2021-10-04 reconstruction through ``check zone --mrt``, the nameservers answering on loopback.

The real prefix layout is mapped onto loopback by replacing the first octet
with 127: a.ns and b.ns (129.134.30.12, 129.134.31.12) sit in 127.134.30.0/24
and 127.134.31.0/24 under 127.134.30.0/23 and the aggregate 127.134.0.0/17
that stayed announced; c.ns and d.ns (185.89.218.12, 185.89.219.12) in
127.89.218.0/24 and 127.89.219.0/24 under 127.89.218.0/23, with no aggregate.
Every nameserver answers (DNS on loopback cannot fail the way the world saw
it): only the routes can say that the zone was down.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.model import Event, RouteAnnouncement, RouteWithdrawal, parse_prefix
from tests.support import outage_2021 as outage
from tests.support import service_prefix as sp
from tests.support.zone_lab import ZoneLab, zone_lab

pytestmark = pytest.mark.integration


def on_loopback(text: str) -> str:
    """129.134.30.12 -> 127.134.30.12, 185.89.218.0/23 -> 127.89.218.0/23."""
    return "127." + text.split(".", 1)[1]


def nameservers() -> dict[str, str]:
    return {name: on_loopback(facts["A"]) for name, facts in outage.delegation()["ns"].items()}


def mapped(event: Event) -> Event:
    if isinstance(event, RouteAnnouncement | RouteWithdrawal):
        return replace(event, prefix=parse_prefix(on_loopback(str(event.prefix))))
    return event


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZoneLab]:
    running = zone_lab(tmp_path_factory.mktemp("lab"), nameservers=nameservers(),
                          nsd_served=("b.ns.facebook.com.", "d.ns.facebook.com."))
    yield running
    running.stop()


def archives(directory: Path, until: float) -> list[str]:
    scenario = outage.build()
    scenario.events = [mapped(e) for e in scenario.events if e.time <= until]
    return [str(p) for p in outage.write_mrt(directory, scenario)]


def check(lab: ZoneLab, files: list[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(main, ["check", "zone", "facebook.com", "--parent", sp.PARENT, "--port",
                                       str(lab.port), "--timeout", "0.5", "--json",
                                       *[f"--mrt={f}" for f in files]])
    return result.exit_code, json.loads(result.output)


def test_at_1600_every_nameserver_has_lost_its_prefix(lab: ZoneLab, tmp_path: Path) -> None:
    code, report = check(lab, archives(tmp_path, outage.utc("2021-10-04 16:00:00")))
    assert (code, report["verdict"], report["addresses_up"]) == (2, "down", 4)
    routes = {t["nameserver"]: t["routes"] for t in report["targets"]}
    for name, service in (("a.ns.facebook.com.", "127.134.30.0/24"), ("b.ns.facebook.com.", "127.134.31.0/24"),
                          ("c.ns.facebook.com.", "127.89.218.0/24"), ("d.ns.facebook.com.", "127.89.219.0/24")):
        found = routes[name]
        assert found["service_prefixes"] == [service] and found["at_risk"] is True
        assert found["peers_at_risk"] >= 0.8 * found["baseline_peers"] > 0
        assert sum(f["peers"] for f in found["fallbacks"]) == found["peers_at_risk"]
        fell_to = {f["prefix"]: f["kind"] for f in found["fallbacks"]}
        if name in ("a.ns.facebook.com.", "b.ns.facebook.com."):
            # the trap: the aggregate still covers the address for the peers that lost the /24 (and the /23)
            assert fell_to["127.134.0.0/17"] == "aggregate"
            assert set(fell_to) <= {"127.134.0.0/17", "127.134.30.0/23"}
            assert set(fell_to.values()) == {"aggregate"}
        else:
            assert fell_to[None] == "nothing" and set(fell_to) <= {None, "127.89.218.0/23"}
    assert ipaddress.ip_address(nameservers()["a.ns.facebook.com."]) in ipaddress.ip_network("127.134.30.0/24")


def test_after_the_return_the_zone_is_healthy(lab: ZoneLab, tmp_path: Path) -> None:
    code, report = check(lab, archives(tmp_path, outage.END))
    assert (code, report["verdict"]) == (0, "healthy")
    assert all(t["routes"]["peers_at_risk"] == 0 and t["routes"]["baseline_peers"] > 0 for t in report["targets"])
