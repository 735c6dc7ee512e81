"""What one address's DNSSEC answers say: its keys, which of them sign, and when signatures run out.

Pure: given the DNSKEY and SOA responses an address gave (asked with DO=1)
and the time, judge them with dnspython's :mod:`dns.dnssec` (never by hand).
Anything hostile in the answers (absurd times, a key of 64 KB, a signature of
the wrong length) ends as a problem in words, never as an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import dns.dnssec
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.DNSKEY import DNSKEY
from dns.rdtypes.ANY.RRSIG import RRSIG

MAX_PROBLEMS = 8
"""Problems kept per address: enough to say what is wrong, bounded whatever a server sends."""


class SigningStatus(StrEnum):
    """How one address serves the zone's DNSSEC data (a bounded vocabulary)."""

    SIGNED = "signed"  # DNSKEY and SOA each carry a signature that validates with the served keys
    UNSIGNED = "unsigned"  # neither keys nor signatures: an unsigned zone, or an unsigned copy
    INVALID = "invalid"  # keys or signatures present, but what must validate does not
    NO_ANSWER = "no-answer"  # no usable answer to ask about (the SOA check says why)


@dataclass(frozen=True, slots=True)
class KeyFacts:
    """One served DNSKEY: its tag, algorithm, flags, and whether it signs the DNSKEY RRset."""

    tag: int
    algorithm: int
    flags: int
    signs_keyset: bool
    key: DNSKEY


@dataclass(frozen=True, slots=True)
class AddressDnssec:
    """The DNSSEC facts one address served, judged at ``time``.

    ``earliest_expiry`` is the earliest expiration (epoch seconds) among the
    signatures that validated; ``problems`` say what failed, in words.
    """

    status: SigningStatus
    time: float
    keys: tuple[KeyFacts, ...] = ()
    earliest_expiry: float | None = None
    problems: tuple[str, ...] = ()

    @property
    def signing_tags(self) -> frozenset[int]:
        return frozenset(k.tag for k in self.keys if k.signs_keyset)


def _rrsets(response: dns.message.Message, zone: dns.name.Name) -> tuple[dns.rrset.RRset | None, ...]:
    """The answer's DNSKEY/SOA RRset and the RRSIG RRset covering it, by type."""
    found: dict[tuple[int, int], dns.rrset.RRset] = {}
    for rrset in response.answer:
        if rrset.name == zone:
            found[(rrset.rdtype, rrset.covers)] = rrset
    return tuple(found.get(key) for key in (
        (dns.rdatatype.DNSKEY, dns.rdatatype.NONE), (dns.rdatatype.RRSIG, dns.rdatatype.DNSKEY),
        (dns.rdatatype.SOA, dns.rdatatype.NONE), (dns.rdatatype.RRSIG, dns.rdatatype.SOA),
    ))


def _check(rrset: dns.rrset.RRset, rrsig: RRSIG, keyset: dns.rrset.RRset, now: float) -> str | None:
    """None when ``rrsig`` validates ``rrset`` with ``keyset``; else why not."""
    try:
        dns.dnssec.validate_rrsig(rrset, rrsig, {keyset.name: keyset}, now=now)
    except dns.dnssec.ValidationFailure as exc:
        return str(exc) or "verify failure"
    except Exception as exc:  # noqa: BLE001 - a hostile key or signature is a finding, not a crash
        return f"cannot be checked ({type(exc).__name__})"
    return None


def _key_tag(key: DNSKEY) -> int | None:
    try:
        return int(dns.dnssec.key_id(key))
    except Exception:  # noqa: BLE001 - a malformed key has no tag worth reporting
        return None


def _validated(
    what: str, rrset: dns.rrset.RRset, rrsigs: Iterable[RRSIG], keyset: dns.rrset.RRset, now: float,
    problems: list[str],
) -> list[RRSIG]:
    """The signatures over ``rrset`` that validate; each failure becomes a problem."""
    good = []
    for rrsig in rrsigs:
        why = _check(rrset, rrsig, keyset, now)
        if why is None:
            good.append(rrsig)
        else:
            problems.append(f"{what} RRSIG by key {rrsig.key_tag} (algorithm {int(rrsig.algorithm)}): {why}")
    if not good:
        problems.append(f"no valid RRSIG over the {what} RRset")
    return good


def judge_address(dnskey: dns.message.Message, soa: dns.message.Message, zone: str, now: float) -> AddressDnssec:
    """Judge the answers to ``DNSKEY`` and ``SOA`` queries for ``zone`` (both asked with DO=1)."""
    origin = dns.name.from_text(zone)
    keyset, key_sigs, _, _ = _rrsets(dnskey, origin)
    _, _, soa_set, soa_sigs = _rrsets(soa, origin)
    if soa_set is None:
        return AddressDnssec(SigningStatus.NO_ANSWER, now, problems=("no SOA in the answer",))
    if keyset is None and key_sigs is None and soa_sigs is None:
        return AddressDnssec(SigningStatus.UNSIGNED, now)
    if keyset is None:
        return AddressDnssec(SigningStatus.INVALID, now, problems=("signatures served but no DNSKEY RRset",))
    problems: list[str] = []
    key_good = _validated("DNSKEY", keyset, key_sigs or (), keyset, now, problems)
    soa_good = _validated("SOA", soa_set, soa_sigs or (), keyset, now, problems)
    signer_tags = {(s.key_tag, int(s.algorithm)) for s in key_good}
    keys = []
    for key in keyset:
        tag = _key_tag(key)
        if tag is not None:
            signs = (tag, int(key.algorithm)) in signer_tags
            keys.append(KeyFacts(tag, int(key.algorithm), int(key.flags), signs, key))
    expiries = [float(s.expiration) for s in (*key_good, *soa_good)]
    status = SigningStatus.SIGNED if key_good and soa_good else SigningStatus.INVALID
    return AddressDnssec(status, now, tuple(keys), min(expiries) if expiries else None,
                         tuple(problems[:MAX_PROBLEMS]))
