"""What a path may look like: declared neighbours of the origin and of a watched AS, and path rules.

An origin check passes a forged origin (``... AS64666 AS32934``) and a leak
through a customer; these policies catch both (ARTEMIS calls the first a
type-1 hijack; BGPalerter has monitorPathNeighbors and monitorPath):

- ``upstreams``: the ASes allowed directly left of the origin. A route of the
  prefix whose origin is expected but whose neighbour is not listed shows a
  forged origin or a new upstream;
- ``downstreams`` (of a watched AS): the ASes allowed directly right of it in
  a path, its customers. Another AS there is a leak through an undeclared
  customer, or a new customer;
- path rules, as BGPalerter writes them: a route triggers a rule when its path
  matches ``match`` (if given) and not ``not_match`` (if given), and, when a
  length bound is given, breaks it.

Absent lists are not checked; an empty list allows none (a stub network).
Prepending is collapsed before neighbours are read, so ``A B B B O`` has
``B`` left of ``O``. Path rules read the path as sent, prepends included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from routewatch.model import AsHop, AsPath, AsSet, Prefix


class WatchedRoute(Protocol):
    """What a policy reads of a watched prefix: ``core.watch.WatchedPrefix`` reaches these
    policies through the core's settings, so a protocol keeps the import one-way."""

    @property
    def prefix(self) -> Prefix: ...

    @property
    def origins(self) -> AsSet: ...

    def path_expected(self, path: AsPath) -> bool: ...


def collapse(path: AsPath) -> AsPath:
    """The path with prepending collapsed: each run of one hop kept once."""
    out: list[AsHop] = []
    for hop in path:
        if not out or out[-1] != hop:
            out.append(hop)
    return tuple(out)


def _text(path: AsPath, sep: str) -> str:
    return sep.join(str(hop) if type(hop) is int else "{" + ",".join(map(str, sorted(hop))) + "}"  # type: ignore[arg-type]
                    for hop in path)


@dataclass(frozen=True, slots=True)
class PathRule:
    """One rule; regular expressions written with commas read ``1,2,3``, others ``1 2 3``."""

    match: re.Pattern[str] | None = None
    not_match: re.Pattern[str] | None = None
    min_length: int | None = None
    max_length: int | None = None
    description: str = ""

    def triggered_by(self, path: AsPath) -> bool:
        # The length bounds are read first: a path that keeps within a given bound cannot trigger the
        # rule whatever the expressions say, so its text (the costly part, built for every judged path)
        # is only built for paths that break a bound. Measured in bench/RESULTS.md ("Paths and neighbours").
        if self.min_length is not None or self.max_length is not None:
            if not ((self.min_length is not None and len(path) < self.min_length)
                    or (self.max_length is not None and len(path) > self.max_length)):
                return False
        if self.match is not None and not self.match.search(_text(path, _sep(self.match))):
            return False
        return self.not_match is None or not self.not_match.search(_text(path, _sep(self.not_match)))


def _sep(pattern: re.Pattern[str]) -> str:
    return "," if "," in pattern.pattern else " "


@dataclass(frozen=True, slots=True)
class PathPolicy:
    """What one watched prefix (or the prefixes of one watched AS) allows; None = not checked."""

    upstreams: frozenset[int] | None = None
    downstreams: frozenset[int] | None = None
    rules: tuple[PathRule, ...] = ()
    new_prefixes: bool = False
    """For a watched AS: a prefix it originates that nobody listed is a ``new-prefix`` detection."""


@dataclass(frozen=True, slots=True)
class PathPolicies:
    """The policies by watched prefix and by watched AS.

    A prefix's ``upstreams`` are the ASes left of its origin; a watched AS's
    ``upstreams`` and ``downstreams`` hold wherever that AS appears in a path
    (BGPalerter's monitorPathNeighbors: in ``10 20 30 100 101``, AS30 is an
    upstream of AS100 and AS101 a downstream). Path rules are per prefix.
    """

    by_prefix: Mapping[Prefix, PathPolicy] = field(default_factory=dict)
    by_asn: Mapping[int, PathPolicy] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_prefix or self.by_asn)

    def for_watched(self, watched: WatchedRoute) -> PathPolicy | None:
        return self.by_prefix.get(watched.prefix)

    def neighbours(self) -> dict[int, tuple[frozenset[int] | None, frozenset[int] | None]]:
        """Watched ASes with declared upstreams or downstreams: AS -> (upstreams, downstreams)."""
        return {asn: (p.upstreams, p.downstreams) for asn, p in self.by_asn.items()
                if p.upstreams is not None or p.downstreams is not None}


Neighbours = Mapping[int, tuple[frozenset[int] | None, frozenset[int] | None]]


def new_neighbours(policy: PathPolicy | None, watched: WatchedRoute, path: AsPath, by_asn: Neighbours) -> set[int]:
    """The ASes in ``path`` that stand where the policies allow no such AS (empty: nothing new)."""
    found: set[int] = set()
    hops = collapse(path)
    if policy is not None and policy.upstreams is not None and len(hops) >= 2 and watched.path_expected(path):
        left = hops[-2]
        for asn in (left,) if type(left) is int else sorted(left):  # type: ignore[arg-type]
            if asn not in policy.upstreams and asn not in watched.origins:
                found.add(asn)  # type: ignore[arg-type]
    if by_asn:
        for i, hop in enumerate(hops):
            declared = by_asn.get(hop) if type(hop) is int else None  # type: ignore[call-overload]
            if declared is None:
                continue
            upstreams, downstreams = declared
            if upstreams is not None and i > 0 and type(hops[i - 1]) is int and hops[i - 1] not in upstreams:
                found.add(hops[i - 1])  # type: ignore[arg-type]
            if downstreams is not None and i + 1 < len(hops) and type(hops[i + 1]) is int \
                    and hops[i + 1] not in downstreams:
                found.add(hops[i + 1])  # type: ignore[arg-type]
    return found


def upstream_of(path: AsPath) -> int | None:
    """The AS directly left of the origin, prepending collapsed (None: none, or an AS_SET)."""
    hops = collapse(path)
    return hops[-2] if len(hops) >= 2 and type(hops[-2]) is int else None  # type: ignore[return-value]
