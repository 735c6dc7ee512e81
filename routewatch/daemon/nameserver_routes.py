"""What BGP says about each nameserver address, for the DNS side of the daemon (the DNS<->BGP join).

The DNS monitor runs beside the core and must not touch it: it reads the
latest core snapshot the publisher swapped in.
"""

from __future__ import annotations

import ipaddress

from routewatch.core.routes import RouteView
from routewatch.exporter.state import SnapshotBox


class SnapshotRoutes:
    """What BGP says about a nameserver address, read from the latest published core snapshot."""

    def __init__(self, box: SnapshotBox) -> None:
        self._box = box

    def route_for(self, address: str) -> RouteView | None:
        core = self._box.current.core
        if core is None:
            return None
        risk = core.addresses.get(ipaddress.ip_address(address))
        return risk.route_view() if risk is not None else None
