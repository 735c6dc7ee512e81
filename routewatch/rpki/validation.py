"""RFC 6811 route origin validation over a prefix trie.

Validating a route is a longest-match lookup and a walk up the (few) covering
VRP prefixes, never a scan of the set: ``pytricia`` keeps one Patricia trie
per family, each node holding the VRPs of exactly that prefix. The index is
built once per VRP set (a set changes on an RTR End of Data or a JSON reload,
routes are validated on every update).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import pytricia

from routewatch.model import AsPath, Prefix
from routewatch.rpki.vrp import Vrp


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
    """A route's state, why it is invalid, and the VRPs that cover it (the evidence)."""

    state: RpkiState
    reason: InvalidReason | None = None
    covering: tuple[Vrp, ...] = ()


UNKNOWN_OUTCOME = RpkiOutcome(RpkiState.UNKNOWN)
NOT_FOUND_OUTCOME = RpkiOutcome(RpkiState.NOT_FOUND)


def path_origin(path: AsPath) -> int | None:
    """The origin AS for validation; None for an empty path or an AS_SET (which matches no VRP, RFC 6811 2)."""
    if not path:
        return None
    last = path[-1]
    return last if isinstance(last, int) else None


class VrpIndex:
    """An immutable VRP set indexed for validation."""

    __slots__ = ("_tries", "_count", "vrps")

    def __init__(self, vrps: Iterable[Vrp]) -> None:
        self.vrps = frozenset(vrps)
        self._tries = {4: pytricia.PyTricia(32), 6: pytricia.PyTricia(128)}
        # Grouped first: pytricia's get() is a longest-prefix match, not an exact lookup.
        by_prefix: dict[Prefix, list[Vrp]] = {}
        for vrp in self.vrps:
            by_prefix.setdefault(vrp.prefix, []).append(vrp)
        for prefix, group in by_prefix.items():
            self._tries[prefix.version][prefix] = tuple(group)
        self._count = len(self.vrps)

    def __len__(self) -> int:
        return self._count

    def covering(self, prefix: Prefix) -> Iterator[Vrp]:
        """Every VRP whose prefix equals or covers ``prefix``, most specific first."""
        trie = self._tries[prefix.version]
        key = trie.get_key(prefix)
        while key is not None:
            yield from trie[key]
            key = trie.parent(key)

    def validate(self, prefix: Prefix, origin: int | None) -> RpkiOutcome:
        """RFC 6811 3: valid if a covering VRP matches origin and length; invalid if covered otherwise."""
        covering = tuple(self.covering(prefix))
        if not covering:
            return NOT_FOUND_OUTCOME
        length = prefix.prefixlen
        too_long = False
        if origin is not None and origin != 0:
            for vrp in covering:
                if vrp.asn == origin:
                    if length <= vrp.max_length:
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
