"""Reading delegations, NS sets and addresses out of DNS responses (pure).

Discovery asks parents, roots and the zone's own servers simple questions;
these functions turn their answers into values, so that what counts as a
delegation or a usable address is tested with crafted messages, not servers.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

from routewatch.model import canonical_address

ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


@dataclass(frozen=True, slots=True)
class NsSet:
    """An NS set as one server gave it: owner (the zone cut), names, TTL, and glue.

    ``glue`` pairs a nameserver name with one address; only addresses for
    names in the set are kept (anything else in the additional section is
    not the server's to vouch for).
    """

    owner: str
    names: frozenset[str]
    ttl: int
    glue: tuple[tuple[str, str], ...] = ()

    def glue_for(self, name: str) -> tuple[str, ...]:
        return tuple(address for owner, address in self.glue if owner == name)


def name_text(name: dns.name.Name) -> str:
    """Lower-case absolute text form, the form every label value uses."""
    return name.to_text().lower()


def _ns_rrset(section: list[dns.rrset.RRset]) -> dns.rrset.RRset | None:
    for rrset in section:
        if rrset.rdtype == dns.rdatatype.NS:
            return rrset
    return None


def _glue(response: dns.message.Message, names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    pairs: set[tuple[str, str]] = set()
    for rrset in response.additional:
        owner = name_text(rrset.name)
        if rrset.rdtype in ADDRESS_TYPES and owner in names:
            pairs.update((owner, canonical_address(rdata.address)) for rdata in rrset)
    return tuple(sorted(pairs))


def parse_ns_set(response: dns.message.Message) -> NsSet | None:
    """The NS set a response carries: the answer's (an authoritative NS answer) or the authority's (a referral).

    Returns None for anything else: an error rcode, a NODATA/NXDOMAIN, or an
    empty answer. The caller decides whether the owner is the cut it wanted.
    """
    if response.rcode() != dns.rcode.NOERROR:
        return None
    rrset = _ns_rrset(response.answer)
    if rrset is None:
        rrset = _ns_rrset(response.authority)
    if rrset is None or len(rrset) == 0:
        return None
    names = frozenset(name_text(rdata.target) for rdata in rrset)
    return NsSet(name_text(rrset.name), names, int(rrset.ttl), _glue(response, names))


def is_referral(response: dns.message.Message, ns_set: NsSet, below: str) -> bool:
    """Whether ``ns_set`` is a referral to a cut strictly below ``below`` (progress in a walk from the root)."""
    if response.flags & dns.flags.AA and response.answer:
        return False
    return dns.name.from_text(ns_set.owner).is_subdomain(dns.name.from_text(below)) and ns_set.owner != below


def authoritative_ns_set(response: dns.message.Message, zone: str) -> NsSet | None:
    """The zone's own NS set from an authoritative answer (AA set, NS in the answer section)."""
    if not response.flags & dns.flags.AA:
        return None
    ns_set = parse_ns_set(response)
    if ns_set is None or ns_set.owner != zone or not response.answer:
        return None
    return ns_set


def addresses_in_answer(response: dns.message.Message, name: str, *, require_aa: bool) -> tuple[str, ...] | None:
    """A and AAAA addresses for ``name`` in the answer section; None when the answer is not usable.

    An empty tuple is a real answer (the name has no address of that type);
    None means the server did not answer for the name (error, referral, or
    no AA where AA is required).
    """
    if response.rcode() != dns.rcode.NOERROR:
        return None
    if require_aa and not response.flags & dns.flags.AA:
        return None
    found: set[str] = set()
    for rrset in response.answer:
        if rrset.rdtype in ADDRESS_TYPES and name_text(rrset.name) == name:
            found.update(canonical_address(rdata.address) for rdata in rrset)
    return tuple(sorted(found))
