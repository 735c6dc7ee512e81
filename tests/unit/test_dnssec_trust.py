"""The zone-level DNSSEC judgement on its own: what is not known stays unknown, no DS is insecure
(unsigned, a failure, when the zone must be signed)."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.DS import DS

from routewatch.dns.signatures import AddressDnssec, SigningStatus
from routewatch.dns.trust import NO_DS_BUT_REQUIRED, DnssecState, judge_zone

ZONE = "example.org."
DS_TEXT = "12345 13 2 " + "ab" * 32


def ds() -> DS:
    record = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DS, DS_TEXT)
    assert isinstance(record, DS)
    return record


def test_unknown_ds_or_no_answer_is_unknown_not_a_guess() -> None:
    signed = {"192.0.2.1": AddressDnssec(SigningStatus.SIGNED, 0.0)}
    assert judge_zone(ZONE, None, signed, 0.0, 10.0).state is DnssecState.UNKNOWN
    silent = {"192.0.2.1": AddressDnssec(SigningStatus.NO_ANSWER, 0.0, problems=("DNSKEY query: timeout",))}
    found = judge_zone(ZONE, [ds()], silent, 0.0, 10.0)
    assert found.state is DnssecState.UNKNOWN and found.problems == ("no address answered",)
    assert judge_zone(ZONE, [ds()], {}, 0.0, 10.0).state is DnssecState.UNKNOWN


def test_no_ds_is_insecure_whatever_the_addresses_serve() -> None:
    found = judge_zone(ZONE, [], {"192.0.2.1": AddressDnssec(SigningStatus.UNSIGNED, 0.0)}, 0.0, 10.0)
    assert found.state is DnssecState.INSECURE and found.ds_match is None and found.problems == ()


def test_a_ds_but_no_keys_anywhere_is_bogus() -> None:
    found = judge_zone(ZONE, [ds()], {"192.0.2.1": AddressDnssec(SigningStatus.UNSIGNED, 0.0)}, 0.0, 10.0)
    assert found.state is DnssecState.BOGUS and found.ds_match is False
    assert [d.matched_key for d in found.ds] == [None]
    assert "192.0.2.1 serves the zone unsigned while the parent holds a DS" in found.problems


def test_no_ds_for_a_zone_that_must_be_signed_is_unsigned_and_names_the_unsigned_addresses() -> None:
    served = {"192.0.2.2": AddressDnssec(SigningStatus.UNSIGNED, 0.0),
              "192.0.2.1": AddressDnssec(SigningStatus.SIGNED, 0.0, earliest_expiry=99.0)}
    found = judge_zone(ZONE, [], served, 0.0, 10.0, must_be_signed=True)
    assert found.state is DnssecState.UNSIGNED and found.ds_match is None
    assert found.problems == (NO_DS_BUT_REQUIRED, "192.0.2.2 serves the zone unsigned")
    silent = {"192.0.2.1": AddressDnssec(SigningStatus.NO_ANSWER, 0.0)}
    assert judge_zone(ZONE, [], silent, 0.0, 10.0, must_be_signed=True).state is DnssecState.UNKNOWN


def test_a_ds_makes_must_be_signed_change_nothing() -> None:
    unsigned = {"192.0.2.1": AddressDnssec(SigningStatus.UNSIGNED, 0.0)}
    assert judge_zone(ZONE, [ds()], unsigned, 0.0, 10.0, must_be_signed=True) == judge_zone(
        ZONE, [ds()], unsigned, 0.0, 10.0)


def test_exit_codes() -> None:
    assert {s.value: s.exit_code for s in DnssecState} == {
        "secure": 0, "insecure": 0, "bogus": 2, "expiring": 1, "unsigned": 2, "unknown": 0}
