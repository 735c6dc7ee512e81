"""Judging a zone's DNSSEC from the parent's DS RRset and what each address serves (pure).

Validating resolvers answer SERVFAIL for a bogus zone exactly as for an
unreachable one, so the judgement is strict: the zone is ``secure`` only when
a DS at the parent matches a DNSKEY (key tag, algorithm, digest) that signs
the DNSKEY RRset on *every* answering address, and every address serves valid
signatures. One address serving an unsigned copy of a signed zone is bogus:
a resolver that asks it fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import dns.dnssec
from dns.rdtypes.ANY.DS import DS

from routewatch.dns.signatures import AddressDnssec, KeyFacts, SigningStatus

MAX_DS = 16
"""DS records reported per zone (a parent rarely holds more than four)."""


class DnssecState(StrEnum):
    """A zone's DNSSEC state, one-hot in ``routewatch_dns_dnssec_state``."""

    SECURE = "secure"
    INSECURE = "insecure"
    BOGUS = "bogus"
    EXPIRING = "expiring"
    UNSIGNED = "unsigned"  # no DS at the parent, but the config says the zone must be signed
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        """``check zone``'s exit code for this state alone (bogus is as bad as down; so is a zone
        that must be signed and is not: the config makes it a failure)."""
        return {"bogus": 2, "unsigned": 2, "expiring": 1}.get(self.value, 0)


@dataclass(frozen=True, slots=True)
class DsFacts:
    """One DS record at the parent and the served key it matches (None: none)."""

    key_tag: int
    algorithm: int
    digest_type: int
    matched_key: int | None


@dataclass(frozen=True, slots=True)
class ZoneDnssec:
    """The zone's DNSSEC verdict: state, earliest signature expiry, DS matches, problems in words.

    ``ds_match`` is None when the parent holds no DS or it is not known.
    """

    state: DnssecState = DnssecState.UNKNOWN
    earliest_expiry: float | None = None
    ds: tuple[DsFacts, ...] = ()
    ds_match: bool | None = None
    problems: tuple[str, ...] = ()


def _digest_matches(zone: str, ds: DS, key: KeyFacts) -> bool:
    if key.tag != ds.key_tag or key.algorithm != int(ds.algorithm):
        return False
    try:
        return dns.dnssec.make_ds(zone, key.key, ds.digest_type, policy=dns.dnssec.allow_all_policy).digest == ds.digest
    except Exception:  # noqa: BLE001 - an unknown digest type or a malformed key matches nothing
        return False


def match_ds(zone: str, ds_set: Iterable[DS], keys: Sequence[KeyFacts]) -> tuple[DsFacts, ...]:
    """Each DS with the tag of the served key its digest matches, if any."""
    facts = []
    for ds in list(ds_set)[:MAX_DS]:
        match = next((k.tag for k in keys if _digest_matches(zone, ds, k)), None)
        facts.append(DsFacts(int(ds.key_tag), int(ds.algorithm), int(ds.digest_type), match))
    return tuple(facts)


NO_DS_BUT_REQUIRED = "the parent holds no DS, but the zone must be signed (zones[].must_be_signed)"


def judge_zone(
    zone: str,
    ds_set: Sequence[DS] | None,
    addresses: dict[str, AddressDnssec],
    now: float,
    warning: float,
    *,
    must_be_signed: bool = False,
) -> ZoneDnssec:
    """The zone's state from the parent's DS RRset (None: not known) and each address's facts.

    With no DS the zone is ``insecure``, or ``unsigned`` when it ``must_be_signed``:
    resolvers then stop validating it, so the protection the operator asked
    for is gone even though every name still resolves.
    """
    answered = {a: facts for a, facts in addresses.items() if facts.status is not SigningStatus.NO_ANSWER}
    if ds_set is None or not answered:
        why = "the parent's DS RRset is not known" if ds_set is None else "no address answered"
        return ZoneDnssec(problems=(why,))
    if not ds_set:
        if not must_be_signed:
            return ZoneDnssec(DnssecState.INSECURE)
        unsigned = [f"{a} serves the zone unsigned" for a, f in sorted(answered.items())
                    if f.status is SigningStatus.UNSIGNED]
        return ZoneDnssec(DnssecState.UNSIGNED, problems=(NO_DS_BUT_REQUIRED, *unsigned))
    keys = {(k.tag, k.algorithm, k.key.to_wire()): k for facts in answered.values() for k in facts.keys}
    ds = match_ds(zone, ds_set, list(keys.values()))
    matched = {d.matched_key for d in ds if d.matched_key is not None}
    problems: list[str] = []
    if not matched:
        tags = ", ".join(str(d.key_tag) for d in ds)
        problems.append(f"no DS at the parent (key tags {tags}) matches a served DNSKEY")
    for address, facts in sorted(answered.items()):
        problems.extend(_address_problems(address, facts, matched))
    expiries = [f.earliest_expiry for f in answered.values() if f.earliest_expiry is not None]
    earliest = min(expiries) if expiries else None
    ds_match = bool(matched) and all(matched & f.signing_tags for f in answered.values())
    if problems:
        state = DnssecState.BOGUS
    elif earliest is not None and earliest - now < warning:
        state = DnssecState.EXPIRING
    else:
        state = DnssecState.SECURE
    return ZoneDnssec(state, earliest, ds, ds_match, tuple(problems))


def _address_problems(address: str, facts: AddressDnssec, matched: set[int]) -> list[str]:
    if facts.status is SigningStatus.UNSIGNED:
        return [f"{address} serves the zone unsigned while the parent holds a DS"]
    if facts.status is SigningStatus.INVALID:
        return [f"{address}: {problem}" for problem in facts.problems]
    if matched and not matched & facts.signing_tags:
        return [f"{address}: no key the parent's DS points to signs the DNSKEY RRset"]
    return []
