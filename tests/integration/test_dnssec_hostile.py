"""The DNSSEC check against a hostile server: absurd RRSIG times, a 64 KB DNSKEY, a wrong-length signature.

Each is classified (a status and a problem in words), never raised; the
baseline is the same server sending the zone correctly signed.
"""

from __future__ import annotations

import pytest

from routewatch.config.schema import ZoneWatch
from routewatch.dns.checks import CHECKS, CheckJob
from routewatch.dns.probe import ProbeSettings
from routewatch.dns.signatures import AddressDnssec, SigningStatus
from routewatch.dns.targets import Target, Transport
from tests.support import fake_dns, fake_dnssec
from tests.support.fake_dns import FakeDnsServer

pytestmark = pytest.mark.integration

ZONE = "example.org."


async def check(mutate: fake_dnssec.Mutation) -> tuple[AddressDnssec, FakeDnsServer]:
    return await run(fake_dnssec.hostile(fake_dnssec.signed_zone(ZONE), mutate))


async def run(handler: fake_dns.Handler, timeout: float = 1.0) -> tuple[AddressDnssec, FakeDnsServer]:
    server = await FakeDnsServer("127.0.0.1", handler).start()
    try:
        job = CheckJob(Target(ZONE, "ns1." + ZONE, "127.0.0.1"), Transport.UDP,
                       ProbeSettings(port=server.port, timeout=timeout, retries=0), ZoneWatch(zone=ZONE))
        outcome = await CHECKS["dnssec"].run(job)
    finally:
        await server.stop()
    assert isinstance(outcome, AddressDnssec)
    return outcome, server


async def test_correctly_signed_baseline() -> None:
    outcome, _ = await check(lambda rrset, rrsigs: (rrset, rrsigs))
    assert outcome.status is SigningStatus.SIGNED and outcome.problems == ()
    assert outcome.earliest_expiry is not None and len(outcome.keys) == 1 and outcome.keys[0].signs_keyset


async def test_absurd_rrsig_times() -> None:
    outcome, _ = await check(fake_dnssec.absurd_times)
    assert outcome.status is SigningStatus.INVALID and outcome.earliest_expiry is None
    assert any(p.endswith(": expired") for p in outcome.problems), outcome.problems


async def test_wrong_length_signature() -> None:
    outcome, _ = await check(fake_dnssec.wrong_length_signature)
    assert outcome.status is SigningStatus.INVALID
    assert "no valid RRSIG over the DNSKEY RRset" in outcome.problems
    assert "no valid RRSIG over the SOA RRset" in outcome.problems


async def test_a_64_kb_dnskey_arrives_over_tcp_and_validates_nothing() -> None:
    outcome, server = await check(fake_dnssec.huge_key)
    assert server.queries["tcp"] == 1  # truncated over UDP, asked again over TCP
    assert outcome.status is SigningStatus.INVALID
    assert [len(k.key.key) for k in outcome.keys] == [65_000] and not outcome.keys[0].signs_keyset
    assert "no valid RRSIG over the DNSKEY RRset" in outcome.problems


async def test_silence_and_garbage_are_no_answer() -> None:
    silent, _ = await run(fake_dns.silent(), timeout=0.2)
    assert silent.status is SigningStatus.NO_ANSWER
    assert silent.problems == ("DNSKEY query: no answer before the timeout",)
    # garbage is skipped as a stray packet (as the SOA probe skips it): the real answer may still come
    garbage, _ = await run(fake_dns.garbage(b"\x01\x02"), timeout=0.2)
    assert garbage.status is SigningStatus.NO_ANSWER
    assert garbage.problems == ("DNSKEY query: no answer before the timeout",)
