"""The zone of the service-prefix scenario served for real: a Knot parent with glue, Knot and NSD nameservers.

Every server listens on its own loopback address and one shared free port;
the parent can be started after the nameservers, so that a daemon discovers
the zone only after its routes have arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.support.dns_servers import Knot, Nsd, Server, free_port, zone_file
from tests.support.service_prefix import NAMESERVERS, NSD_SERVED, PARENT, ZONE


@dataclass
class ZoneLab:
    """A parent (com.) with the delegation and glue, and the zone's nameservers, each its own process.

    Knot serves every nameserver but ``nsd_served`` (NSD); the parent can be
    started later, so that discovery happens after the routes.
    """

    workdir: Path
    port: int
    nameservers: dict[str, str]
    parent: str = PARENT
    nsd_served: tuple[str, ...] = (NSD_SERVED,)
    servers: dict[str, Server] = field(default_factory=dict)

    def start_parent(self) -> None:
        records = [(ZONE, "NS", name) for name in self.nameservers]
        records += [(name, "A", address) for name, address in self.nameservers.items()]
        self.servers["parent"] = Knot("parent", self.workdir / "parent", [self.parent], self.port,
                                      zones={"com.": zone_file("com.", 2021100400, ["a.gtld-servers.net."],
                                                               records)}).start()

    def start_nameservers(self) -> None:
        records = [(name, "A", address) for name, address in self.nameservers.items()]
        text = zone_file(ZONE, 2021100401, list(self.nameservers), records)
        for name, address in self.nameservers.items():
            kind = Nsd if name in self.nsd_served else Knot
            label = name.split(".")[0]
            self.servers[name] = kind(label, self.workdir / label, [address], self.port, zones={ZONE: text},
                                      nsid=f"{label}-site").start()

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def zone_lab(workdir: Path, *, parent: bool = True, nameservers: dict[str, str] | None = None,
             parent_address: str = PARENT, nsd_served: tuple[str, ...] = (NSD_SERVED,)) -> ZoneLab:
    """Start the nameservers (and the parent unless ``parent`` is False) on one free port."""
    nameservers = nameservers or NAMESERVERS
    lab = ZoneLab(workdir, free_port([parent_address, *nameservers.values()]), nameservers, parent_address,
                  nsd_served)
    try:
        lab.start_nameservers()
        if parent:
            lab.start_parent()
    except BaseException:
        lab.stop()
        raise
    return lab
