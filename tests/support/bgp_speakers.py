"""Real BGP speakers (GoBGP, BIRD 2) on loopback for integration tests.

A lab is one GoBGP "collector" that accepts eBGP sessions from peer speakers
and writes every UPDATE it receives to an MRT file (BGP4MP, as RIS and
RouteViews collectors do), plus GoBGP and BIRD peers that announce and withdraw
routes on command. Each speaker has its own 127.179.N.x address (all of 127/8
is loopback on Linux) and high ports; configs, logs, sockets and the MRT file
live in the test's tmp directory, and every process runs in its own process
group so that stopping it stops everything it started.

Choices forced by the speakers themselves:

* Next hops are 192.0.2.x (set by export policy): a speaker that sends its
  own 127.x session address as next hop gets the route rejected.
* The collector only listens (passive sessions) and exports nothing, so its
  peers never learn a route back from it and never re-announce one: the MRT
  file holds exactly what each peer was told to announce or withdraw.
* GoBGP formats its MRT file name with Go's time layout (``2006``, ``01``, ...
  are replaced by the date even without rotation), so the file name is
  relative and digit-free and the collector runs in its own directory.
* A GoBGP speaker makes its first connection attempt 5 to 10 s after start
  (a fixed randomised delay in GoBGP 3); BIRD connects after ``connect delay
  time`` (1 s here). Waits are bounded polls of the MRT file, never sleeps.
* GoBGP's update dump holds UPDATEs only; BIRD's ``mrtdump`` also writes
  BGP4MP state changes (some with peer address 0.0.0.0 while the session is
  not yet connected), so a BIRD peer's own file covers those.
* BIRD ignores the loopback interface for directly connected sessions, so its
  sessions are configured ``multihop``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .bgpdump_format import BgpdumpLine, parse_line
from .daemon import wait_for
from .dns_servers import free_port
from .tools import require_tool

READY_DEADLINE = 10.0
"""Upper bound on a speaker's control interface coming up; it takes well under a second."""
SESSION_DEADLINE = 20.0
"""Upper bound on every session being up and its first UPDATE in the MRT file (GoBGP waits up to 10 s)."""
RECORD_DEADLINE = 10.0
"""Upper bound on an announcement or withdrawal reaching the MRT file; it takes milliseconds."""


def lab_block() -> str:
    """A random 127.179.N. prefix so that concurrent labs rarely even try the same addresses."""
    return f"127.179.{random.randrange(1, 255)}."


@dataclass
class Speaker:
    """A speaker process: the subclass writes its config and names its program, the lifecycle is shared."""

    name: str
    workdir: Path
    asn: int
    address: str
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def argv(self) -> list[str]:
        raise NotImplementedError

    def write_config(self) -> None:
        raise NotImplementedError

    def is_ready(self) -> bool:
        raise NotImplementedError

    def start(self) -> Speaker:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        log = (self.workdir / "output.log").open("wb")
        self.process = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=self.workdir)
        wait_for(self._ready_or_dead, READY_DEADLINE, f"{self.name} to accept commands: {self.output()}")
        return self

    def _ready_or_dead(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.output()}")
        return self.is_ready()

    def output(self) -> str:
        path = self.workdir / "output.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def run(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=10, cwd=self.workdir)

    def command(self, argv: Sequence[str]) -> str:
        """Run a control command; a failure names the speaker and shows its log."""
        result = self.run(argv)
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(argv)} failed: {result.stderr}{result.stdout}\n"
                               f"{self.output()}")
        return result.stdout

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None


@dataclass
class GobgpSpeaker(Speaker):
    """``gobgpd`` driven through its gRPC API with the ``gobgp`` command.

    As a collector (``neighbors`` set) it listens on ``port``, accepts passive
    sessions from those peers, exports nothing and dumps UPDATEs to
    ``updates.mrt``; with ``bmp_station`` it is also a monitored router that
    streams its peers' Adj-RIB-In (pre-policy) to that BMP station. As a peer
    (``collector`` set) it connects out and sets ``next_hop`` on what it exports.
    """

    api_port: int = 0
    port: int = -1
    neighbors: Sequence[Speaker] = ()
    collector: GobgpSpeaker | FrrRouter | None = None
    next_hop: str = ""
    bmp_station: tuple[str, int] | None = None

    @property
    def mrt_path(self) -> Path:
        return self.workdir / "updates.mrt"

    def argv(self) -> list[str]:
        return [require_tool("gobgpd"), "-f", "gobgpd.toml", "--api-hosts", f"127.0.0.1:{self.api_port}",
                "--pprof-disable", "--log-plain", "--log-level", "info"]

    def write_config(self) -> None:
        lines = ["[global.config]", f"  as = {self.asn}", f'  router-id = "{self.address}"', f"  port = {self.port}"]
        if self.port > 0:
            lines.append(f'  local-address-list = ["{self.address}"]')
        if self.collector is None:
            lines += ["[global.apply-policy.config]", '  default-export-policy = "reject-route"']
            for peer in self.neighbors:
                lines += self._neighbor(peer.address, peer.asn, passive=True)
            lines += ["[[mrt-dump]]", "  [mrt-dump.config]", '    dump-type = "updates"',
                      '    file-name = "updates.mrt"']
            if self.bmp_station is not None:
                lines += ["[[bmp-servers]]", "  [bmp-servers.config]", f'    address = "{self.bmp_station[0]}"',
                          f"    port = {self.bmp_station[1]}", '    route-monitoring-policy = "pre-policy"']
        else:
            lines += [
                "[[policy-definitions]]", '  name = "documentation-next-hop"',
                "  [[policy-definitions.statements]]", '    name = "set-next-hop"',
                "    [policy-definitions.statements.actions]", '      route-disposition = "accept-route"',
                "    [policy-definitions.statements.actions.bgp-actions]", f'      set-next-hop = "{self.next_hop}"',
                "[global.apply-policy.config]", '  export-policy-list = ["documentation-next-hop"]',
                '  default-export-policy = "accept-route"',
            ]
            lines += self._neighbor(self.collector.address, self.collector.asn, remote_port=self.collector.port)
        (self.workdir / "gobgpd.toml").write_text("\n".join(lines) + "\n")

    def _neighbor(self, address: str, asn: int, *, passive: bool = False, remote_port: int = 0) -> list[str]:
        lines = ["[[neighbors]]", "  [neighbors.config]", f'    neighbor-address = "{address}"', f"    peer-as = {asn}",
                 "  [neighbors.transport.config]", f'    local-address = "{self.address}"']
        if passive:
            lines.append("    passive-mode = true")
        if remote_port:
            lines.append(f"    remote-port = {remote_port}")
        return lines

    def gobgp(self, *args: str) -> str:
        return self.command([require_tool("gobgp"), "-u", "127.0.0.1", "-p", str(self.api_port), *args])

    def is_ready(self) -> bool:
        return self.run([require_tool("gobgp"), "-u", "127.0.0.1", "-p", str(self.api_port), "global"]).returncode == 0

    def announce(self, prefix: str, as_path: Sequence[int], communities: Sequence[str] = ()) -> None:
        """Originate ``prefix`` with ``as_path`` behind this speaker's own AS (eBGP prepends it)."""
        args = ["global", "rib", "add", "-a", "ipv4", prefix, "aspath", ",".join(map(str, as_path)),
                "nexthop", self.next_hop]
        if communities:
            args += ["community", ",".join(communities)]
        self.gobgp(*args)

    def withdraw(self, prefix: str) -> None:
        self.gobgp("global", "rib", "del", "-a", "ipv4", prefix)


@dataclass
class FrrRouter(Speaker):
    """FRR's ``bgpd`` with its BMP module (``-M bmp``), without zebra, driven with ``vtysh``: a monitored router.

    It listens on ``port`` for passive sessions from ``neighbors``, keeps what
    they send (``soft-reconfiguration inbound``, so ``received-routes`` shows
    its Adj-RIB-In), exports nothing, and streams its peers' pre-policy tables
    to the BMP station at ``bmp_station``.
    """

    port: int = 0
    neighbors: Sequence[Speaker] = ()
    bmp_station: tuple[str, int] = ("127.0.0.1", 0)

    def argv(self) -> list[str]:
        return [require_tool("bgpd"), "-f", str(self.workdir / "bgpd.conf"), "-i", str(self.workdir / "bgpd.pid"),
                "-z", str(self.workdir / "zserv.api"), "--vty_socket", str(self.workdir), "-M", "bmp",
                "-p", str(self.port), "-l", self.address, "-Z", "-S", "-P", "0", "--log", "stdout"]

    def write_config(self) -> None:
        station, port = self.bmp_station
        lines = ["frr defaults traditional", "hostname routewatch-lab-frr", f"router bgp {self.asn}",
                 f" bgp router-id {self.address}", " no bgp ebgp-requires-policy", " no bgp default ipv4-unicast"]
        for peer in self.neighbors:
            lines += [f" neighbor {peer.address} remote-as {peer.asn}", f" neighbor {peer.address} passive"]
        lines += [" address-family ipv4 unicast"]
        for peer in self.neighbors:
            lines += [f"  neighbor {peer.address} activate", f"  neighbor {peer.address} soft-reconfiguration inbound",
                      f"  neighbor {peer.address} route-map refuse-all out"]
        lines += [" exit-address-family", " bmp targets routewatch", "  bmp monitor ipv4 unicast pre-policy",
                  f"  bmp connect {station} port {port} min-retry 100 max-retry 1000", " exit", "!",
                  "route-map refuse-all deny 10", "!"]
        (self.workdir / "bgpd.conf").write_text("\n".join(lines) + "\n")

    def vtysh(self, command: str) -> str:
        return self.command([require_tool("vtysh"), "--vty_socket", str(self.workdir), "-d", "bgpd", "-c", command])

    def is_ready(self) -> bool:
        return self.run([require_tool("vtysh"), "--vty_socket", str(self.workdir), "-d", "bgpd", "-c",
                         "show bgp summary"]).returncode == 0


@dataclass(frozen=True, slots=True)
class BirdRoute:
    """A static route a BIRD peer exports with ``as_path`` behind its own AS; ``enabled`` at start or not."""

    protocol: str
    prefix: str
    as_path: tuple[int, ...]
    enabled: bool = True


@dataclass
class BirdSpeaker(Speaker):
    """``bird`` driven with ``birdc``: each route is its own static protocol, enabled or disabled on command.

    With ``mrt_dump`` it also writes its session's state changes and received
    messages to ``bird.mrt`` (BIRD's own BGP4MP writer).
    """

    port: int = 0
    collector: GobgpSpeaker | None = None
    next_hop: str = ""
    routes: Sequence[BirdRoute] = ()
    communities: Sequence[tuple[int, int]] = ()
    large_communities: Sequence[tuple[int, int, int]] = ()
    mrt_dump: bool = False

    @property
    def mrt_path(self) -> Path:
        return self.workdir / "bird.mrt"

    def argv(self) -> list[str]:
        return [require_tool("bird"), "-f", "-c", "bird.conf", "-s", "bird.ctl", "-P", "bird.pid"]

    def write_config(self) -> None:
        assert self.collector is not None
        lines = [*(['mrtdump "bird.mrt";'] if self.mrt_dump else []), f"router id {self.address};",
                 "protocol device {}"]
        prepends = []
        for route in self.routes:
            lines += [f"protocol static {route.protocol} {{", *([] if route.enabled else ["  disabled;"]),
                      "  ipv4;", f"  route {route.prefix} blackhole;", "}"]
            path = " ".join(f"bgp_path.prepend({asn});" for asn in reversed(route.as_path))
            prepends.append(f"    if net = {route.prefix} then {{ {path} }}")
        lines += [
            "protocol bgp collector {",
            f"  local {self.address} port {self.port} as {self.asn};",
            f"  neighbor {self.collector.address} port {self.collector.port} as {self.collector.asn};",
            "  multihop 2;", "  connect delay time 1;", *(["  mrtdump all;"] if self.mrt_dump else []),
            "  ipv4 {", "    import none;", f"    next hop address {self.next_hop};", "    export filter {",
            *prepends,
            *(f"      bgp_community.add({c});" for c in self.communities),
            *(f"      bgp_large_community.add({c});" for c in self.large_communities),
            "      accept;", "    };", "  };", "}",
        ]
        (self.workdir / "bird.conf").write_text("\n".join(lines) + "\n")

    def birdc(self, *args: str) -> str:
        return self.command([require_tool("birdc"), "-s", "bird.ctl", *args])

    def is_ready(self) -> bool:
        return self.run([require_tool("birdc"), "-s", "bird.ctl", "show", "status"]).returncode == 0

    def enable(self, route: BirdRoute) -> None:
        self.birdc("enable", route.protocol)

    def disable(self, route: BirdRoute) -> None:
        self.birdc("disable", route.protocol)


def read_dump(path: Path) -> list[BgpdumpLine]:
    """``bgpdump -m -l`` of a file that may still be growing (never cached, unlike tests.support.bgpdump)."""
    if not path.exists():
        return []
    result = subprocess.run([require_tool("bgpdump"), "-q", "-m", "-l", str(path)], capture_output=True, text=True,
                            timeout=30, check=True)
    return [parse_line(line, large_communities=True) for line in result.stdout.splitlines() if line]


def wait_for_peers(path: Path, kind: str, prefix: str, peers: set[str], deadline: float) -> list[BgpdumpLine]:
    """Poll the MRT file until each of ``peers`` has a ``kind`` (A or W) line for ``prefix``; returns those lines."""

    def found() -> list[BgpdumpLine] | None:
        lines = [line for line in read_dump(path) if line.kind == kind and line.prefix == prefix]
        return lines if {line.peer_address for line in lines} >= peers else None

    return wait_for(found, deadline, f"{kind} {prefix} from {sorted(peers)} in {path.name}", interval=0.05)


def wait_for_second(after: float) -> None:
    """Wait (bounded, at most a few seconds here) until the wall clock's whole second is past ``after``.

    GoBGP stamps BGP4MP records with whole seconds of its own receive time, so
    a gap of data time between two steps can only be made by letting it pass.
    """
    wait_for(lambda: time.time() >= after, after - time.time() + 1.0, f"the clock to pass {after:.0f}",
             interval=0.02)


def free_ports(address: str, count: int) -> list[int]:
    """``count`` distinct free TCP ports on ``address``."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port([address])
        if port not in ports:
            ports.append(port)
    return ports
