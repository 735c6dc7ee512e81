"""Real DNS servers (Knot, NSD, Unbound) on loopback addresses for integration tests.

Every server of one lab listens on its own 127.53.x.y address (all of 127/8 is
loopback on Linux) and on one shared high port, because a resolver follows
referrals to port 53 only if told otherwise: sharing one port lets
routewatch's ``dns.port`` reach the whole delegation chain. Config, zone
files, pid files and sockets live in the test's tmp directory; nothing needs
root paths or systemd. Each server runs in its own process group so that a
test can stop it (a real outage) or freeze it with SIGSTOP (a server that
hangs: packets are queued and never answered).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone

from .tools import SHARED_DATA, require_tool

DELEGATION_JSON = SHARED_DATA / "dns" / "facebook.com.delegation.json"
READY_DEADLINE = 10.0
"""Upper bound on waiting for a server to answer; ready servers answer in well under a second."""


def bindable(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(family, kind) as sock:
            try:
                sock.bind((address, port))
            except OSError:
                return False
    return True


def free_port(addresses: Iterable[str]) -> int:
    """A high port free for UDP and TCP on every address (so one port serves the whole lab)."""
    wanted = list(addresses)
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20_000, 60_000)
        if all(bindable(address, port) for address in wanted):
            return port
    raise RuntimeError("no common free port found on the loopback addresses")


def lab_block() -> str:
    """A random 127.53.N. prefix so that concurrent labs rarely even try the same addresses."""
    return f"127.53.{random.randrange(1, 255)}."


def zone_file(origin: str, serial: int, ns: Sequence[str], records: Iterable[tuple[str, str, str]] = ()) -> str:
    """Zone text: SOA, NS set, then (owner, type, value) records; owners are absolute names."""
    rname = "hostmaster." + origin.lstrip(".")
    lines = [f"$ORIGIN {origin}", "$TTL 300",
             f"{origin} 300 IN SOA {ns[0]} {rname} {serial} 7200 3600 1209600 300"]
    lines += [f"{origin} 172800 IN NS {name}" for name in ns]
    lines += [f"{owner} 172800 IN {rtype} {value}" for owner, rtype, value in records]
    return "\n".join(lines) + "\n"


@dataclass
class Server:
    """A DNS server process: its config is written by the subclass, the lifecycle is shared."""

    name: str
    workdir: Path
    listen: list[str]
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    ready_deadline: float = field(default=READY_DEADLINE, kw_only=True)

    def argv(self) -> list[str]:
        raise NotImplementedError

    def ready_query(self) -> dns.message.Message:
        raise NotImplementedError

    def is_ready(self, response: dns.message.Message) -> bool:
        """An authoritative server is ready when its first zone is loaded (NOERROR, AA)."""
        return response.rcode() == dns.rcode.NOERROR and bool(response.flags & dns.flags.AA)

    def start(self) -> Server:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "output.log").open("wb")
        self.process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=self.workdir)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Poll with a real query until the server answers on every listen address (bounded)."""
        deadline = time.monotonic() + self.ready_deadline
        pending = list(self.listen)
        while pending:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.output()}")
            try:
                response = dns.query.udp(self.ready_query(), pending[0], timeout=0.2, port=self.port)
                if self.is_ready(response):
                    pending.pop(0)
                    continue
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer on {pending[0]}: {self.output()}")
            time.sleep(0.02)

    def output(self) -> str:
        path = self.workdir / "output.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def _signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        """Stop the server and wait for its sockets to close: a real outage."""
        if self.process is None:
            return
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP the server: its sockets stay bound, queries are queued and never answered."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)


def _soa_query(zone: str) -> dns.message.Message:
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    query.flags = 0
    return query


@dataclass
class Knot(Server):
    """knotd serving ``zones`` ({origin: zone text}) with an NSID.

    ``signing`` maps origins Knot signs itself (``dnssec-signing: on``) to a
    policy id: ``default`` is Knot's own, others are ``policies``
    ({id: {option: value}}).
    """

    zones: dict[str, str] = field(default_factory=dict)
    nsid: str = ""
    signing: dict[str, str] = field(default_factory=dict)
    policies: dict[str, dict[str, str]] = field(default_factory=dict)

    def argv(self) -> list[str]:
        knotd = require_tool("knotd")
        listens = "\n".join(f"    listen: {address}@{self.port}" for address in self.listen)
        zones = []
        for index, (origin, text) in enumerate(self.zones.items()):
            (self.workdir / f"zone{index}.db").write_text(text)
            signing = (f"    zonefile-sync: -1\n    dnssec-signing: on\n    dnssec-policy: {self.signing[origin]}\n"
                       if origin in self.signing else "")
            zones.append(f"  - domain: {origin}\n    file: {self.workdir}/zone{index}.db\n"
                         f"    storage: {self.workdir}\n    journal-content: none\n{signing}")
        policies = "".join(f"  - id: {name}\n" + "".join(f"    {k}: {v}\n" for k, v in options.items())
                           for name, options in self.policies.items())
        conf = (f"server:\n{listens}\n    rundir: {self.workdir}\n    nsid: {self.nsid or self.name}\n"
                f"database:\n    storage: {self.workdir}\n"
                "log:\n  - target: stderr\n    any: warning\n"
                + (f"policy:\n{policies}" if policies else "")
                + "zone:\n" + "".join(zones))
        (self.workdir / "knot.conf").write_text(conf)
        return [knotd, "-c", str(self.workdir / "knot.conf")]

    def ready_query(self) -> dns.message.Message:
        return _soa_query(next(iter(self.zones)))

    def reload(self, zones: dict[str, str]) -> None:
        """Serve new texts of the same zones: files rewritten, knotd told by SIGHUP (as ``knotc reload``);
        returns once every zone answers with its new SOA serial (bounded)."""
        assert zones.keys() == self.zones.keys()
        self.zones = dict(zones)
        for index, text in enumerate(zones.values()):
            (self.workdir / f"zone{index}.db").write_text(text)
        self._signal(signal.SIGHUP)
        deadline = time.monotonic() + self.ready_deadline
        for origin, text in zones.items():
            serial = dns.zone.from_text(text, origin).get_soa().serial
            while True:
                answer = dns.query.udp(_soa_query(origin), self.listen[0], timeout=0.5, port=self.port).answer
                if answer and answer[0][0].serial == serial:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not load serial {serial} of {origin}: {self.output()}")
                time.sleep(0.02)


@dataclass
class Nsd(Server):
    """nsd in the foreground serving ``zones`` with an NSID."""

    zones: dict[str, str] = field(default_factory=dict)
    nsid: str = ""

    def argv(self) -> list[str]:
        nsd = require_tool("nsd")
        w = self.workdir
        addresses = "\n".join(f"    ip-address: {address}@{self.port}" for address in self.listen)
        zones = []
        for index, (origin, text) in enumerate(self.zones.items()):
            (w / f"zone{index}.db").write_text(text)
            zones.append(f"zone:\n    name: \"{origin}\"\n    zonefile: \"{w}/zone{index}.db\"\n")
        conf = (f"server:\n{addresses}\n    port: {self.port}\n    zonesdir: \"{w}\"\n"
                f"    pidfile: \"{w}/nsd.pid\"\n    xfrdfile: \"{w}/xfrd.state\"\n"
                f"    zonelistfile: \"{w}/zone.list\"\n    database: \"\"\n    username: \"\"\n"
                f"    chroot: \"\"\n    server-count: 1\n    verbosity: 0\n"
                f"    nsid: \"ascii_{self.nsid or self.name}\"\n"
                "remote-control:\n    control-enable: no\n" + "".join(zones))
        (w / "nsd.conf").write_text(conf)
        return [nsd, "-d", "-c", str(w / "nsd.conf")]

    def ready_query(self) -> dns.message.Message:
        return _soa_query(next(iter(self.zones)))


@dataclass
class Unbound(Server):
    """unbound as a recursive resolver whose ``stubs`` ({zone: [address]}) point at the lab's servers."""

    stubs: dict[str, list[str]] = field(default_factory=dict)

    def argv(self) -> list[str]:
        unbound = require_tool("unbound")
        w = self.workdir
        interfaces = "\n".join(f"    interface: {address}@{self.port}" for address in self.listen)
        stubs = "".join(
            f"stub-zone:\n    name: \"{zone}\"\n"
            + "".join(f"    stub-addr: {address}@{self.port}\n" for address in addresses)
            for zone, addresses in self.stubs.items()
        )
        conf = (f"server:\n{interfaces}\n    port: {self.port}\n    do-not-query-localhost: no\n"
                f"    username: \"\"\n    chroot: \"\"\n    directory: \"{w}\"\n    pidfile: \"{w}/unbound.pid\"\n"
                "    use-syslog: no\n    logfile: \"\"\n    verbosity: 0\n    num-threads: 1\n"
                "    module-config: \"iterator\"\n    do-ip6: yes\n"
                # give up on silent servers in about a second instead of minutes
                "    infra-cache-max-rtt: 300\n    outbound-msg-retry: 1\n    max-sent-count: 8\n"
                "    access-control: 127.0.0.0/8 allow\n    access-control: ::1 allow\n"
                "remote-control:\n    control-enable: no\n" + stubs)
        (w / "unbound.conf").write_text(conf)
        return [unbound, "-d", "-c", str(w / "unbound.conf")]

    def ready_query(self) -> dns.message.Message:
        return dns.message.make_query("version.bind.", dns.rdatatype.TXT, dns.rdataclass.CH)

    def is_ready(self, response: dns.message.Message) -> bool:
        return True


def delegation_facts() -> dict[str, object]:
    """The facebook.com delegation facts from the shared data folder."""
    return dict(json.loads(DELEGATION_JSON.read_text()))


LETTERS = ("a", "b", "c", "d")
ROOT_NS = "a.root-servers.net."
COM_NS = "a.gtld-servers.net."


@dataclass
class Lab:
    """A delegation chain on loopback: ``servers`` by role ("root", "com", "a".."d", "resolver")."""

    workdir: Path
    block: str
    port: int
    zone: str
    addresses: dict[str, list[str]]
    servers: dict[str, Server] = field(default_factory=dict)

    def address(self, role: str) -> str:
        return self.addresses[role][0]

    def nameserver(self, letter: str) -> str:
        return f"{letter}.ns.{self.zone}"

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def _serial(serials: dict[str, int] | None, letter: str, default: int) -> int:
    return (serials or {}).get(letter, default)


def facebook_lab(
    workdir: Path,
    *,
    serials: dict[str, int] | None = None,
    child_ns_drop: Sequence[str] = (),
    refused: Sequence[str] = (),
    lame: Sequence[str] = (),
    ipv6: bool = True,
    root: bool = False,
    resolver: bool = False,
) -> Lab:
    """The facebook.com delegation from the shared facts, mapped onto loopback and served for real.

    Each of a..d.ns.facebook.com gets its own server process (Knot for a and
    c, NSD for b and d) on 127.53.N.11..14; a.ns also gets ::1 when ``ipv6``.
    A Knot serves com. with the delegation and glue; optionally an NSD serves
    the root and an Unbound resolves through stubs. ``refused`` servers serve
    another zone instead (REFUSED), ``lame`` ones serve com. (a referral
    without AA), ``serials`` overrides a server's SOA serial and
    ``child_ns_drop`` removes names from the zone's own NS set only.
    """
    facts = delegation_facts()
    zone = str(facts["zone"])
    real_ns = facts["ns"]
    assert isinstance(real_ns, dict)
    block = lab_block()
    addresses = {"root": [block + "1"], "com": [block + "2"], "resolver": [block + "3"]}
    records: list[tuple[str, str, str]] = []
    for index, letter in enumerate(LETTERS):
        name = f"{letter}.ns.{zone}"
        assert name in real_ns, f"{name} missing from {DELEGATION_JSON}"
        addresses[letter] = [block + str(11 + index)] + (["::1"] if ipv6 and letter == "a" else [])
        records += [(name, "AAAA" if ":" in a else "A", a) for a in addresses[letter]]
    port = free_port(a for group in addresses.values() for a in group)
    lab = Lab(workdir, block, port, zone, addresses)
    names = [f"{letter}.ns.{zone}" for letter in LETTERS]
    child_names = [n for n in names if n.split(".")[0] not in child_ns_drop]
    com = zone_file("com.", 2021100400, [COM_NS], [("facebook.com.", "NS", n) for n in names] + records)
    try:
        if root:
            root_text = zone_file(".", 2021100400, [ROOT_NS], [
                (ROOT_NS, "A", block + "1"), ("com.", "NS", COM_NS), (COM_NS, "A", block + "2")])
            lab.servers["root"] = Nsd("root", workdir / "root", addresses["root"], port,
                                      zones={".": root_text}).start()
        lab.servers["com"] = Knot("com", workdir / "com", addresses["com"], port, zones={"com.": com}).start()
        for letter in LETTERS:
            if letter in lame:
                zones = {"com.": com}
            elif letter in refused:
                zones = {"example.net.": zone_file("example.net.", 1, ["ns.example.net."])}
            else:
                serial = _serial(serials, letter, 2021100401)
                zones = {zone: zone_file(zone, serial, child_names, records + [("www." + zone, "A", block + "80")])}
            kind = Knot if letter in ("a", "c") else Nsd
            lab.servers[letter] = kind(letter, workdir / letter, addresses[letter], port, zones=zones,
                                       nsid=f"{letter}-site").start()
        if resolver:
            stubs = {zone: [a for letter in LETTERS for a in addresses[letter]]}
            lab.servers["resolver"] = Unbound("resolver", workdir / "resolver", addresses["resolver"], port,
                                              stubs=stubs).start()
    except BaseException:
        lab.stop()
        raise
    return lab
