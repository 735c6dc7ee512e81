"""Visibility computed straight from ``bgpdump -m`` text: the oracle of the check commands.

For a prefix, a peer is visible when its last element for the prefix is an
announcement with an expected origin (any origin when none is expected) and its
session has not gone down (a STATE line to a state other than 6) since. A peer
*carried* the prefix when it announced it at some point and its session did not
go down afterwards. Several files are merged in time order, RIB dumps first.
"""

from __future__ import annotations

import functools
import heapq
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.bgpdump import bgpdump_lines
from tests.support.bgpdump_format import BgpdumpLine

PeerKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class OracleVisibility:
    visible: int
    visible_asns: int
    carried: int
    origins: dict[str, int]  # origin token ("3333" or "{1,2}") -> peers whose last route has it


def _origin_ok(path: str, expected: frozenset[int]) -> bool:
    tokens = path.split()
    if not tokens:
        return False
    last = tokens[-1]
    members = {int(m) for m in last.strip("{}").split(",")} if last.startswith("{") else {int(last)}
    return members <= expected if expected else True


@functools.cache
def _prefix(text: str) -> str:
    return str(ipaddress.ip_network(text))


@functools.cache
def _address(text: str) -> str:
    return str(ipaddress.ip_address(text))


@functools.cache
def cached_lines(path: Path) -> tuple[BgpdumpLine, ...]:
    return tuple(bgpdump_lines(path))


def merged_lines(paths: Sequence[Path]) -> list[BgpdumpLine]:
    """Lines of several files in time order; RIB dumps (TABLE_DUMP*) before updates of the same second."""
    parsed = [cached_lines(p) for p in paths]
    ribs = [lines for lines in parsed if lines and lines[0].record.startswith("TABLE_DUMP")]
    rest = [lines for lines in parsed if not (lines and lines[0].record.startswith("TABLE_DUMP"))]
    return list(heapq.merge(*ribs, *rest, key=lambda line: line.time))


@dataclass
class _PrefixState:
    last: dict[PeerKey, BgpdumpLine] = field(default_factory=dict)
    carried: set[PeerKey] = field(default_factory=set)


def replay(lines: Iterable[BgpdumpLine]) -> dict[str, _PrefixState]:
    """Per canonical prefix: each peer's last element and the peers that carried it (one pass)."""
    states: dict[str, _PrefixState] = {}
    held: dict[PeerKey, set[str]] = {}
    for line in lines:
        peer = (_address(line.peer_address), line.peer_asn)
        if line.kind == "STATE":
            if line.new_state != 6:
                for prefix in held.pop(peer, set()):
                    states[prefix].last.pop(peer, None)
                    states[prefix].carried.discard(peer)
            continue
        prefix = _prefix(line.prefix)
        state = states.setdefault(prefix, _PrefixState())
        held.setdefault(peer, set()).add(prefix)
        if line.is_announcement:
            state.last[peer] = line
            state.carried.add(peer)
        else:
            state.last.pop(peer, None)
    return states


def judge(states: Mapping[str, _PrefixState], prefix: str, expected: Iterable[int] = ()) -> OracleVisibility:
    state = states.get(_prefix(prefix), _PrefixState())
    expect = frozenset(expected)
    visible = [peer for peer, line in state.last.items() if _origin_ok(line.as_path, expect)]
    origins: dict[str, int] = {}
    for line in state.last.values():
        token = line.as_path.split()[-1] if line.as_path.split() else ""
        origins[token] = origins.get(token, 0) + 1
    return OracleVisibility(len(visible), len({asn for _, asn in visible}), len(state.carried), origins)


def visibility(lines: Iterable[BgpdumpLine], prefix: str, expected: Iterable[int] = ()) -> OracleVisibility:
    return judge(replay(lines), prefix, expected)


def prefixes_originated(lines: Iterable[BgpdumpLine], asn: int) -> set[str]:
    """Prefixes some peer's last route (session still up) has ``asn`` as its single origin."""
    last: dict[tuple[PeerKey, str], BgpdumpLine] = {}
    for line in lines:
        peer = (_address(line.peer_address), line.peer_asn)
        if line.kind == "STATE":
            if line.new_state != 6:
                for key in [k for k in last if k[0] == peer]:
                    del last[key]
            continue
        key = (peer, _prefix(line.prefix))
        if line.is_announcement:
            last[key] = line
        else:
            last.pop(key, None)
    found = set()
    for (_, prefix), line in last.items():
        tokens = line.as_path.split()
        if tokens and tokens[-1].strip("{}") == str(asn):
            found.add(prefix)
    return found
