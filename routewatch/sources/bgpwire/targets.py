"""Which routes a live source keeps: the watched targets as a prefix filter for the UPDATE decoder.

The core's ``WatchSet.relevant`` decides the same for MRT files read in the
core's process; a source only has the targets as plain values
(``WatchTargets``), so it keeps this lighter copy and rebuilds it when the
watch list grows (watched ASNs' prefixes and nameserver addresses are found
while running). Most of a full table is neither watched nor over a
nameserver address, and is dropped before its attributes are decoded.
"""

from __future__ import annotations

from routewatch.sources.base import WatchTargets

_BITS = {4: 32, 6: 128}


class TargetFilter:
    """``accept(version, network, length)``: a watched prefix, a more-specific of one, or over a watched address."""

    def __init__(self) -> None:
        self.counts: tuple[int, int] | None = None  # (prefixes, addresses) it was built for
        self._all = False
        self._watched: set[tuple[int, int, int]] = set()
        self._lengths: dict[int, list[int]] = {4: [], 6: []}
        self._covering: set[tuple[int, int, int]] = set()

    def update(self, targets: WatchTargets) -> None:
        """Follow ``targets`` from now on (prefixes and addresses the source was asked to watch)."""
        self.counts = (len(targets.prefixes), len(targets.addresses))
        self._all = bool(targets.asns)  # any prefix may turn out to be a watched ASN's
        self._watched = {(p.version, int(p.network_address) >> (_BITS[p.version] - p.prefixlen), p.prefixlen)
                         for p in targets.prefixes}
        self._lengths = {v: sorted({length for version, _, length in self._watched if version == v}) for v in _BITS}
        covering: set[tuple[int, int, int]] = set()
        for address in targets.addresses:
            bits, value = _BITS[address.version], int(address)
            covering.update((address.version, value >> (bits - length), length) for length in range(bits + 1))
        self._covering = covering

    def accept(self, version: int, network: int, length: int) -> bool:
        if self._all:
            return True
        bits = _BITS[version]
        if (version, network >> (bits - length), length) in self._covering:
            return True
        watched = self._watched
        for watched_length in self._lengths[version]:
            if watched_length > length:
                return False
            if (version, network >> (bits - watched_length), watched_length) in watched:
                return True
        return False
