"""Classifying crafted responses: every reason, NSID rendering, the resolver variant."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from routewatch.dns.classify import (
    classify_authoritative,
    classify_recursive,
    make_soa_query,
    nsid_text,
)
from routewatch.dns.targets import ProbeFailure

ZONE = "facebook.com."


def answer(query: dns.message.Message, *, aa: bool = True, rcode: int = dns.rcode.NOERROR,
           soa_owner: str = ZONE, serial: int = 2021100401) -> dns.message.Message:
    reply = dns.message.make_response(query)
    if aa:
        reply.flags |= dns.flags.AA
    reply.set_rcode(rcode)
    if soa_owner:
        reply.answer.append(dns.rrset.from_text(
            soa_owner, 300, "IN", "SOA", f"a.ns.{ZONE} dns.{ZONE} {serial} 14400 1800 604800 300"))
    return reply


def test_query_is_non_recursive_soa_with_nsid_request() -> None:
    query = make_soa_query(ZONE)
    assert not query.flags & dns.flags.RD
    assert query.question[0].rdtype == dns.rdatatype.SOA
    assert any(option.otype == dns.edns.OptionType.NSID for option in query.options)
    assert make_soa_query(ZONE, recursion=True).flags & dns.flags.RD


def test_healthy_answer() -> None:
    query = make_soa_query(ZONE)
    verdict = classify_authoritative(query, answer(query))
    assert verdict.up and verdict.failure is None
    assert verdict.serial == 2021100401
    assert verdict.authoritative and verdict.rcode == "NOERROR"


@pytest.mark.parametrize(
    ("rcode", "aa", "expected"),
    [
        (dns.rcode.REFUSED, False, ProbeFailure.REFUSED),
        (dns.rcode.SERVFAIL, False, ProbeFailure.SERVFAIL),
        (dns.rcode.NOTAUTH, True, ProbeFailure.NOT_AUTHORITATIVE),
        (dns.rcode.NXDOMAIN, True, ProbeFailure.WRONG_ANSWER),
        (dns.rcode.FORMERR, True, ProbeFailure.WRONG_ANSWER),
    ],
)
def test_error_rcodes(rcode: int, aa: bool, expected: ProbeFailure) -> None:
    query = make_soa_query(ZONE)
    assert classify_authoritative(query, answer(query, aa=aa, rcode=rcode, soa_owner="")).failure is expected


def test_referral_without_aa_is_lame() -> None:
    query = make_soa_query(ZONE)
    referral = dns.message.make_response(query)
    referral.authority.append(dns.rrset.from_text(ZONE, 172800, "IN", "NS", f"a.ns.{ZONE}"))
    assert classify_authoritative(query, referral).failure is ProbeFailure.NOT_AUTHORITATIVE


def test_non_authoritative_copy_still_reports_its_serial() -> None:
    query = make_soa_query(ZONE)
    verdict = classify_authoritative(query, answer(query, aa=False, serial=7))
    assert verdict.failure is ProbeFailure.NOT_AUTHORITATIVE
    assert verdict.serial == 7


def test_nodata_and_soa_of_another_zone_are_wrong_answers() -> None:
    query = make_soa_query(ZONE)
    assert classify_authoritative(query, answer(query, soa_owner="")).failure is ProbeFailure.WRONG_ANSWER
    other = answer(query, soa_owner="com.")
    assert classify_authoritative(query, other).failure is ProbeFailure.WRONG_ANSWER


def test_answer_to_another_query_is_a_wrong_answer() -> None:
    query = make_soa_query(ZONE)
    reply = answer(query)
    reply.id = (query.id + 1) % 65536
    assert classify_authoritative(query, reply).failure is ProbeFailure.WRONG_ANSWER
    other_question = make_soa_query("example.com.")
    assert classify_authoritative(other_question, answer(query)).failure is ProbeFailure.WRONG_ANSWER


def test_truncated_flag_is_reported() -> None:
    query = make_soa_query(ZONE)
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.TC | dns.flags.AA
    verdict = classify_authoritative(query, reply)
    assert verdict.truncated
    assert verdict.failure is ProbeFailure.WRONG_ANSWER


def test_resolver_answers_need_no_aa_but_servfail_counts() -> None:
    query = make_soa_query(ZONE, recursion=True)
    assert classify_recursive(query, answer(query, aa=False)).up
    servfail = answer(query, aa=False, rcode=dns.rcode.SERVFAIL, soa_owner="")
    assert classify_recursive(query, servfail).failure is ProbeFailure.SERVFAIL


def test_nsid_printable_and_binary() -> None:
    query = make_soa_query(ZONE)
    reply = answer(query)
    reply.use_edns(0, options=[dns.edns.NSIDOption(b"edge-star-ams1")])
    assert nsid_text(reply) == "edge-star-ams1"
    assert classify_authoritative(query, reply).nsid == "edge-star-ams1"
    reply.use_edns(0, options=[dns.edns.NSIDOption(b"\x00\xff")])
    assert nsid_text(reply) == "00ff"
    reply.use_edns(0, options=[])
    assert nsid_text(reply) is None
