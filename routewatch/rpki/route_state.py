"""A route's RPKI state as a person reads it: invalid split by its fix, unknown without VRPs.

RFC 6811 has three states; a one-off check shows why an invalid route is
invalid (``invalid-origin``: no covering ROA names its origin AS;
``invalid-length``: one does, but for a shorter max length), because the two
take different ROA edits. ``unknown`` is no VRP set at all, never a guess.
"""

from __future__ import annotations

from enum import StrEnum

from routewatch.model import Prefix
from routewatch.rpki.validation import InvalidReason, RpkiOutcome, RpkiState, VrpIndex


class RouteRpkiState(StrEnum):
    """One route's state: RFC 6811's, with invalid split into its two reasons."""

    VALID = "valid"
    INVALID_ORIGIN = "invalid-origin"
    INVALID_LENGTH = "invalid-length"
    NOT_FOUND = "not-found"
    UNKNOWN = "unknown"


def route_state(outcome: RpkiOutcome) -> RouteRpkiState:
    if outcome.state == RpkiState.INVALID:
        too_long = outcome.reason == InvalidReason.TOO_LONG
        return RouteRpkiState.INVALID_LENGTH if too_long else RouteRpkiState.INVALID_ORIGIN
    return RouteRpkiState(outcome.state.value)


def route_state_in(index: VrpIndex | None, prefix: Prefix, origin: int | None) -> RouteRpkiState:
    """The state of ``prefix`` from ``origin`` (None: an AS_SET or no origin, which no VRP matches)."""
    if index is None:
        return RouteRpkiState.UNKNOWN
    return route_state(index.validate(prefix, origin))
