"""What a DNS probe is aimed at, and the bounded vocabularies its results use.

A target is one address of one nameserver of one zone: probing each address on
its own is the point, because a stub resolver fails over between servers and
would hide the one that went dark.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Transport(StrEnum):
    """How a probe was carried; TCP-only breakage is real, so both are labelled."""

    UDP = "udp"
    TCP = "tcp"


class ProbeFailure(StrEnum):
    """Why a probe did not find a healthy authoritative answer (a bounded label set)."""

    TIMEOUT = "timeout"
    REFUSED = "refused"
    SERVFAIL = "servfail"
    NOT_AUTHORITATIVE = "not-authoritative"
    WRONG_ANSWER = "wrong-answer"
    UNREACHABLE = "unreachable"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """One (zone, nameserver, address) triple; names are lower-case and absolute."""

    zone: str
    nameserver: str
    address: str


def cap_targets(targets: list[Target], limit: int) -> tuple[tuple[Target, ...], int]:
    """Keep at most ``limit`` targets per zone, in a stable order; return them and how many were dropped.

    The order is by nameserver then address so that the same discovery keeps
    the same series; the dropped ones are counted, never silently forgotten.
    """
    by_zone: dict[str, list[Target]] = {}
    for target in sorted(set(targets)):
        by_zone.setdefault(target.zone, []).append(target)
    kept: list[Target] = []
    dropped = 0
    for zone_targets in by_zone.values():
        kept.extend(zone_targets[:limit])
        dropped += max(0, len(zone_targets) - limit)
    return tuple(kept), dropped
