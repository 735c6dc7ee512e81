"""What parsing one RIS Live message gives: its kind, its events, and the tally of what was not used.

The values :class:`~routewatch.sources.ris_live.parse.RisParser` returns and
counts into, apart from the parser so that the feed, the client and the tests
name them without the parsing machinery.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from routewatch.model import Event
from routewatch.slot_init import init_through_slots

#: Types the feed sends that routewatch deliberately does not use.
IGNORED_TYPES = frozenset({"OPEN", "NOTIFICATION", "ris_rrc_list"})
#: The counter key for any type not known at all.
UNKNOWN_TYPE = "unknown"


class FrameKind(StrEnum):
    """What one websocket message turned out to be."""

    UPDATE = "update"
    PEER_STATE = "peer-state"
    KEEPALIVE = "keepalive"
    SUBSCRIBE_OK = "subscribe-ok"
    PONG = "pong"
    ERROR = "error"
    IGNORED = "ignored"
    MALFORMED = "malformed"


@init_through_slots
@dataclass(frozen=True, slots=True)
class RisFrame:
    """One parsed message: its events and what the feed-health tracker needs.

    ``collector`` and ``timestamp`` are set for every ``ris_message`` whose
    header could be read (ignored types too: any message proves its collector
    is alive). ``detail`` is the ``ris_error`` text or what was malformed.
    """

    kind: FrameKind
    events: tuple[Event, ...] = ()
    collector: str | None = None
    timestamp: float | None = None
    detail: str = ""
    subscription: Mapping[str, Any] | None = None


@dataclass(slots=True)
class RisTally:
    """Counts of what was not turned into events, by bounded name."""

    malformed: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    errors: int = 0

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


class MalformedRisMessage(Exception):
    """What the careful reading found malformed; ``reason`` is a fixed word used as the counter key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def normalise_host(host: str) -> str:
    """``rrc25.ripe.net`` and ``RRC25`` are collector ``rrc25``."""
    name = host.strip().lower()
    if name.endswith(".ripe.net"):
        name = name[: -len(".ripe.net")]
    return name
