"""Judging a zone from its probe results (pure functions, clock passed in).

Each check answers with a state that can be ``unknown``: an alert on "serials
disagree" must neither fire nor resolve because no serial was seen at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import dns.serial

from routewatch.core.routes import RouteView

_SERIAL_SPACE = 1 << 32
"""SOA serials are 32-bit (RFC 1982 SERIAL_BITS)."""


class Agreement(StrEnum):
    """Whether two views of the same thing match."""

    AGREE = "agree"
    DISAGREE = "disagree"
    UNKNOWN = "unknown"


class SerialState(StrEnum):
    """SOA serial agreement across a zone's answering servers.

    ``converging`` is a disagreement younger than the grace period: a new
    serial is on its way to the secondaries, which is normal for a while.
    """

    AGREE = "agree"
    CONVERGING = "converging"
    DISAGREE = "disagree"
    UNKNOWN = "unknown"


class ZoneVerdict(StrEnum):
    """The one-word answer for a zone; ``check zone`` turns it into its exit code."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"

    @property
    def exit_code(self) -> int:
        return {"healthy": 0, "degraded": 1, "down": 2, "unknown": 3}[self.value]


@dataclass(frozen=True, slots=True)
class Diversity:
    """Whether every nameserver address sits in one prefix, or behind one origin AS.

    Either is a standing risk (one withdrawal takes the whole zone down, as on
    2021-10-04); None means the routing facts were not available for every
    address, so the question cannot be answered yet.
    """

    single_prefix: bool | None
    single_origin: bool | None
    prefixes: tuple[str, ...] = ()
    origins: tuple[int, ...] = ()


def compare_serials(a: int, b: int) -> int | None:
    """-1 if ``a`` precedes ``b``, 0 if equal, 1 if ``a`` follows ``b`` (RFC 1982, 32 bits).

    None where RFC 1982 leaves it undefined: the pair exactly half the serial
    space apart, where neither is newer. The arithmetic is dnspython's
    :class:`dns.serial.Serial`; serials wrap, so 4294967295 precedes 1.
    """
    left, right = dns.serial.Serial(a % _SERIAL_SPACE), dns.serial.Serial(b % _SERIAL_SPACE)
    if left == right:
        return 0
    if left < right:
        return -1
    return 1 if left > right else None


def newest_serial(serials: Iterable[int]) -> int | None:
    """The serial every other one precedes or equals, or None when the set has no such member.

    With serials spread over more than half the space there is no newest one
    (RFC 1982 is not a total order), and saying so beats picking one at random.
    """
    values = sorted({s % _SERIAL_SPACE for s in serials})
    for candidate in values:
        if all(compare_serials(other, candidate) in (-1, 0) for other in values):
            return candidate
    return None


def ns_set_agreement(parent: frozenset[str] | None, child: frozenset[str] | None) -> Agreement:
    """Parent delegation versus the zone's own NS set (names compared as lower-case absolute text)."""
    if parent is None or child is None:
        return Agreement.UNKNOWN
    return Agreement.AGREE if parent == child else Agreement.DISAGREE


def serials_agree(serials: Iterable[int]) -> Agreement:
    """All equal in RFC 1982 terms (so 0 and 2**32 agree); unknown when none were seen."""
    values = list(serials)
    if not values:
        return Agreement.UNKNOWN
    first = values[0]
    return Agreement.AGREE if all(compare_serials(first, s) == 0 for s in values) else Agreement.DISAGREE


def serial_state(agreement: Agreement, disagreeing_since: float | None, now: float, grace: float) -> SerialState:
    """Fold the time a disagreement has lasted into the state; ``disagreeing_since`` is when it began."""
    if agreement is Agreement.UNKNOWN:
        return SerialState.UNKNOWN
    if agreement is Agreement.AGREE:
        return SerialState.AGREE
    if disagreeing_since is not None and now - disagreeing_since < grace:
        return SerialState.CONVERGING
    return SerialState.DISAGREE


def lagging(serials: Mapping[str, int]) -> tuple[str, ...]:
    """The keys whose serial is behind the newest one (none when there is no newest, see RFC 1982)."""
    newest = newest_serial(serials.values())
    if newest is None:
        return ()
    return tuple(sorted(key for key, serial in serials.items() if compare_serials(serial, newest) == -1))


def diversity(addresses: Iterable[str], routes: Mapping[str, RouteView | None]) -> Diversity:
    """Diversity of ``addresses`` given the route covering each (absent or None: not known)."""
    wanted = sorted(set(addresses))
    if not wanted:
        return Diversity(None, None)
    known = [routes[a] for a in wanted if routes.get(a) is not None]
    complete = len(known) == len(wanted)
    prefixes = sorted({str(view.prefix) for view in known if view is not None})
    origins = sorted({view.origin for view in known if view is not None and view.origin is not None})
    origins_complete = complete and all(view is not None and view.origin is not None for view in known)
    return Diversity(
        _single(len(prefixes), complete),
        _single(len(origins), origins_complete),
        tuple(prefixes),
        tuple(origins),
    )


def down_reason(verdict: ZoneVerdict, *, delegated: bool) -> str:
    """Why the zone is down, in words (empty for any other verdict)."""
    if verdict is not ZoneVerdict.DOWN:
        return ""
    return NOT_DELEGATED if not delegated else NO_ADDRESS_ANSWERS


def _single(distinct: int, complete: bool) -> bool | None:
    if distinct > 1:
        return False
    return True if complete and distinct == 1 else None


NOT_DELEGATED = "the parent answers NXDOMAIN for the zone: its delegation is gone"
NO_ADDRESS_ANSWERS = "no nameserver address answers"


def zone_verdict(
    addresses_up: int,
    addresses_total: int,
    *,
    delegated: bool = True,
    ns_sets: Agreement = Agreement.UNKNOWN,
    serials: SerialState = SerialState.UNKNOWN,
    discovery_ok: bool = True,
    resolvers_failing: int = 0,
    queries_failing: int = 0,
) -> ZoneVerdict:
    """Healthy only when every address answers, nothing disagrees and every configured query passes
    everywhere; down when none answers, or when the parent says the zone does not exist (resolvers
    ask the parent first: whatever the zone's own servers still answer, nobody is sent to them)."""
    if not delegated:
        return ZoneVerdict.DOWN
    if addresses_total == 0:
        return ZoneVerdict.UNKNOWN
    if addresses_up == 0:
        return ZoneVerdict.DOWN
    problems = (
        addresses_up < addresses_total,
        ns_sets is Agreement.DISAGREE,
        serials is SerialState.DISAGREE,
        not discovery_ok,
        resolvers_failing > 0,
        queries_failing > 0,
    )
    return ZoneVerdict.DEGRADED if any(problems) else ZoneVerdict.HEALTHY
