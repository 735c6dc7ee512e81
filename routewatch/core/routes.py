"""What BGP says about a nameserver address, as seen from the DNS side.

The DNS code never computes routes; it asks an object with a ``route_for``
method (the BGP core, or :class:`StaticRoutes` over a fixed table) for the
prefix covering an address, whether it is visible, and its origin AS. That is
enough for the diversity check and for ``check zone``'s prefix column.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from routewatch.model import Prefix


@dataclass(frozen=True, slots=True)
class RouteView:
    """The prefix covering an address, whether collectors see it, and its origin AS if known."""

    prefix: Prefix
    visible: bool
    origin: int | None = None
    peers: int | None = None  # collector peers whose longest match is ``prefix``, when known


@runtime_checkable
class RouteLookup(Protocol):
    """Anything that can say which route an address depends on (None: no route known)."""

    def route_for(self, address: str) -> RouteView | None: ...


class StaticRoutes:
    """Longest-prefix match over a fixed list of routes (a table read from a file, or a test's)."""

    def __init__(self, routes: Iterable[RouteView]) -> None:
        self._routes = sorted(routes, key=lambda route: route.prefix.prefixlen, reverse=True)

    def route_for(self, address: str) -> RouteView | None:
        ip = ipaddress.ip_address(address)
        for route in self._routes:
            if ip.version == route.prefix.version and ip in route.prefix:
                return route
        return None
