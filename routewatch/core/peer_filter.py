"""Peers kept out by configuration: a peer known to leak, a route server, a collector not to trust.

BGPalerter calls them ``blacklistSources``. A peer excluded here counts for
nothing, as a peer of a stale collector does: neither visible nor in a
baseline, and its routes flag nothing. An exclusion applies everywhere
(``bgp.exclude_peers``, ``bgp.exclude_collectors``) or under one watched
prefix only (``prefixes[].exclude_peers``: that prefix and its
more-specifics).

The rules never change while an engine runs (a reload builds a new one), so a
peer's verdict is worked out once, the first time it is asked for, and kept.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from routewatch.model import Peer

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class PeerFilter:
    """Peers matched by address (a network or a single address), by AS number or by collector name."""

    networks: tuple[Network, ...] = ()
    asns: frozenset[int] = frozenset()
    collectors: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.networks or self.asns or self.collectors)

    def matches(self, peer: Peer) -> bool:
        if peer.asn in self.asns or peer.collector in self.collectors:
            return True
        if not self.networks:
            return False
        try:
            address = ipaddress.ip_address(peer.address)
        except ValueError:  # a peer named by something other than an address matches no network
            return False
        return any(address.version == net.version and address in net for net in self.networks)

    def union(self, other: PeerFilter) -> PeerFilter:
        return PeerFilter(
            tuple(dict.fromkeys(self.networks + other.networks)),
            self.asns | other.asns,
            self.collectors | other.collectors,
        )


class StaticExclusions:
    """The configured exclusions, asked per peer index; each verdict computed once."""

    def __init__(self, everywhere: PeerFilter, peer_of: Callable[[int], Peer]) -> None:
        self._everywhere = everywhere if everywhere else None  # None: the common case costs one test
        self._peer_of = peer_of
        # keyed by identity (hashing a filter per question would cost more than the answer); the filter is
        # kept alongside so that its id is never reused by another
        self._verdicts: dict[int, tuple[PeerFilter, dict[int, bool]]] = {}

    def excluded(self, peer: int, under: PeerFilter | None) -> bool:
        """Is ``peer`` excluded everywhere, or by ``under`` (a watched prefix's own filter)?"""
        if self._everywhere is not None and self._verdict(self._everywhere, peer):
            return True
        return under is not None and self._verdict(under, peer)

    def _verdict(self, rules: PeerFilter, peer: int) -> bool:
        entry = self._verdicts.get(id(rules))
        if entry is None:
            entry = self._verdicts[id(rules)] = (rules, {})
        known = entry[1]
        verdict = known.get(peer)
        if verdict is None:
            verdict = known[peer] = rules.matches(self._peer_of(peer))
        return verdict
