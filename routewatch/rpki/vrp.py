"""Validated ROA Payloads: the (prefix, max length, origin AS) triples RPKI validation uses.

A VRP is what an RTR cache announces and what a relying party's JSON export
lists (RFC 6811 2). ``ta`` and ``expires`` are kept where the source gives
them (JSON exports do, RTR does not) because the expiry detector needs the
earliest ``expires`` of the VRPs that keep a prefix valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from routewatch.model import Prefix


@dataclass(frozen=True, slots=True)
class Vrp:
    """One VRP: ``asn`` may originate ``prefix`` and its more-specifics up to ``max_length``."""

    prefix: Prefix
    max_length: int
    asn: int
    ta: str = ""
    expires: float | None = None

    @property
    def identity(self) -> tuple[Prefix, int, int]:
        """What RTR announces and withdraws: the metadata is not part of it."""
        return self.prefix, self.max_length, self.asn

    def __str__(self) -> str:
        return f"{self.prefix}-{self.max_length} AS{self.asn}"


def check_vrp_shape(prefix: Prefix, max_length: int) -> None:
    """Raise ValueError when ``max_length`` is outside ``prefix``'s length and its family."""
    limit = prefix.max_prefixlen
    if not prefix.prefixlen <= max_length <= limit:
        raise ValueError(f"max length {max_length} outside {prefix.prefixlen}..{limit} for {prefix}")


class VrpSourceKind(StrEnum):
    """Where a VRP source gets its set."""

    RTR = "rtr"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class VrpSourceStatus:
    """A source's last good set and how fresh it is.

    A source that fails keeps its last good set and becomes ``stale``: a stale
    set is a state to export, never zero VRPs. ``last_update`` is None until
    the first set arrives, and then ``vrps`` is empty because nothing is known.
    """

    name: str
    kind: VrpSourceKind
    vrps: frozenset[Vrp] = frozenset()
    serial: int | None = None
    last_update: float | None = None
    stale: bool = True
    errors: int = 0
    detail: str = ""

    @property
    def loaded(self) -> bool:
        return self.last_update is not None


def merge_vrps(sources: Iterable[VrpSourceStatus]) -> frozenset[Vrp] | None:
    """The union of every loaded source's set; None while no source has ever loaded.

    None (not an empty set) lets the validator say ``unknown`` rather than
    calling every route not-found before the first VRP arrived.
    """
    loaded = [status.vrps for status in sources if status.loaded]
    if not loaded:
        return None
    return frozenset().union(*loaded)
