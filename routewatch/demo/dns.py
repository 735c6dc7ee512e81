"""The demo's own DNS: facebook.com served for real by Knot (or NSD) on loopback, silent while its routes are gone.

In 2021 the nameservers kept running; what users lost was the route to them. On
one machine there is no route to take away, so the demo does the nearest thing:
the process serving a-d.ns.facebook.com is stopped with SIGSTOP while the story
has the DNS prefixes withdrawn (its sockets stay bound, queries go unanswered,
as packets to an unrouted address do) and continued when they return. A
second process serves ``com.`` with the delegation and glue, and stays up, as
the .com servers did. routewatch finds the nameservers through that parent,
probes them as it would on the internet (``dns.port`` is the lab's one port)
and joins each to the story's prefixes through ``zones[].service_prefixes``.

Everything lives in the demo's temporary directory and on 127.0.53.0/24; the
servers run in their own process groups so a stop reaches the whole server.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from routewatch.demo.incident import AGGREGATE, DNS_PREFIXES, OUTAGE, RETURN, Step

ZONE = "facebook.com."
PARENT_ADDRESS = "127.0.53.1"
NAMESERVERS = {"a.ns.facebook.com.": "127.0.53.11", "b.ns.facebook.com.": "127.0.53.12",
               "c.ns.facebook.com.": "127.0.53.13", "d.ns.facebook.com.": "127.0.53.14"}
"""Each nameserver's loopback stand-in for its 2021 address (129.134.30.12, 129.134.31.12, 185.89.218.12,
185.89.219.12)."""
STAND_IN_SERVICE = "127.0.53.8/29"
"""The nameservers' service prefix in the demo: rides along with the story's DNS prefixes."""
STAND_IN_AGGREGATE = "127.0.0.0/16"
"""The aggregate covering it: rides along with AS32934's covering aggregate, which stayed announced."""
SERVERS = ("knotd", "nsd")
"""The servers the demo can run, in order of preference."""
READY_DEADLINE = 10.0
"""Seconds to wait for a server to answer; both answer in well under one."""
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def with_stand_ins(step: Step) -> Step:
    """``step`` with the loopback stand-ins added beside the story prefixes they stand in for."""
    extra = ((STAND_IN_SERVICE,) if DNS_PREFIXES[0] in step.prefixes else ()) + (
        (STAND_IN_AGGREGATE,) if AGGREGATE in step.prefixes else ())
    return replace(step, prefixes=step.prefixes + extra) if extra else step


def find_server() -> str | None:
    """knotd or nsd (sbin directories included, where Debian puts them), or None when neither is installed."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
    for name in SERVERS:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def _free_port(addresses: list[str]) -> int:
    """A high port free for UDP and TCP on every address: one port serves parent and nameservers alike."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, 60_000)
        if all(_bindable(address, port) for address in addresses):
            return port
    raise OSError("no port free on every demo DNS address")


def _bindable(address: str, port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return False
    return True


def zone_text(origin: str, serial: int, ns: list[str], records: list[tuple[str, str, str]]) -> str:
    """A zone file: SOA, NS set, then (owner, type, value) records with absolute owners."""
    lines = [f"$ORIGIN {origin}", "$TTL 300",
             f"{origin} 300 IN SOA {ns[0]} hostmaster.{origin} {serial} 7200 3600 1209600 300"]
    lines += [f"{origin} 172800 IN NS {name}" for name in ns]
    lines += [f"{owner} 172800 IN {rtype} {value}" for owner, rtype, value in records]
    return "\n".join(lines) + "\n"


def knot_conf(workdir: Path, listen: list[str], port: int, zone: str, zone_file: Path) -> str:
    listens = "".join(f"    listen: {address}@{port}\n" for address in listen)
    return (f"server:\n{listens}    rundir: {workdir}\n"
            f"database:\n    storage: {workdir}\n"
            "log:\n  - target: stderr\n    any: warning\n"
            f"zone:\n  - domain: {zone}\n    file: {zone_file}\n    storage: {workdir}\n"
            "    journal-content: none\n")


def nsd_conf(workdir: Path, listen: list[str], port: int, zone: str, zone_file: Path) -> str:
    addresses = "".join(f"    ip-address: {address}@{port}\n" for address in listen)
    return (f"server:\n{addresses}    port: {port}\n    zonesdir: \"{workdir}\"\n"
            f"    pidfile: \"{workdir}/nsd.pid\"\n    xfrdfile: \"{workdir}/xfrd.state\"\n"
            f"    zonelistfile: \"{workdir}/zone.list\"\n    database: \"\"\n    username: \"\"\n"
            "    chroot: \"\"\n    server-count: 1\n    verbosity: 0\n"
            "remote-control:\n    control-enable: no\n"
            f"zone:\n    name: \"{zone}\"\n    zonefile: \"{zone_file}\"\n")


@dataclass
class ZoneServer:
    """One server process serving one zone on ``listen`` addresses at ``port``."""

    program: str
    workdir: Path
    listen: list[str]
    port: int
    zone: str
    text: str
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        zone_file = self.workdir / "zone.db"
        zone_file.write_text(self.text)
        conf = self.workdir / "server.conf"
        if Path(self.program).name == "nsd":
            conf.write_text(nsd_conf(self.workdir, self.listen, self.port, self.zone, zone_file))
            argv = [self.program, "-d", "-c", str(conf)]
        else:
            conf.write_text(knot_conf(self.workdir, self.listen, self.port, self.zone, zone_file))
            argv = [self.program, "-c", str(conf)]
        with (self.workdir / "output.log").open("wb") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, cwd=self.workdir)
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until every address answers the zone's SOA with authority (bounded by READY_DEADLINE)."""
        query = dns.message.make_query(self.zone, dns.rdatatype.SOA)
        deadline = time.monotonic() + READY_DEADLINE
        pending = list(self.listen)
        while pending:
            assert self.process is not None
            if self.process.poll() is not None:
                raise OSError(f"{Path(self.program).name} exited: {self._output()}")
            try:
                answer = dns.query.udp(query, pending[0], timeout=0.2, port=self.port)
                if answer.rcode() == dns.rcode.NOERROR and answer.flags & dns.flags.AA:
                    pending.pop(0)
                    continue
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise OSError(f"{Path(self.program).name} did not answer on {pending[0]}: {self._output()}")
            time.sleep(0.02)

    def _output(self) -> str:
        path = self.workdir / "output.log"
        return path.read_text(errors="replace")[-500:].strip() if path.exists() else ""

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        if self.process is None:
            return
        self.signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


@dataclass
class DemoDns:
    """The parent (``com.``) and the four nameservers of facebook.com, following the story's outage."""

    program: str
    workdir: Path
    port: int = 0
    servers: dict[str, ZoneServer] = field(default_factory=dict)
    silent: bool = False

    @property
    def name(self) -> str:
        return "Knot" if Path(self.program).name == "knotd" else "NSD"

    def start(self) -> None:
        """Start the parent and the nameservers (blocking, about a second); stops what started if one fails."""
        addresses = list(NAMESERVERS.values())
        self.port = _free_port([PARENT_ADDRESS, *addresses])
        names = list(NAMESERVERS)
        glue = [(name, "A", address) for name, address in NAMESERVERS.items()]
        parent = zone_text("com.", 2021100400, ["a.gtld-servers.net."], [(ZONE, "NS", n) for n in names] + glue)
        child = zone_text(ZONE, 2021100401, names, glue + [("www." + ZONE, "A", "127.0.53.80")])
        try:
            for role, listen, origin, text in (("parent", [PARENT_ADDRESS], "com.", parent),
                                               ("nameservers", addresses, ZONE, child)):
                server = ZoneServer(self.program, self.workdir / role, listen, self.port, origin, text)
                self.servers[role] = server
                server.start()
        except BaseException:
            self.stop()
            raise

    def follow(self, at: float) -> None:
        """Silence the nameservers while the story (data time ``at``) has their prefixes withdrawn."""
        silent = OUTAGE <= at < RETURN
        if silent != self.silent:
            self.silent = silent
            self.servers["nameservers"].signal(signal.SIGSTOP if silent else signal.SIGCONT)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def config(self, speed: float) -> dict[str, object]:
        """The ``zones`` and ``dns`` sections for the demo's config; the probe timings follow the story's speed."""
        return {
            "zones": [{
                "zone": ZONE, "description": "reconstructed: served by the demo's own DNS server on loopback",
                "parent_servers": [PARENT_ADDRESS],
                "service_prefixes": {address: [STAND_IN_SERVICE] for address in NAMESERVERS.values()},
            }],
            "dns": {
                "port": self.port, "interval": 1.0, "timeout": 0.5, "retries": 1,
                "tcp_interval": max(1.0, 300.0 / speed), "rediscover_interval": max(1.0, 3600.0 / speed),
                "dnssec": {"enabled": False},
            },
        }
