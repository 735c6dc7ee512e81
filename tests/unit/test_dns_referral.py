"""Reading delegations, NS sets and addresses from crafted responses."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

from routewatch.dns.referral import addresses_in_answer, authoritative_ns_set, is_referral, parse_ns_set

ZONE = "facebook.com."
NAMES = [f"{letter}.ns.facebook.com." for letter in "abcd"]


def referral() -> dns.message.Message:
    query = dns.message.make_query("FaceBook.com.", "NS")
    reply = dns.message.make_response(query)
    reply.authority.append(dns.rrset.from_text_list("FACEBOOK.com.", 172800, "IN", "NS", NAMES))
    reply.additional.append(dns.rrset.from_text("a.ns.facebook.com.", 172800, "IN", "A", "129.134.30.12"))
    reply.additional.append(dns.rrset.from_text(
        "a.ns.facebook.com.", 172800, "IN", "AAAA", "2a03:2880:f0fc:000c:face:b00c:0:35"))
    reply.additional.append(dns.rrset.from_text("evil.example.", 172800, "IN", "A", "192.0.2.66"))
    return reply


def test_referral_gives_names_ttl_and_only_in_set_glue() -> None:
    ns_set = parse_ns_set(referral())
    assert ns_set is not None
    assert ns_set.owner == ZONE
    assert ns_set.names == frozenset(NAMES)
    assert ns_set.ttl == 172800
    assert ns_set.glue_for("a.ns.facebook.com.") == ("129.134.30.12", "2a03:2880:f0fc:c:face:b00c:0:35")
    assert ns_set.glue_for("b.ns.facebook.com.") == ()
    assert all(owner != "evil.example." for owner, _ in ns_set.glue)


def test_referral_progress_and_authoritative_answers_are_told_apart() -> None:
    response = referral()
    ns_set = parse_ns_set(response)
    assert ns_set is not None
    assert is_referral(response, ns_set, "com.")
    assert not is_referral(response, ns_set, ZONE)
    assert authoritative_ns_set(response, ZONE) is None

    query = dns.message.make_query(ZONE, "NS")
    own = dns.message.make_response(query)
    own.flags |= dns.flags.AA
    own.answer.append(dns.rrset.from_text_list(ZONE, 172800, "IN", "NS", NAMES[:2]))
    own_set = authoritative_ns_set(own, ZONE)
    assert own_set is not None and own_set.names == frozenset(NAMES[:2])
    assert not is_referral(own, own_set, "com.")
    assert authoritative_ns_set(own, "example.com.") is None


def test_errors_and_empty_answers_have_no_ns_set() -> None:
    query = dns.message.make_query(ZONE, "NS")
    refused = dns.message.make_response(query)
    refused.set_rcode(dns.rcode.REFUSED)
    assert parse_ns_set(refused) is None
    assert parse_ns_set(dns.message.make_response(query)) is None


def test_addresses_need_aa_when_asked_of_the_zone() -> None:
    query = dns.message.make_query("a.ns.facebook.com.", "A")
    reply = dns.message.make_response(query)
    reply.answer.append(dns.rrset.from_text("a.ns.facebook.com.", 3600, "IN", "A", "129.134.30.12"))
    assert addresses_in_answer(reply, "a.ns.facebook.com.", require_aa=True) is None
    assert addresses_in_answer(reply, "a.ns.facebook.com.", require_aa=False) == ("129.134.30.12",)
    reply.flags |= dns.flags.AA
    assert addresses_in_answer(reply, "a.ns.facebook.com.", require_aa=True) == ("129.134.30.12",)
    assert addresses_in_answer(reply, "b.ns.facebook.com.", require_aa=True) == ()
    reply.set_rcode(dns.rcode.SERVFAIL)
    assert addresses_in_answer(reply, "a.ns.facebook.com.", require_aa=False) is None
