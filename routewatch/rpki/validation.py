"""RFC 6811 route origin validation over a prefix trie.

Validating a route is a longest-match lookup and a walk up the (few) covering
VRP prefixes, never a scan of the set: ``pytricia`` keeps one Patricia trie
per family, each node holding the VRPs of exactly that prefix. The index is
built once per VRP set (a set changes on an RTR End of Data or a JSON reload,
routes are validated on every update).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import pytricia

from routewatch.model import AsPath, Prefix
from routewatch.rpki.vrp import Vrp, VrpSet, packed_asn, packed_max_length, packed_prefix_key


class RpkiState(StrEnum):
    """A route's RFC 6811 state; ``unknown`` while no VRP set has been loaded."""

    VALID = "valid"
    INVALID = "invalid"
    NOT_FOUND = "not-found"
    UNKNOWN = "unknown"


class InvalidReason(StrEnum):
    """Why an invalid route is invalid: the usual mistake is a ROA edit, and the two need different fixes."""

    WRONG_ORIGIN = "wrong-origin"
    TOO_LONG = "too-long"


@dataclass(frozen=True, slots=True)
class RpkiOutcome:
    """A route's state, why it is invalid, and the VRPs that cover it (the evidence).

    The covering VRPs are kept as the index holds them, packed, and unpacked
    only when asked for: every route under a watched prefix is validated, but
    only a detection's evidence lists VRPs, and unpacking (an ``ipaddress``
    network per VRP) cost more than the trie lookup itself.
    """

    state: RpkiState
    reason: InvalidReason | None = None
    packed_covering: tuple[int, ...] = ()


UNKNOWN_OUTCOME = RpkiOutcome(RpkiState.UNKNOWN)
NOT_FOUND_OUTCOME = RpkiOutcome(RpkiState.NOT_FOUND)


def path_origin(path: AsPath) -> int | None:
    """The origin AS for validation; None for an empty path or an AS_SET (which matches no VRP, RFC 6811 2)."""
    if not path:
        return None
    last = path[-1]
    return last if isinstance(last, int) else None


class VrpIndex:
    """An immutable VRP set indexed for validation: each trie node holds its prefix's VRPs, packed."""

    __slots__ = ("_tries", "vrps")

    def __init__(self, vrps: Iterable[Vrp] | VrpSet) -> None:
        self.vrps = vrps if isinstance(vrps, VrpSet) else VrpSet(vrps)
        self._tries = {4: pytricia.PyTricia(32), 6: pytricia.PyTricia(128)}
        # Grouped first: pytricia's get() is a longest-prefix match, not an exact lookup.
        by_prefix: dict[tuple[int, int, int], list[int]] = {}
        for packed in self.vrps.packed:
            by_prefix.setdefault(packed_prefix_key(packed), []).append(packed)
        for (version, network, length), group in by_prefix.items():
            prefix = (ipaddress.IPv6Network if version == 6 else ipaddress.IPv4Network)((network, length))
            self._tries[version][prefix] = tuple(group)

    def __len__(self) -> int:
        return len(self.vrps)

    def packed_covering(self, prefix: Prefix) -> Iterator[int]:
        """Every VRP covering ``prefix`` as the index holds it, packed (see ``Vrp.unpack``), most specific first."""
        trie = self._tries[prefix.version]
        key = trie.get_key(prefix)
        while key is not None:
            yield from trie[key]
            key = trie.parent(key)

    def covering(self, prefix: Prefix) -> Iterator[Vrp]:
        """Every VRP whose prefix equals or covers ``prefix``, most specific first."""
        return map(Vrp.unpack, self.packed_covering(prefix))

    def validate(self, prefix: Prefix, origin: int | None) -> RpkiOutcome:
        """RFC 6811 3: valid if a covering VRP matches origin and length; invalid if covered otherwise."""
        covering = tuple(self.packed_covering(prefix))
        if not covering:
            return NOT_FOUND_OUTCOME
        length = prefix.prefixlen
        too_long = False
        if origin is not None and origin != 0:
            for packed in covering:
                if packed_asn(packed) == origin:
                    if length <= packed_max_length(packed):
                        return RpkiOutcome(RpkiState.VALID, None, covering)
                    too_long = True
        reason = InvalidReason.TOO_LONG if too_long else InvalidReason.WRONG_ORIGIN
        return RpkiOutcome(RpkiState.INVALID, reason, covering)

    def validate_path(self, prefix: Prefix, path: AsPath) -> RpkiOutcome:
        """Validate a route by its AS path's origin (an AS_SET origin is never valid)."""
        return self.validate(prefix, path_origin(path))


def validate_with(index: VrpIndex | None, prefix: Prefix, path: AsPath) -> RpkiOutcome:
    """The route's outcome, or ``unknown`` when no VRP set is loaded yet."""
    return UNKNOWN_OUTCOME if index is None else index.validate_path(prefix, path)
