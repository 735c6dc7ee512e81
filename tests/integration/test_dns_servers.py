"""The facebook.com delegation served for real by Knot and NSD on loopback, with Unbound in front.

Each case builds its own lab (a few hundred milliseconds per server), breaks
it the way the case says, and runs one round of discovery and probes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routewatch.config.schema import Config, DnsSettings, ZoneWatch
from routewatch.dns.service import DnsMonitor
from routewatch.dns.snapshot import DnsSnapshot, TargetSnapshot
from routewatch.dns.targets import ProbeFailure, Transport
from tests.support.dns_servers import Lab, facebook_lab

pytestmark = pytest.mark.integration

ZONE = "facebook.com."
LabFactory = Callable[..., Lab]


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[LabFactory]:
    labs: list[Lab] = []

    def make(**options: object) -> Lab:
        lab = facebook_lab(tmp_path / f"lab{len(labs)}", **options)  # type: ignore[arg-type]
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1_633_362_000.0  # 2021-10-04 15:40 UTC

    def __call__(self) -> float:
        return self.now


def monitor_for(lab: Lab, clock: Clock | None = None, **dns: object) -> DnsMonitor:
    parents = [] if dns.get("root_servers") else [lab.address("com")]
    settings = DnsSettings(**{"port": lab.port, "timeout": 0.3, **dns})  # type: ignore[arg-type]
    config = Config(zones=[ZoneWatch(zone="facebook.com", parent_servers=parents)], dns=settings)
    return DnsMonitor(config, clock=clock or Clock(), stagger=False)


def by_address(snapshot: DnsSnapshot) -> dict[str, TargetSnapshot]:
    return {t.address: t for t in snapshot.targets_of(ZONE)}


async def test_all_up_through_knot_nsd_and_unbound(make_lab: LabFactory) -> None:
    lab = make_lab(resolver=True)
    snapshot = await monitor_for(lab, resolvers=[lab.address("resolver")]).run_once()
    zone = snapshot.zone(ZONE)
    assert zone.verdict == "healthy"
    assert (zone.nameservers_up, zone.nameservers_total, zone.addresses_up, zone.addresses_total) == (4, 4, 5, 5)
    assert zone.serials == "agree" and zone.serial_newest == 2021100401
    assert zone.ns_sets == "agree" and zone.parent_ns == tuple(lab.nameserver(x) for x in "abcd")
    assert zone.discovery.ok and zone.discovery.ttl == 172800
    assert [(r.resolver, r.ok) for r in zone.resolvers] == [(lab.address("resolver"), True)]
    targets = by_address(snapshot)
    assert set(targets) == {lab.address(x) for x in "abcd"} | {"::1"}
    for letter in "abcd":
        target = targets[lab.address(letter)]
        assert target.nameserver == lab.nameserver(letter)
        assert target.up and target.authoritative and target.serial == 2021100401
        assert target.nsid == f"{letter}-site"
        assert target.rtt(Transport.UDP) is not None and target.rtt(Transport.TCP) is not None
    ipv6 = targets["::1"]
    assert ipv6.up and ipv6.nameserver == lab.nameserver("a") and ipv6.nsid == "a-site"


async def test_discovery_walks_down_from_the_root(make_lab: LabFactory) -> None:
    lab = make_lab(root=True)
    snapshot = await monitor_for(lab, root_servers=[lab.address("root")]).run_once()
    zone = snapshot.zone(ZONE)
    assert zone.discovery.ok, zone.discovery.problems
    assert zone.verdict == "healthy" and zone.addresses_total == 5


async def test_stopped_and_frozen_servers_time_out(make_lab: LabFactory) -> None:
    lab = make_lab()
    lab.servers["b"].stop()
    lab.servers["c"].freeze()
    snapshot = await monitor_for(lab).run_once()
    targets = by_address(snapshot)
    stopped, frozen = targets[lab.address("b")], targets[lab.address("c")]
    assert stopped.up is False and stopped.reason is ProbeFailure.TIMEOUT
    assert stopped.udp is not None and stopped.udp.failure is ProbeFailure.TIMEOUT
    assert stopped.tcp is not None and stopped.tcp.failure is ProbeFailure.UNREACHABLE  # RST from a closed port
    assert frozen.up is False
    assert frozen.udp is not None and frozen.udp.failure is ProbeFailure.TIMEOUT
    assert frozen.tcp is not None and frozen.tcp.failure is ProbeFailure.TIMEOUT
    assert frozen.failures[ProbeFailure.TIMEOUT] == 2
    zone = snapshot.zone(ZONE)
    assert zone.verdict == "degraded"
    assert (zone.nameservers_up, zone.nameservers_total) == (2, 4)
    assert zone.discovery.ok  # the other servers answered discovery


async def test_refused_and_lame_servers(make_lab: LabFactory) -> None:
    lab = make_lab(refused=("d",), lame=("c",))
    snapshot = await monitor_for(lab).run_once()
    targets = by_address(snapshot)
    refused, lame = targets[lab.address("d")], targets[lab.address("c")]
    assert refused.reason is ProbeFailure.REFUSED
    assert lame.reason is ProbeFailure.NOT_AUTHORITATIVE and lame.authoritative is False
    assert lame.udp is not None and "no aa" in lame.udp.detail
    assert targets[lab.address("a")].up and targets[lab.address("b")].up
    assert snapshot.zone(ZONE).verdict == "degraded"


async def test_serials_disagree_after_the_grace_period(make_lab: LabFactory) -> None:
    lab = make_lab(serials={"b": 2021100402})
    clock = Clock()
    monitor = monitor_for(lab, clock, serial_grace=600)
    zone = (await monitor.run_once()).zone(ZONE)
    assert zone.serials == "converging" and zone.verdict == "healthy"
    assert zone.serial_newest == 2021100402
    assert set(zone.lagging) == {lab.address("a"), lab.address("c"), lab.address("d"), "::1"}
    clock.now += 601
    zone = monitor.snapshot().zone(ZONE)
    assert zone.serials == "disagree" and zone.verdict == "degraded"


async def test_parent_and_child_ns_sets_disagree(make_lab: LabFactory) -> None:
    lab = make_lab(child_ns_drop=("d",))
    zone = (await monitor_for(lab).run_once()).zone(ZONE)
    assert zone.ns_sets == "disagree"
    assert lab.nameserver("d") in zone.parent_ns and lab.nameserver("d") not in zone.child_ns
    assert zone.addresses_up == zone.addresses_total == 5  # d is still delegated to, so still probed
    assert zone.verdict == "degraded"


async def test_all_down_unbound_answers_servfail(make_lab: LabFactory) -> None:
    """2021-10-04: the parent still delegates, every nameserver is silent, resolvers SERVFAIL."""
    lab = make_lab(resolver=True)
    for letter in "abcd":
        lab.servers[letter].stop()
    clock = Clock()
    monitor = monitor_for(lab, clock, resolvers=[lab.address("resolver")])
    snapshot = await monitor.run_once()
    zone = snapshot.zone(ZONE)
    assert zone.verdict == "down"
    assert (zone.addresses_up, zone.addresses_total, zone.nameservers_up) == (0, 5, 0)
    assert zone.discovery.ok is False and zone.parent_ns  # the delegation (and its glue) still came
    assert all(t.reason is ProbeFailure.TIMEOUT for t in snapshot.targets_of(ZONE))
    # Unbound gives up on the silent servers after about a second; the first
    # client query may go unanswered, the following ones get SERVFAIL.
    for _ in range(10):
        (resolver,) = monitor.snapshot().zone(ZONE).resolvers
        if resolver.failure is ProbeFailure.SERVFAIL:
            break
        assert resolver.failure is ProbeFailure.TIMEOUT
        clock.now += 61
        monitor.step()
        await monitor.drain()
    assert resolver.failure is ProbeFailure.SERVFAIL
    assert monitor.snapshot().zone(ZONE).verdict == "down"
