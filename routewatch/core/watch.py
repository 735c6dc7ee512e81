"""What routewatch watches: prefixes with their expected origins, and addresses.

A ``WatchSet`` answers three questions fast, because they are asked for every
element of a feed or an archive:

- is this prefix relevant at all (at or under a watched prefix, or covering a
  watched address)? Unwatched elements are dropped before any object is built;
- which watched prefix is the most specific one covering it?
- which origins are expected there?

Prefixes found for a watched ASN are added while the data flows, up to the
ASN's cap; what goes over the cap is counted, never silently dropped. So are
the prefixes a watched AS with declared downstreams (a *carrier*) is seen
carrying through an AS it did not declare: a customer's route leaked through
an undeclared customer is about the customer's prefix, which routewatch would
otherwise never look at. They have a cap of their own, as large as the
ASN's, so that leaks cannot take the places of the ASN's own prefixes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from routewatch.core.peer_filter import PeerFilter
from routewatch.core.settings import WithdrawalThresholds
from routewatch.model import Address, AsPath, AsSet, Prefix, origin_asns, prefix_key

_BITS = {4: 32, 6: 128}
_BUCKET_BITS = {4: 16, 6: 32}
CARRIED = "path:"
"""The ``source`` prefix of a prefix watched because a carrier carried it through an undeclared downstream."""
OVER_CAP_REMEMBERED = 10_000
"""Distinct prefixes refused over an ASN's cap that are remembered (all ASNs together), so that a hostile
peer announcing ever new ones costs bounded memory; the counts stop growing there."""


@dataclass(frozen=True, slots=True)
class WatchedPrefix:
    """A prefix whose visibility is tracked and exported.

    ``source`` says why it is watched: ``config``, ``asn:<N>`` (found in the
    data for a watched ASN), ``path:<N>`` (watched AS N carried it through an
    AS it did not declare as a downstream) or ``zone:<zone>`` (it serves a
    nameserver).
    """

    prefix: Prefix
    origins: AsSet
    thresholds: WithdrawalThresholds
    description: str = ""
    group: str = "default"
    ignore_more_specifics: bool = False
    source: str = "config"
    exported: bool = True
    exclude: PeerFilter | None = None  # peers that count for nothing at this prefix and under it

    def path_expected(self, path: AsPath) -> bool:
        """Does ``path`` end at an expected origin? An AS_SET origin is expected only when every member is.

        Reads the last hop instead of building an origin set: asked for every update.
        """
        if not path:
            return False
        last = path[-1]
        if type(last) is int:
            return last in self.origins
        return bool(last) and last <= self.origins  # type: ignore[operator]


class WatchSet:
    """The watched prefixes and addresses, with fast relevance and covering lookups."""

    def __init__(
        self,
        prefixes: Iterable[WatchedPrefix] = (),
        *,
        asns: dict[int, int] | None = None,
        asn_thresholds: WithdrawalThresholds | None = None,
        asn_ignore_more_specifics: frozenset[int] = frozenset(),
        carriers: dict[int, frozenset[int]] | None = None,
    ) -> None:
        self._by_key: dict[tuple[int, int, int], WatchedPrefix] = {}
        # Lengths at or past the bucket length are only searched when the prefix's
        # top bits match a bucket of some watched prefix: most of a full table
        # falls outside every bucket and is rejected with one set lookup.
        self._long: dict[int, list[int]] = {4: [], 6: []}
        self._short: dict[int, list[int]] = {4: [], 6: []}
        self._buckets: dict[int, set[int]] = {4: set(), 6: set()}
        self._covering_addresses: set[tuple[int, int, int]] = set()
        self._addresses: set[Address] = set()
        self.asn_caps: dict[int, int] = dict(asns or {})
        self.asn_prefix_count: Counter[int] = Counter()
        #: Prefixes watched because a carrier was seen carrying them through an undeclared downstream, per carrier.
        self.carried_count: Counter[int] = Counter()
        self.asn_over_cap: Counter[int] = Counter()
        self._asn_over_cap_seen: set[tuple[int, int, int, int]] = set()
        self._asn_thresholds = asn_thresholds or WithdrawalThresholds()
        self._asn_ignore_ms = asn_ignore_more_specifics
        #: Watched AS -> its declared downstreams, for the watched ASes that declare them.
        self.carriers = {asn: down for asn, down in (carriers or {}).items() if asn in self.asn_caps}
        #: Bumped by every change, so callers can cache answers until the next one.
        self.version = 0
        for watched in prefixes:
            self.add(watched)

    # -- membership ---------------------------------------------------------------

    def add(self, watched: WatchedPrefix) -> None:
        """Watch a prefix (replacing an earlier entry for the same prefix); a carried one is counted here,
        so that one restored from saved state counts too."""
        self.version += 1
        if watched.source.startswith(CARRIED) and self.get(watched.prefix) is None:
            self.carried_count[int(watched.source[len(CARRIED):])] += 1
        self._by_key[prefix_key(watched.prefix)] = watched
        version, value, length = prefix_key(watched.prefix)
        bucket_bits = _BUCKET_BITS[version]
        lengths = self._long if length >= bucket_bits else self._short
        if length not in lengths[version]:
            lengths[version] = sorted([*lengths[version], length], reverse=True)
        if length >= bucket_bits:
            self._buckets[version].add(value >> (_BITS[version] - bucket_bits))

    def add_service_prefix(
        self, prefix: Prefix, origins: AsSet, zone: str, exported: bool, thresholds: WithdrawalThresholds | None = None
    ) -> WatchedPrefix:
        """Track a prefix that serves a nameserver; exported only when the zone asks for it.

        Empty ``origins`` means "learn them from the data" (see ``routewatch.core.nameservers``).
        """
        existing = self.get(prefix)
        if existing is not None:
            return existing
        watched = WatchedPrefix(prefix, origins, thresholds or self._asn_thresholds,
                                description=f"serves a nameserver of {zone}", source=f"zone:{zone}",
                                exported=exported, exclude=self.inherited_exclusion(prefix))
        self.add(watched)
        return watched

    def add_address(self, address: Address) -> None:
        """Track every route covering ``address`` (a nameserver's), whoever originates it."""
        if address in self._addresses:
            return
        self.version += 1
        self._addresses.add(address)
        bits = _BITS[address.version]
        value = int(address)
        for length in range(bits + 1):
            masked = (value >> (bits - length)) << (bits - length) if length else 0
            self._covering_addresses.add((address.version, masked, length))

    @property
    def default_thresholds(self) -> WithdrawalThresholds:
        return self._asn_thresholds

    @property
    def addresses(self) -> frozenset[Address]:
        return frozenset(self._addresses)

    def get(self, prefix: Prefix) -> WatchedPrefix | None:
        return self._by_key.get(prefix_key(prefix))

    def __iter__(self) -> Iterator[WatchedPrefix]:
        return iter(list(self._by_key.values()))

    def __len__(self) -> int:
        return len(self._by_key)

    # -- the hot path -------------------------------------------------------------

    def covering(self, version: int, value: int, length: int) -> WatchedPrefix | None:
        """The most specific watched prefix at or above (version, value, length)."""
        bits = _BITS[version]
        by_key = self._by_key
        bucket_bits = _BUCKET_BITS[version]
        if length >= bucket_bits and (value >> (bits - bucket_bits)) in self._buckets[version]:
            for watched_length in self._long[version]:
                if watched_length <= length:
                    shift = bits - watched_length
                    found = by_key.get((version, (value >> shift) << shift, watched_length))
                    if found is not None:
                        return found
        for watched_length in self._short[version]:
            if watched_length <= length:
                shift = bits - watched_length
                found = by_key.get((version, (value >> shift) << shift if watched_length else 0, watched_length))
                if found is not None:
                    return found
        return None

    def covering_prefix(self, prefix: Prefix) -> WatchedPrefix | None:
        return self.covering(*prefix_key(prefix))

    def relevant(self, version: int, value: int, length: int) -> bool:
        """May a route for this prefix matter, whatever its path? (A prefix filter for readers that see no path.)

        With watched ASNs every prefix is relevant, because any of them may turn
        out to be originated by the ASN; the origin is checked by the caller.
        """
        # prefix_relevant inlined: one call per element of every file read (bench_replay's RIB: 860,000)
        if self.asn_caps or (version, value, length) in self._covering_addresses:
            return True
        return self.covering(version, value, length) is not None

    def prefix_relevant(self, version: int, value: int, length: int) -> bool:
        """Is this prefix at or under a watched prefix, or over a watched address, as things stand now?

        What the core keeps a route for, short of ``discover``: the MRT reader's
        prefix filter, with :meth:`discovers` for the paths.
        """
        if (version, value, length) in self._covering_addresses:
            return True
        return self.covering(version, value, length) is not None

    def covers_address(self, prefix: Prefix) -> bool:
        return prefix_key(prefix) in self._covering_addresses

    # -- prefixes found for watched ASNs -----------------------------------------

    def discover(self, prefix: Prefix, origins: AsSet, path: AsPath = ()) -> WatchedPrefix | None:
        """Watch ``prefix`` if a watched ASN originates it, or carries it through an undeclared downstream.

        None when neither applies or the ASN is over its cap.
        """
        for asn in origins:
            if asn in self.asn_caps:
                return self._found(prefix, asn, frozenset((asn,)), f"originated by AS{asn}", f"asn:{asn}",
                                   self.asn_prefix_count)
        carrier = self.carrier_leaking(path) if self.carriers else None
        if carrier is not None and origins:
            return self._found(prefix, carrier, origins, f"carried by AS{carrier}", f"{CARRIED}{carrier}",
                               self.carried_count)
        return None

    def discovers(self, path: AsPath) -> bool:
        """Would :meth:`discover` act on a route with this path (watch its prefix, or count it over a cap)?

        Asked by the MRT reader for each route whose prefix is not relevant: only
        the path decides, so a route it says no to can only matter once its
        prefix is watched for another reason.
        """
        origins = origin_asns(path)
        if not origins:
            return False
        if not origins.isdisjoint(self.asn_caps):
            return True
        return bool(self.carriers) and self.carrier_leaking(path) is not None

    def carrier_leaking(self, path: AsPath) -> int | None:
        """The first carrier in ``path`` (prepending collapsed) followed by an AS it did not declare as downstream."""
        carriers = self.carriers
        previous: object = None
        for i, hop in enumerate(path):
            if hop == previous:
                continue
            previous = hop
            declared = carriers.get(hop) if type(hop) is int else None  # type: ignore[call-overload]
            if declared is None:
                continue
            following = next((h for h in path[i + 1:] if h != hop), None)
            if type(following) is int and following not in declared:
                return hop  # type: ignore[return-value]
        return None

    def _found(self, prefix: Prefix, asn: int, origins: AsSet, description: str, source: str,
               counts: Counter[int]) -> WatchedPrefix | None:
        """Watch a prefix found for ``asn`` unless ``counts`` (originated, or carried) is at its cap."""
        existing = self.get(prefix)
        if existing is not None:
            return existing
        if counts[asn] >= self.asn_caps[asn]:
            seen = self._asn_over_cap_seen
            key = (asn, *prefix_key(prefix))
            if key not in seen and len(seen) < OVER_CAP_REMEMBERED:
                seen.add(key)
                self.asn_over_cap[asn] += 1
            return None
        if counts is self.asn_prefix_count:
            counts[asn] += 1  # a carried prefix is counted by ``add``
        watched = WatchedPrefix(prefix, origins, self._asn_thresholds, description=description,
                                ignore_more_specifics=asn in self._asn_ignore_ms, source=source,
                                exclude=self.inherited_exclusion(prefix))
        self.add(watched)
        return watched

    def inherited_exclusion(self, prefix: Prefix) -> PeerFilter | None:
        """The peer exclusions of the watched prefix covering a newly watched ``prefix``: they hold under it."""
        covering = self.covering(*prefix_key(prefix))
        return None if covering is None else covering.exclude
