"""``routewatch run`` as a real subprocess for integration tests: start, scrape, signal, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .dns_servers import free_port

T = TypeVar("T")
READY_DEADLINE = 20.0


def wait_for(check: Callable[[], T | None], deadline: float, what: str, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy, at most ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")
        time.sleep(interval)


def exporter_port() -> int:
    return free_port(["127.0.0.1"])


@dataclass
class Daemon:
    """One ``routewatch run -c config`` process; its stderr goes to ``workdir/routewatch.log``."""

    config: Path
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> Daemon:
        log = (self.workdir / "routewatch.log").open("ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "routewatch"), "run", "-c", str(self.config)], cwd=self.workdir,
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(lambda: self.scrape_or_none() is not None, READY_DEADLINE, f"routewatch to serve: {self.log()}")
        return self

    def log(self) -> str:
        path = self.workdir / "routewatch.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def scrape_or_none(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"routewatch exited with {self.process.returncode}: {self.log()}")
        try:
            text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text
        except httpx.HTTPError:
            return None
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def value(self, name: str, **labels: str) -> float | None:
        samples = self.scrape_or_none() or {}
        return samples.get((name, tuple(sorted(labels.items()))))

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code (killing it if it does not stop in time)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                raise AssertionError(f"routewatch did not stop on SIGTERM: {self.log()}") from None
        code = self.process.returncode
        self.process = None
        return code
