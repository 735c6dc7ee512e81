"""RIPEstat's ``rpki-validation`` data call: one (origin AS, prefix) pair's state, by RIPE NCC's validator.

RIPEstat validates with Routinator against the RIPE NCC's own view of the
RPKI; ``check prefix`` over RIPEstat shows that, as routewatch has no VRP set
of its own there. The documented states are ``valid``, ``invalid_asn``,
``invalid_length`` and ``unknown`` (no covering ROA: RFC 6811's not-found);
any other answer is not guessed at and reads ``unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routewatch.errors import RipestatError
from routewatch.model import Prefix
from routewatch.rpki.route_state import RouteRpkiState
from routewatch.sources.ripestat.client import RipestatClient

_STATES = {
    "valid": RouteRpkiState.VALID,
    "invalid_asn": RouteRpkiState.INVALID_ORIGIN,
    "invalid_length": RouteRpkiState.INVALID_LENGTH,
    "unknown": RouteRpkiState.NOT_FOUND,
}


@dataclass(frozen=True, slots=True)
class RipestatRpkiAnswer:
    """The state RIPEstat gives one route, and the validator that gave it."""

    state: RouteRpkiState
    validator: str


def parse_rpki_validation(payload: Mapping[str, Any]) -> RipestatRpkiAnswer:
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise RipestatError("RIPEstat's rpki-validation answer has no 'data' object")
    status = data.get("status")
    return RipestatRpkiAnswer(_STATES.get(status, RouteRpkiState.UNKNOWN) if isinstance(status, str)
                              else RouteRpkiState.UNKNOWN, str(data.get("validator") or "RIPEstat"))


async def rpki_validation(client: RipestatClient, asn: int, prefix: Prefix) -> RipestatRpkiAnswer:
    """The state of ``prefix`` originated by ``asn``, as RIPEstat's validator sees it."""
    payload = await client.data_call("rpki-validation", {"resource": str(asn), "prefix": str(prefix)})
    return parse_rpki_validation(payload)
