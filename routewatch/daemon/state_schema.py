"""The state file's schema: what a saved state must look like before any of it is used.

A state file is input like any other: written by an older version, edited by
hand, cut short by a full disk, or damaged. Loading it half-way and failing
would leave the core half-restored, and failing on every start would make a
service manager restart the daemon forever. So the whole file is checked first
(shape with pydantic, then what the shape cannot say: peer indices within the
peer table, prefixes and addresses that parse, times in range), and every
problem is reported with the path of the bad value, e.g.
``trackers['192.0.2.0/24'].frozen[0]: Input should be a valid integer``.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from routewatch.core.detection import DetectionKind
from routewatch.errors import StateError
from routewatch.model import parse_prefix

FORMAT_VERSION = 1
"""The ``version`` a state file must carry (``SavedState.version``)."""
MAX_TIME = float(2**32)
"""No BGP source stamps beyond 2^32 s (MRT and BMP timestamps are 32-bit): a later time is damage."""
MAX_PROBLEMS = 50
"""Problems reported of one file: enough to see what is wrong, bounded for a file wrong everywhere."""
CLOCK_TOLERANCE = 300.0
"""How far a live daemon's restored data time may be ahead of the wall clock (collector clocks drift a little)."""


def _time(value: float) -> float:
    if not math.isfinite(value) or not 0 <= value <= MAX_TIME:
        raise ValueError(f"a time must be finite and between 0 and 2^32 seconds, got {value!r}")
    return value


Time = Annotated[float, AfterValidator(_time)]
Index = Annotated[StrictInt, Field(ge=0)]
Asn = Annotated[StrictInt, Field(ge=0, le=2**32 - 1)]
AsHop = Asn | list[Asn]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SavedDetection(_Strict):
    kind: DetectionKind
    prefix: StrictStr
    watched: StrictStr
    start: Time
    description: StrictStr = ""
    evidence: dict[str, Any] = {}


class SavedTracker(_Strict):
    origins: list[Asn]
    source: StrictStr
    description: StrictStr
    exported: StrictBool
    holders: list[tuple[Index, Time | None]]
    last_held: list[tuple[Index, Time]]
    frozen: list[Index] | None
    below_since: Time | None
    open: SavedDetection | None
    ever_seen: StrictBool


class SavedPastHolders(_Strict):
    holders: list[tuple[Index, Time | None]]
    last_held: list[tuple[Index, Time]]


class SavedAddress(_Strict):
    service: list[StrictStr]
    learning: StrictBool
    origins: list[Asn]
    zone: StrictStr
    exported: StrictBool


class SavedSessions(_Strict):
    down: list[Index]
    settle_until: list[tuple[Index, Time]]
    stale: list[StrictStr]
    known: list[StrictStr]


class SavedState(_Strict):
    version: Literal[1]
    now: Time
    peers: list[tuple[StrictStr, StrictStr, Asn]]
    routes: dict[str, list[tuple[Index, Annotated[StrictInt, Field(ge=1, le=255)],
                                 Annotated[StrictInt, Field(ge=0, le=2**32 - 1)], list[AsHop]]]]
    trackers: dict[str, SavedTracker]
    anomalies: list[SavedDetection]
    addresses: dict[str, SavedAddress]
    past: dict[str, SavedPastHolders] = {}  # absent from files written before it was kept
    sessions: SavedSessions
    asn_prefix_count: dict[str, Annotated[StrictInt, Field(ge=0)]]


def validate_state(data: bytes, *, wall_clock: float | None = None) -> SavedState:
    """The checked state from a state file's bytes, or StateError listing every problem with its path.

    ``wall_clock`` (live daemons) refuses a state whose data time is ahead of
    now: restoring it would hold every hold-down until the wall clock caught up.
    """
    try:
        state = SavedState.model_validate_json(data)
    except ValidationError as exc:
        raise StateError([f"{_path(e['loc'])}: {e['msg']}" for e in exc.errors()[:MAX_PROBLEMS]]) from None
    problems = _semantic_problems(state)
    if wall_clock is not None and state.now > wall_clock + CLOCK_TOLERANCE:
        problems.append(f"now: the saved data time {state.now:.0f} is {state.now - wall_clock:,.0f} s ahead of "
                        "the wall clock; a clock that far ahead would hold every hold-down open")
    if problems:
        raise StateError(problems[:MAX_PROBLEMS])
    return state


def _semantic_problems(state: SavedState) -> list[str]:
    """What the shape cannot say: indices into the peer table, prefixes and addresses that parse."""
    peers = len(state.peers)
    problems: list[str] = []

    def index(where: str, value: int) -> None:
        if value >= peers:
            problems.append(f"{where}: peer index {value} is outside the peer table ({peers} peers)")

    def prefix(where: str, text: str) -> None:
        try:
            parse_prefix(text)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")

    for text, entries in state.routes.items():
        prefix(f"routes[{text!r}]", text)
        for i, entry in enumerate(entries):
            index(f"routes[{text!r}][{i}][0]", entry[0])
    for text, tracker in state.trackers.items():
        where = f"trackers[{text!r}]"
        prefix(where, text)
        for i, (peer, _) in enumerate(tracker.holders):
            index(f"{where}.holders[{i}][0]", peer)
        for i, (peer, _) in enumerate(tracker.last_held):
            index(f"{where}.last_held[{i}][0]", peer)
        for i, peer in enumerate(tracker.frozen or ()):
            index(f"{where}.frozen[{i}]", peer)
    for text, past in state.past.items():
        where = f"past[{text!r}]"
        prefix(where, text)
        for i, (peer, _) in enumerate(past.holders):
            index(f"{where}.holders[{i}][0]", peer)
        for i, (peer, _) in enumerate(past.last_held):
            index(f"{where}.last_held[{i}][0]", peer)
    for i, detection in enumerate(state.anomalies):
        prefix(f"anomalies[{i}].prefix", detection.prefix)
        prefix(f"anomalies[{i}].watched", detection.watched)
    for text, address in state.addresses.items():
        try:
            ipaddress.ip_address(text)
        except ValueError as exc:
            problems.append(f"addresses[{text!r}]: {exc}")
        for i, service in enumerate(address.service):
            prefix(f"addresses[{text!r}].service[{i}]", service)
    for i, peer in enumerate(state.sessions.down):
        index(f"sessions.down[{i}]", peer)
    for i, (peer, _) in enumerate(state.sessions.settle_until):
        index(f"sessions.settle_until[{i}][0]", peer)
    for key in state.asn_prefix_count:
        if not key.isdigit():
            problems.append(f"asn_prefix_count[{key!r}]: expected an AS number")
    return problems


def _path(loc: tuple[int | str, ...]) -> str:
    """``("trackers", "192.0.2.0/24", "frozen", 0)`` -> ``trackers['192.0.2.0/24'].frozen[0]``."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i > 0 and loc[0] in ("routes", "trackers", "past", "addresses", "asn_prefix_count") and i == 1:
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"
