"""Probes against an in-process server sending what real servers will not: truncation,
garbage, wrong IDs, oversized answers, silence; and the monitor's schedule and
discovery retention driven by a fake clock."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable

import dns.flags
import dns.message
import dns.rrset
import pytest

from routewatch.config.schema import Config, DnssecSettings, DnsSettings, Limits, ZoneWatch
from routewatch.dns.probe import ProbeSettings, probe_soa
from routewatch.dns.service import DnsMonitor
from routewatch.dns.targets import ProbeFailure, Target, Transport
from tests.support import fake_dns
from tests.support.dns_servers import free_port, lab_block
from tests.support.fake_dns import FakeDnsServer

ZONE = "example.org."
FAST = ProbeSettings(port=0, timeout=0.3, retries=1)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    servers: list[FakeDnsServer] = []

    async def start(handler: fake_dns.Handler, address: str = "127.0.0.1", port: int = 0) -> FakeDnsServer:
        server = await FakeDnsServer(address, handler, port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


def settings_for(server: FakeDnsServer) -> ProbeSettings:
    return ProbeSettings(port=server.port, timeout=FAST.timeout, retries=FAST.retries)


async def test_healthy_answer_with_nsid(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.authoritative(42, nsid=b"site-7"))
    for transport in Transport:
        result = await probe_soa(server.address, ZONE, transport, settings_for(server))
        assert result.up, result.detail
        assert (result.serial, result.nsid, result.authoritative) == (42, "site-7", True)
        assert result.rtt is not None and result.rtt > 0
    assert server.queries == {"udp": 1, "tcp": 1}


async def test_truncated_udp_answer_is_retried_over_tcp(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.truncating(77))
    result = await probe_soa(server.address, ZONE, Transport.UDP, settings_for(server))
    assert result.up and result.serial == 77
    assert result.transport is Transport.UDP
    assert "truncated" in result.detail
    assert server.queries == {"udp": 1, "tcp": 1}


@pytest.mark.parametrize("payload", [b"\x00", b"\xde\xad" + b"\xff" * 30, b"\x00" * 12 + b"\x07garbage"])
async def test_malformed_bytes(serve, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.garbage(payload))
    for transport in Transport:
        result = await probe_soa(server.address, ZONE, transport, settings_for(server))
        assert result.failure in (ProbeFailure.MALFORMED, ProbeFailure.WRONG_ANSWER), result.detail
        assert result.attempts == 1


async def test_unparsable_answer_with_matching_id_is_malformed(serve) -> None:  # type: ignore[no-untyped-def]
    def handler(wire: bytes, _transport: str) -> bytes:
        header = bytearray(wire[:12])
        header[2] |= 0x80  # QR
        header[5] = 1  # one question ...
        header[7] = 3  # ... and three answers that are not there
        return bytes(header)

    server = await serve(handler)
    result = await probe_soa(server.address, ZONE, Transport.UDP, settings_for(server))
    assert result.failure is ProbeFailure.MALFORMED, result.detail


async def test_wrong_id_is_a_wrong_answer(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.wrong_id())
    for transport in Transport:
        result = await probe_soa(server.address, ZONE, transport, settings_for(server))
        assert result.failure is ProbeFailure.WRONG_ANSWER, result.detail


async def test_oversized_answer_is_read_whole(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.oversized(5, records=40))
    query = dns.message.make_query(ZONE, "SOA", use_edns=0, payload=1232)
    assert len(fake_dns.soa_reply(query, padding_records=40).to_wire(max_size=65535)) > 8000
    result = await probe_soa(server.address, ZONE, Transport.UDP, settings_for(server))
    assert result.up and result.serial == 5


async def test_silence_times_out_after_one_retry(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.silent())
    result = await probe_soa(server.address, ZONE, Transport.UDP, settings_for(server))
    assert result.failure is ProbeFailure.TIMEOUT
    assert result.attempts == 2 and result.rtt is None
    assert server.queries["udp"] == 2


async def test_nothing_listening_times_out_over_udp_and_is_refused_over_tcp() -> None:
    """An unconnected UDP socket never sees the ICMP port-unreachable, just like a withdrawn route."""
    address = lab_block() + "9"
    port = free_port([address])
    udp = await probe_soa(address, ZONE, Transport.UDP, ProbeSettings(port, 0.3, 0))
    assert udp.failure is ProbeFailure.TIMEOUT, udp.detail
    tcp = await probe_soa(address, ZONE, Transport.TCP, ProbeSettings(port, 0.3, 0))
    assert tcp.failure is ProbeFailure.UNREACHABLE, tcp.detail


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


async def test_schedule_interval_jitter_tcp_and_counters(serve) -> None:  # type: ignore[no-untyped-def]
    healthy = await serve(fake_dns.authoritative(9))
    broken = await serve(fake_dns.garbage(b"\x01"), address="127.0.0.2", port=healthy.port)
    clock = FakeClock()
    config = Config(
        zones=[ZoneWatch(zone=ZONE)],
        # the SOA check's schedule alone is counted here
        dns=DnsSettings(port=healthy.port, timeout=0.3, interval=60, jitter=0.1, tcp_interval=300,
                        dnssec=DnssecSettings(enabled=False)),
    )
    monitor = DnsMonitor(config, clock=clock, rng=random.Random(1), pinned={ZONE: ["127.0.0.1", "127.0.0.2"]},
                         stagger=False)
    assert monitor.targets() == [Target(ZONE, "127.0.0.1", "127.0.0.1"), Target(ZONE, "127.0.0.2", "127.0.0.2")]
    due = monitor.step()
    await monitor.drain()
    assert healthy.queries == {"udp": 1, "tcp": 1} and broken.queries == {"udp": 1, "tcp": 1}
    assert clock.now + 54 <= due <= clock.now + 66

    clock.now += 66.1  # UDP due again (60 s +- 10 %), TCP not (300 s +- 10 %)
    assert monitor.step() <= clock.now + 66
    await monitor.drain()
    assert healthy.queries == {"udp": 2, "tcp": 1}

    clock.now += 300
    monitor.step()
    await monitor.drain()
    assert healthy.queries == {"udp": 3, "tcp": 2}

    snapshot = monitor.snapshot()
    good, bad = snapshot.targets_of(ZONE)
    assert good.up is True and good.serial == 9 and good.rtt(Transport.UDP) is not None
    assert bad.up is False and bad.reason is ProbeFailure.MALFORMED
    assert bad.failures[ProbeFailure.MALFORMED] == bad.probes == 5
    assert set(bad.failures) == set(ProbeFailure)
    zone = snapshot.zone(ZONE)
    assert (zone.addresses_up, zone.addresses_total, zone.verdict) == (1, 2, "degraded")
    assert zone.discovery.ok is True


def _delegating(names: dict[str, str], ttl: int, *, child: bool) -> fake_dns.Handler:
    """The parent (a referral for NS) or the child (NS, A and SOA, authoritative)."""

    def ns(query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        ns_set = dns.rrset.from_text_list(ZONE, ttl, "IN", "NS", list(names))
        if child:
            reply.flags |= dns.flags.AA
            reply.answer.append(ns_set)
        else:
            reply.authority.append(ns_set)
        for name, address in names.items():
            reply.additional.append(dns.rrset.from_text(name, ttl, "IN", "A", address))
        return reply

    def a(query: dns.message.Message) -> dns.message.Message:
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        name = query.question[0].name.to_text()
        if name in names:
            reply.answer.append(dns.rrset.from_text(name, ttl, "IN", "A", names[name]))
        return reply

    return fake_dns.by_type({dns.rdatatype.NS: ns, dns.rdatatype.A: a}, fake_dns.authoritative(3))


async def test_failed_discovery_keeps_targets_for_the_delegation_ttl(serve) -> None:  # type: ignore[no-untyped-def]
    block = lab_block()
    parent_address, child_address = block + "1", block + "2"
    port = free_port([parent_address, child_address])
    names = {f"ns1.{ZONE}": child_address}
    parent = await serve(_delegating(names, ttl=7200, child=False), address=parent_address, port=port)
    child = await serve(_delegating(names, ttl=7200, child=True), address=child_address, port=port)
    clock = FakeClock()
    config = Config(
        zones=[ZoneWatch(zone=ZONE, parent_servers=[parent_address])],
        dns=DnsSettings(port=port, timeout=0.3, retries=0, rediscover_interval=3600),
    )
    monitor = DnsMonitor(config, clock=clock, rng=random.Random(2), stagger=False)
    await monitor.run_once()
    zone = monitor.snapshot().zone(ZONE)
    assert zone.discovery.ok and zone.addresses_up == 1 and zone.discovery.ttl == 7200
    assert zone.ns_sets == "agree"

    parent.handler = child.handler = fake_dns.silent()  # the outage: nobody answers
    monitor.step()  # probes only: discovery is not due
    await monitor.drain()
    clock.now += 3600
    monitor.step()
    await monitor.drain()
    zone = monitor.snapshot().zone(ZONE)
    assert zone.discovery.ok is False and zone.discovery.failures == 1
    assert zone.discovery.last_success is not None and zone.discovery.last_success < clock.now
    assert monitor.targets() == [Target(ZONE, f"ns1.{ZONE}", child_address)]
    assert zone.verdict == "down" and zone.addresses_total == 1

    clock.now += 7200 + 1  # past the delegation TTL since the last complete round
    monitor.step()
    await monitor.drain()
    assert monitor.targets() == []
    assert monitor.snapshot().zone(ZONE).verdict == "unknown"


async def test_cap_counts_addresses_it_does_not_probe(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.authoritative(1))
    config = Config(zones=[ZoneWatch(zone=ZONE)], dns=DnsSettings(port=server.port, timeout=0.3),
                    limits=Limits(max_nameserver_addresses=1))
    monitor = DnsMonitor(config, pinned={ZONE: ["127.0.0.1", "127.0.0.3"]}, stagger=False)
    snapshot = await monitor.run_once()
    assert [t.address for t in snapshot.targets] == ["127.0.0.1"]
    assert snapshot.zone(ZONE).addresses_over_cap == 1


async def test_staggered_first_probes_spread_over_one_period(serve) -> None:  # type: ignore[no-untyped-def]
    server = await serve(fake_dns.authoritative(1))
    clock = FakeClock()
    config = Config(zones=[ZoneWatch(zone=ZONE)], dns=DnsSettings(port=server.port, timeout=0.3, interval=60))
    monitor = DnsMonitor(config, clock=clock, rng=random.Random(3), pinned={ZONE: ["127.0.0.1"]})
    first = monitor.step()
    assert server.queries == {"udp": 0, "tcp": 0}
    assert clock.now < first <= clock.now + 60
    clock.now = first
    monitor.step()
    await monitor.drain()
    assert sum(server.queries.values()) == 1
