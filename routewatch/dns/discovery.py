"""Finding a zone's nameservers and their addresses, the way a resolver would.

Three views are gathered because they can disagree and the disagreement is the
finding: the parent's delegation (NS and glue, asked of the parent's servers,
found by walking down from the root unless configured), the zone's own NS set
(asked of its servers), and the A/AAAA of every nameserver name. Each query is
a single non-recursive question to one server; a server that stays silent is
skipped for the rest of the round so that an outage costs one timeout per
server, not one per question.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import dns.asyncquery
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
from dns.rdtypes.ANY.DS import DS

from routewatch.dns.probe import ProbeSettings
from routewatch.dns.referral import NsSet, addresses_in_answer, authoritative_ns_set, is_referral, parse_ns_set
from routewatch.dns.roots import ROOT_HINTS
from routewatch.dns.targets import Target

MAX_REFERRALS = 12
"""Referrals followed in one walk; real chains are a handful deep, loops are not."""

MAX_GLUELESS_DEPTH = 3
"""How deep glueless referrals may nest before discovery gives up on them."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Discovery:
    """What one discovery round found for a zone.

    ``parent_ns`` is the delegation as the parent's servers gave it (None if
    none answered); ``child_ns`` the zone's own NS set (None if none of its
    servers answered authoritatively); ``addresses`` pairs every nameserver
    name with each address found (glue and authoritative answers, united);
    ``problems`` says, in words, what could not be found. ``ds`` is the
    parent's DS RRset (empty: the parent says there is none; None: no parent
    server answered the question); ``glue_mismatches`` lists the in-zone
    nameservers whose glue at the parent differs from the addresses the zone
    itself serves for them (name, glue, served), the mark of a migration done
    on one side only; ``parent_answer`` is the parent's rcode when it gave no
    delegation (e.g. NXDOMAIN).
    """

    zone: str
    parent_ns: NsSet | None
    child_ns: NsSet | None
    addresses: tuple[tuple[str, str], ...]
    problems: tuple[str, ...] = ()
    ds: tuple[DS, ...] | None = None
    glue_mismatches: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()
    parent_answer: str | None = None

    @property
    def ok(self) -> bool:
        """Complete: both NS sets and at least one address for every name."""
        return self.parent_ns is not None and self.child_ns is not None and not self.problems

    @property
    def delegation_gone(self) -> bool:
        """The parent answered NXDOMAIN for the zone: no resolver will find its servers."""
        return self.parent_answer == "NXDOMAIN"

    @property
    def ttl(self) -> int:
        """The delegation's TTL (the parent's, else the child's), 0 when neither answered."""
        for ns_set in (self.parent_ns, self.child_ns):
            if ns_set is not None:
                return ns_set.ttl
        return 0

    def targets(self) -> list[Target]:
        return [Target(self.zone, name, address) for name, address in self.addresses]


@dataclass(slots=True)
class _Round:
    """Servers found silent during one discovery round, skipped for the rest of it."""

    silent: set[str] = field(default_factory=set)
    parent_servers: list[str] = field(default_factory=list)
    parent_rcodes: set[str] = field(default_factory=set)


class Discoverer:
    """Runs discovery rounds; holds only settings, so one instance serves every zone."""

    def __init__(
        self,
        settings: ProbeSettings,
        *,
        root_servers: Sequence[str] = (),
        resolvers: Sequence[str] = (),
        limit: asyncio.Semaphore | None = None,
    ) -> None:
        self._settings = settings
        self._roots = tuple(root_servers) or ROOT_HINTS
        self._resolvers = tuple(resolvers)
        self._limit = limit

    async def discover(
        self,
        zone: str,
        *,
        parent_servers: Sequence[str] = (),
        nameservers: Iterable[str] = (),
        known_addresses: Iterable[str] = (),
    ) -> Discovery:
        """Discover ``zone``; ``nameservers`` are configured names always included, and
        ``known_addresses`` (last round's) are asked for the child NS set when the parent is silent."""
        state = _Round()
        problems: list[str] = []
        parent = await self._delegation(state, zone, tuple(parent_servers))
        parent_answer = None
        if parent is None:
            parent_answer = ", ".join(sorted(state.parent_rcodes)) or None
            problems.append(f"the parent answered {parent_answer} for the zone, not a delegation"
                            if parent_answer else "no parent server gave the delegation")
        ds = None if parent is None else await self._ask_any(state, state.parent_servers, zone,
                                                             dns.rdatatype.DS, lambda r: ds_in_answer(r, zone))
        glue = [address for _, address in parent.glue] if parent else []
        child_servers = list(dict.fromkeys([*glue, *known_addresses]))
        if parent is not None:
            for name in sorted(parent.names - {owner for owner, _ in parent.glue}):
                child_servers.extend(await self._external_addresses(state, name, MAX_GLUELESS_DEPTH))
        child = await self._ask_any(state, child_servers, zone, dns.rdatatype.NS,
                                    lambda r: authoritative_ns_set(r, zone))
        if child is None:
            problems.append("no nameserver of the zone answered its NS set authoritatively")
        names = set(nameservers) | (parent.names if parent else set()) | (child.names if child else set())
        addresses, mismatches = await self._name_addresses(state, zone, sorted(names), parent, child_servers,
                                                           problems)
        return Discovery(zone, parent, child, tuple(sorted(addresses)), tuple(problems), ds, tuple(mismatches),
                         parent_answer)

    async def _name_addresses(
        self, state: _Round, zone: str, names: list[str], parent: NsSet | None, child_servers: list[str],
        problems: list[str],
    ) -> tuple[set[tuple[str, str]], list[tuple[str, tuple[str, ...], tuple[str, ...]]]]:
        """Every (name, address) from glue and the zone's own answers, and the names where the two differ."""
        addresses: set[tuple[str, str]] = set()
        mismatches = []
        for name in names:
            glued = set(parent.glue_for(name) if parent else ())
            served = set(await self._addresses(state, zone, name, child_servers))
            if glued and served and glued != served:
                mismatches.append((name, tuple(sorted(glued)), tuple(sorted(served))))
            if not glued | served:
                problems.append(f"no address found for {name}")
            addresses.update((name, address) for address in glued | served)
        return addresses, mismatches

    async def _delegation(self, state: _Round, zone: str, parent_servers: tuple[str, ...]) -> NsSet | None:
        def delegation(response: dns.message.Message) -> NsSet | None:
            found = _owned_by(parse_ns_set(response), zone)
            if found is None:
                state.parent_rcodes.add(dns.rcode.to_text(response.rcode()))
            return found

        if parent_servers:
            state.parent_servers = list(parent_servers)
            return await self._ask_any(state, list(parent_servers), zone, dns.rdatatype.NS, delegation)
        response = await self._walk(state, zone, dns.rdatatype.NS, MAX_GLUELESS_DEPTH, stop_at=zone)
        if response is None:
            return None
        # The walk stops at the first parent server that answers; one out of step (a stale copy
        # without the delegation) must not speak for the others, so on anything but a delegation
        # every parent server is asked.
        found = delegation(response)
        if found is None:
            found = await self._ask_any(state, state.parent_servers, zone, dns.rdatatype.NS, delegation)
        return found

    async def _addresses(self, state: _Round, zone: str, name: str, child_servers: list[str]) -> set[str]:
        """Addresses for a nameserver name: from the zone's own servers when the name is in the zone
        (only they can vouch for it; the glue covers them being silent), else from configured
        resolvers or a walk from the root."""
        if not (name == zone or name.endswith("." + zone)):
            return set(await self._external_addresses(state, name, MAX_GLUELESS_DEPTH))
        found: set[str] = set()
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            answer = await self._ask_any(state, child_servers, name, rdtype,
                                         lambda r: addresses_in_answer(r, name, require_aa=True))
            found.update(answer or ())
        return found

    async def _external_addresses(self, state: _Round, name: str, depth: int) -> list[str]:
        found: list[str] = []
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            if self._resolvers:
                answer = await self._ask_any(state, list(self._resolvers), name, rdtype,
                                             lambda r: addresses_in_answer(r, name, require_aa=False),
                                             recursion=True)
            else:
                response = await self._walk(state, name, rdtype, depth)
                answer = None if response is None else addresses_in_answer(response, name, require_aa=True)
            found.extend(answer or ())
        return found

    async def _walk(
        self, state: _Round, qname: str, rdtype: dns.rdatatype.RdataType, depth: int, stop_at: str | None = None
    ) -> dns.message.Message | None:
        """Follow referrals down from the root; return the final answer, or the referral to ``stop_at``."""
        servers, cut = list(self._roots), "."
        for _ in range(MAX_REFERRALS):
            response = await self._ask_any(state, servers, qname, rdtype, _usable)
            if response is None:
                return None
            ns_set = parse_ns_set(response)
            if ns_set is None or not is_referral(response, ns_set, cut):
                state.parent_servers = servers
                return response
            if ns_set.owner == stop_at:
                state.parent_servers = servers
                return response
            servers = [address for _, address in ns_set.glue]
            if not servers and depth > 0:
                for name in sorted(ns_set.names):
                    servers.extend(await self._external_addresses(state, name, depth - 1))
            cut = ns_set.owner
        return None

    async def _ask_any(
        self,
        state: _Round,
        servers: Sequence[str],
        qname: str,
        rdtype: dns.rdatatype.RdataType,
        accept: Callable[[dns.message.Message], T | None],
        *,
        recursion: bool = False,
    ) -> T | None:
        """Ask each server in turn until one gives an acceptable answer."""
        for server in dict.fromkeys(servers):
            if server in state.silent:
                continue
            response = await self._ask(server, qname, rdtype, recursion)
            if response is None:
                state.silent.add(server)
                continue
            value = accept(response)
            if value is not None:
                return value
        return None

    async def _ask(
        self, server: str, qname: str, rdtype: dns.rdatatype.RdataType, recursion: bool
    ) -> dns.message.Message | None:
        query = dns.message.make_query(qname, rdtype, use_edns=0, payload=1232,
                                       want_dnssec=rdtype == dns.rdatatype.DS)
        if not recursion:
            query.flags &= ~dns.flags.RD
        try:
            async with self._limit if self._limit is not None else contextlib.nullcontext():
                response, _ = await dns.asyncquery.udp_with_fallback(
                    query, server, timeout=self._settings.timeout, port=self._settings.port,
                    ignore_unexpected=True, ignore_errors=True,  # stray packets are skipped
                )
        except Exception:  # noqa: BLE001 - a silent or broken server is skipped, discovery goes on
            return None
        return response


def ds_in_answer(response: dns.message.Message, zone: str) -> tuple[DS, ...] | None:
    """The DS RRset a parent server gave for ``zone`` (empty when it says there is none); None if not an answer."""
    if response.rcode() != dns.rcode.NOERROR or not response.flags & dns.flags.AA:
        return None
    owner = dns.name.from_text(zone)
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.DS and rrset.name == owner:
            return tuple(rdata for rdata in rrset if isinstance(rdata, DS))
    return ()


def _owned_by(ns_set: NsSet | None, zone: str) -> NsSet | None:
    return ns_set if ns_set is not None and ns_set.owner == zone else None


def _usable(response: dns.message.Message) -> dns.message.Message | None:
    return response if response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN) else None
