"""The RPKI state of every route a ``check prefix`` report shows: from a VRP set, or from RIPEstat.

A route here is one (prefix, origin) of the report, which is all RFC 6811
looks at. Offline (``--mrt``, ``--bgpstream``) the states come from the
config's ``rpki`` sources, loaded once; over RIPEstat from its
``rpki-validation`` data call, one call per route, so a report asks about at
most :data:`MAX_RIPESTAT_LOOKUPS` routes and shows the rest as ``unknown``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

from routewatch.errors import RipestatError
from routewatch.model import Prefix
from routewatch.rpki.route_state import RouteRpkiState, route_state_in
from routewatch.rpki.validation import VrpIndex
from routewatch.sources.ripestat import RipestatClient
from routewatch.sources.ripestat.rpki import rpki_validation
from routewatch.tools.reports import OriginView, PrefixReport, PrefixView

#: A route: its prefix and its origin AS (None for an AS_SET or no origin, which matches no VRP).
RouteKey = tuple[Prefix, int | None]
MAX_RIPESTAT_LOOKUPS = 64


def route_key(prefix: Prefix, view: OriginView) -> RouteKey:
    single = len(view.origins) == 1 and not view.as_set
    return prefix, view.origins[0] if single else None


def _views(report: PrefixReport) -> list[PrefixView]:
    return ([report.exact] if report.exact else []) + list(report.more_specifics)


def route_keys(report: PrefixReport) -> list[RouteKey]:
    """Every route of the report once, in the order the report shows them."""
    keys = (route_key(view.prefix, origin) for view in _views(report) for origin in view.origins)
    return list(dict.fromkeys(keys))


def with_rpki(report: PrefixReport, states: Mapping[RouteKey, RouteRpkiState], basis: str) -> PrefixReport:
    """``report`` with each route's state (``unknown`` where ``states`` has none) and where they come from."""

    def annotated(view: PrefixView) -> PrefixView:
        origins = tuple(replace(o, rpki=states.get(route_key(view.prefix, o), RouteRpkiState.UNKNOWN))
                        for o in view.origins)
        return replace(view, origins=origins)

    return replace(report, exact=annotated(report.exact) if report.exact else None,
                   more_specifics=tuple(annotated(v) for v in report.more_specifics), rpki_basis=basis)


def with_vrps(report: PrefixReport, index: VrpIndex | None, basis: str) -> PrefixReport:
    """Each route validated against ``index`` (every one ``unknown`` when there is no VRP set)."""
    return with_rpki(report, {key: route_state_in(index, *key) for key in route_keys(report)}, basis)


async def with_ripestat_rpki(report: PrefixReport, client: RipestatClient) -> PrefixReport:
    """Each route's state from RIPEstat's validator; a failed lookup leaves its route ``unknown`` and says so.

    RPKI is one column of a visibility answer: a lookup failing does not make
    the whole check fail. An AS_SET origin cannot be asked about (RIPEstat
    takes one AS), so it reads ``unknown`` here.
    """
    asked = [(prefix, asn) for prefix, asn in route_keys(report) if asn is not None][:MAX_RIPESTAT_LOOKUPS]
    answers = await asyncio.gather(*(rpki_validation(client, asn, prefix) for prefix, asn in asked),
                                   return_exceptions=True)
    states: dict[RouteKey, RouteRpkiState] = {}
    validators: set[str] = set()
    failures: list[str] = []
    for key, answer in zip(asked, answers, strict=True):
        if isinstance(answer, RipestatError):
            failures.append(str(answer))
        elif isinstance(answer, BaseException):
            raise answer
        else:
            states[key] = answer.state
            validators.add(answer.validator)
    basis = "RIPEstat rpki-validation" + (f" ({', '.join(sorted(validators))})" if validators else "")
    if failures:
        basis += f"; {len(failures)} of {len(asked)} lookups failed: {failures[0]}"
    unasked = len(route_keys(report)) - len(asked)
    if unasked:
        basis += f"; {unasked} not looked up (AS_SET origins, or past the first {MAX_RIPESTAT_LOOKUPS} routes)"
    return with_rpki(report, states, basis)
