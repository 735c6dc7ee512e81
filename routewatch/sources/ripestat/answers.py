"""What RIPEstat's answers read as: frozen values, and the error of one entry that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass

from routewatch.model import Prefix


class MalformedEntry(ValueError):
    """One entry of an answer could not be read; it is skipped and counted."""


@dataclass(frozen=True, slots=True)
class Visibility:
    """RIPEstat's own visibility: full-table RIS peers seeing the resource, of all of them."""

    seeing: int
    total: int

    @property
    def ratio(self) -> float | None:
        return self.seeing / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class SeenAt:
    """When (and as what) a resource was first or last seen in BGP."""

    time: float | None
    origin: int | None
    prefix: Prefix | None


@dataclass(frozen=True, slots=True)
class RelatedPrefix:
    """A less- or more-specific prefix and its origin, as routing-status lists them."""

    prefix: Prefix
    origin: int | None


@dataclass(frozen=True, slots=True)
class RoutingStatus:
    """The ``routing-status`` data call: a summary of the resource's current routing."""

    resource: str
    time: float | None
    origins: tuple[int, ...]
    visibility_v4: Visibility | None
    visibility_v6: Visibility | None
    first_seen: SeenAt | None
    last_seen: SeenAt | None
    less_specifics: tuple[RelatedPrefix, ...] = ()
    more_specifics: tuple[RelatedPrefix, ...] = ()

    def visibility(self, version: int) -> Visibility | None:
        return self.visibility_v4 if version == 4 else self.visibility_v6
