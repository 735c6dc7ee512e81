"""Real RPKI components on loopback: StayRTR as the RTR cache, GoBGP as an independent validator.

StayRTR serves a VRP JSON file the test writes (rpki-client's documented
format, written here by hand, never by routewatch) and re-reads it every
second; on a change it sends Serial Notify to its clients. Every start picks
a new session id, so a restart is a real session change. GoBGP connects to
the same StayRTR as its RPKI server and marks each route in its RIB V, I or N:
the oracle routewatch's states are compared with.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .daemon import wait_for
from .dns_servers import free_port
from .tools import require_tool

READY_DEADLINE = 15.0
"""Upper bound on StayRTR or gobgpd accepting connections; each takes well under a second."""


def write_vrp_file(path: Path, vrps: Iterable[tuple[str, int, int]]) -> None:
    """An rpki-client style export, replaced atomically so StayRTR never reads half a file."""
    roas = [{"prefix": p, "maxLength": m, "asn": f"AS{a}", "ta": "test"} for p, m, a in vrps]
    document = {"metadata": {"buildtime": "2026-01-01T00:00:00Z", "roas": len(roas)}, "roas": roas}
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(document))
    os.replace(scratch, path)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class StayRtr:
    """``stayrtr`` serving ``cache`` on 127.0.0.1:``port``.

    Its retry interval is 8 s: a router waits at most that long between
    reconnections, so a test that restarts the cache sees routewatch back
    within a bounded time rather than after a doubling that can pass any deadline.
    """

    workdir: Path
    cache: Path
    port: int = field(default_factory=lambda: free_port(["127.0.0.1"]))
    metrics_port: int = field(default_factory=lambda: free_port(["127.0.0.1"]))
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> StayRtr:
        log = (self.workdir / "stayrtr.log").open("ab")
        argv = [require_tool("stayrtr"), "-bind", f"127.0.0.1:{self.port}", "-cache", str(self.cache),
                "-refresh", "1", "-checktime=false", "-metrics.addr", f"127.0.0.1:{self.metrics_port}",
                "-rtr.refresh", "3600", "-rtr.retry", "8", "-rtr.expire", "7200"]
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: self._alive() and _accepts("127.0.0.1", self.port), READY_DEADLINE,
                 f"stayrtr on port {self.port}: {self.output()}")
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"stayrtr exited: {self.output()}")
        return True

    def output(self) -> str:
        path = self.workdir / "stayrtr.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the cache dies without a goodbye, as a crashed one does."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.process = None


@dataclass
class GobgpValidator:
    """``gobgpd`` with StayRTR as its RPKI server; routes are added to its own RIB and read back with V/I/N."""

    workdir: Path
    rtr_port: int
    api_port: int = field(default_factory=lambda: free_port(["127.0.0.1"]))
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> GobgpValidator:
        config = ["[global.config]", "  as = 65000", '  router-id = "192.0.2.1"', "  port = -1",
                  "[[rpki-servers]]", "  [rpki-servers.config]", '    address = "127.0.0.1"',
                  f"    port = {self.rtr_port}"]
        (self.workdir / "gobgpd.toml").write_text("\n".join(config) + "\n")
        log = (self.workdir / "gobgpd.log").open("ab")
        argv = [require_tool("gobgpd"), "-f", "gobgpd.toml", "--api-hosts", f"127.0.0.1:{self.api_port}",
                "--pprof-disable", "--log-plain"]
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                        cwd=self.workdir)
        wait_for(lambda: self._run("global").returncode == 0, READY_DEADLINE, "gobgpd's API")
        return self

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [require_tool("gobgp"), "-u", "127.0.0.1", "-p", str(self.api_port), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=10)

    def gobgp(self, *args: str) -> str:
        result = self._run(*args)
        if result.returncode != 0:
            raise RuntimeError(f"gobgp {' '.join(args)}: {result.stderr}{result.stdout}")
        return result.stdout

    def rpki_records(self) -> int:
        """How many VRPs GoBGP holds from the cache (one line per VRP under a header, per family)."""
        return sum(len(self.gobgp("rpki", "table", "-a", family).splitlines()[1:]) for family in ("ipv4", "ipv6"))

    def add(self, prefix: str, as_path: Sequence[int]) -> None:
        family, next_hop = ("ipv6", "2001:db8::9") if ":" in prefix else ("ipv4", "192.0.2.9")
        self.gobgp("global", "rib", "add", "-a", family, prefix, "aspath", ",".join(map(str, as_path)),
                   "nexthop", next_hop)

    def states(self) -> dict[str, str]:
        """Each RIB prefix's validation letter: ``V`` valid, ``I`` invalid, ``N`` not found."""
        found: dict[str, str] = {}
        for family in ("ipv4", "ipv6"):
            for line in self.gobgp("global", "rib", "-a", family).splitlines()[1:]:
                if line.strip():
                    letter, rest = line[0], line[3:].split()
                    found[rest[0]] = letter
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None
