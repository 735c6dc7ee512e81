"""A snapshot of the watched routes from a looking glass (RIPEstat's), for bootstrap and after a feed gap.

A filtered live feed only sends changes: a stable prefix sends nothing, so
without a snapshot its visibility is unknown (and reported so). The looking
glass is asked one question per watched prefix (matched exactly) and per
nameserver address (the route covering it). It confirms only what was asked:
more-specifics it cannot show are kept as the live feed left them, rather
than withdrawn on the looking glass's silence (``RouteSnapshot.confirmed``).
"""

from __future__ import annotations

import asyncio
import logging

from routewatch.errors import RipestatError
from routewatch.model import Prefix, RouteAnnouncement
from routewatch.sources.base import LookingGlass, RouteSnapshot, WatchTargets

log = logging.getLogger(__name__)


async def looking_glass_snapshot(glass: LookingGlass, targets: WatchTargets, collectors: frozenset[str],
                                 time: float) -> RouteSnapshot:
    """Ask the looking glass about every watched prefix and nameserver address.

    The snapshot is timed at the newest answer's data time, at least ``time``
    (data time: the wall clock never enters the core).

    A question that fails leaves its prefix unconfirmed (kept as is) and is
    counted in ``failed``; one failure does not spoil the rest.
    """
    asked: list[tuple[str, Prefix | None]] = [(str(p), p) for p in targets.prefixes]
    asked.extend((str(a), None) for a in targets.addresses)
    answers = await asyncio.gather(*(glass.looking_glass(resource) for resource, _ in asked),
                                   return_exceptions=True)
    routes: list[RouteAnnouncement] = []
    confirmed: set[Prefix] = set()
    failed = 0
    problems: dict[str, list[str]] = {}
    for (resource, prefix), answer in zip(asked, answers, strict=True):
        if isinstance(answer, BaseException):
            if not isinstance(answer, RipestatError | OSError | TimeoutError):
                raise answer
            failed += 1
            problems.setdefault(str(answer), []).append(resource)
            log.debug("looking glass: %s: %s", resource, answer)
            continue
        if prefix is not None:
            confirmed.add(prefix)
        for route in answer:
            confirmed.add(route.prefix)
            routes.append(route)
    for problem, resources in problems.items():  # one line per distinct problem, not one per question
        log.warning("looking glass: %d of %d questions (%s%s) failed: %s", len(resources), len(asked),
                    ", ".join(resources[:3]), ", ..." if len(resources) > 3 else "", problem)
    newest = max((r.time for r in routes), default=time)
    return RouteSnapshot(tuple(routes), collectors | {r.peer.collector for r in routes}, max(time, newest),
                         frozenset(confirmed), failed)
