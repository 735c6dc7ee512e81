"""Shards as real processes: ``run --shards 3`` on one machine, and three shards behind a real Prometheus.

Both read BGP from MRT files on loopback-free disk (a RIB and a followed
directory of update files, written by tests/support/mrt_writer.py): twelve
watched prefixes, ten collector peers. The rules are the shipped ones in their
test variant (every ``for:`` 1s, see test_e2e_prometheus).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from routewatch.config.schema import load_config
from tests.integration.test_e2e_prometheus import Prometheus, fast_rules
from tests.support.daemon import wait_for
from tests.support.dns_servers import bindable
from tests.support.mrt_writer import Update, write_updates

pytestmark = pytest.mark.integration

SHARDS = 3
PEERS = 10
PREFIXES = [f"198.51.{100 + i // 4}.{(i % 4) * 64}/26" for i in range(12)]
ORIGIN = 64511
DEADLINE = 40.0


def consecutive_ports(count: int) -> int:
    """A base port with ``count`` free ports from it (the local shards use exporter.port + I)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 60_000)
        if all(bindable("127.0.0.1", base + i) for i in range(count)):
            return base
    raise AssertionError("no run of free ports found")


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def watched(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> set[str]:
    return {dict(labels)["prefix"] for name, labels in samples if name == "routewatch_bgp_prefix_visible_peers"}


def shard_of(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> tuple[str, str] | None:
    for name, labels in samples:
        if name == "routewatch_shard_info":
            found = dict(labels)
            return found["shard"], found["shards"]
    return None


def routes(t: int, peers: range, prefixes: list[str]) -> list[Update]:
    return [Update(t, f"192.0.2.{n}", 64500 + n, prefixes, [64500 + n, 3356, ORIGIN]) for n in peers]


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "feed").mkdir()
    write_updates(tmp_path / "rrc00.rib.mrt", routes(int(time.time()) - 5, range(1, PEERS + 1), PREFIXES))
    yield tmp_path


def write_config(workdir: Path, port: int) -> Path:
    prefixes = "\n".join(f"  - {{prefix: {p}, asn: {ORIGIN}, thresholds: {{hold_down: 1}}}}" for p in PREFIXES)
    path = workdir / "routewatch.yaml"
    path.write_text(f"""
prefixes:
{prefixes}
sources:
  - {{type: mrt, name: collectors, files: ["feed/*.mrt"], follow: true, poll_interval: 0.2, collector: rrc00}}
bgp:
  baseline_min_hold: 1
  bootstrap: {{mrt_files: [rrc00.rib.mrt], ripestat: false}}
sharding: {{shards: {SHARDS}}}
exporter: {{listen: 127.0.0.1, port: {port}}}
""")
    return path


def start(workdir: Path, *args: str, env: dict[str, str] | None = None, log: str = "routewatch.log"
          ) -> subprocess.Popen[bytes]:
    with (workdir / log).open("ab") as out:
        return subprocess.Popen([str(Path(sys.executable).parent / "routewatch"), *args], cwd=workdir, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            raise AssertionError("did not stop on SIGTERM") from None
    return process.returncode


def worker_pid(config: Path, shard: int) -> int | None:
    """The pid of the local worker of ``shard`` reading ``config`` (its command line says both)."""
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        pid, _, args = line.strip().partition(" ")
        if f" run -c {config} " in args and args.endswith(f"--shard {shard}") and f"--shards {SHARDS}" in args:
            return int(pid)
    return None


@pytest.mark.timeout(120)
def test_run_shards_starts_one_worker_per_shard_each_on_its_port_and_restarts_one_killed(feed: Path) -> None:
    base = consecutive_ports(SHARDS)
    config = write_config(feed, base)
    parent = start(feed, "run", "-c", str(config), "--shards", str(SHARDS))
    try:
        parts = [wait_for(lambda i=i: scrape(base + i), DEADLINE, f"shard {i} to serve") for i in range(SHARDS)]
        assert [shard_of(p) for p in parts] == [(str(i), str(SHARDS)) for i in range(SHARDS)]
        expected = [{str(w.prefix) for w in load_config(config).part(i).prefixes} for i in range(SHARDS)]
        assert [watched(p) for p in parts] == expected
        assert set().union(*expected) == set(PREFIXES) and sum(map(len, expected)) == len(PREFIXES)

        victim = wait_for(lambda: worker_pid(config, 1), DEADLINE, "the pid of shard 1's worker")
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: (worker_pid(config, 1) or victim) != victim, DEADLINE, "the parent to start shard 1 again")
        back = wait_for(lambda: scrape(base + 1), DEADLINE, "shard 1 to serve again")
        assert shard_of(back) == ("1", str(SHARDS)) and watched(back) == expected[1]
        assert parent.poll() is None
    finally:
        assert stop(parent) == 0
    assert all(worker_pid(config, i) is None for i in range(SHARDS)), "a worker outlived its parent's SIGTERM"


@pytest.mark.timeout(150)
def test_three_shards_behind_prometheus_page_once_per_prefix_and_a_lost_shard_pages_alone(feed: Path) -> None:
    names = fast_rules(feed / "rules.yml")
    ports = [consecutive_ports(1) for _ in range(SHARDS)]
    shards = []
    for i, port in enumerate(ports):
        workdir = feed / f"shard{i}"
        workdir.mkdir()
        (workdir / "feed").symlink_to(feed / "feed")
        (workdir / "rrc00.rib.mrt").symlink_to(feed / "rrc00.rib.mrt")
        shards.append(start(workdir, "run", "-c", str(write_config(workdir, port)),
                            env={"ROUTEWATCH_SHARD": str(i)}))
    prometheus = None
    try:
        for i, port in enumerate(ports):
            wait_for(lambda port=port: scrape(port), DEADLINE, f"shard {i} to serve")
        prometheus = Prometheus(feed, ports[0], feed / "rules.yml", extra_targets=ports[1:])
        p = prometheus
        wait_for(lambda: len(p.query("routewatch_shard_info")) == SHARDS, DEADLINE, "Prometheus to scrape all shards")
        # A rule evaluated before the first scrape may fire RoutewatchAbsent for one
        # evaluation (the test rules have no keep_firing_for): wait for a quiet start.
        wait_for(lambda: not [a for a in p.alerts() if a["state"] == "firing"], DEADLINE, "no alert firing at start")

        gone = PREFIXES[5]
        write_updates(feed / "feed" / "0001-withdraw.mrt",
                      [Update(int(time.time()), f"192.0.2.{n}", 64500 + n, withdrawn=[gone]) for n in range(1, 9)])
        withdrawn = wait_for(lambda: p.firing(names["withdrawal"]), DEADLINE, "the withdrawal alert")
        assert [alert["labels"]["prefix"] for alert in withdrawn] == [gone]

        stop(shards[2])
        absent = wait_for(lambda: p.firing("RoutewatchShardAbsent"), DEADLINE, "the shard-absent alert")
        assert len(absent) == 1
        time.sleep(3)  # a few more evaluations: nothing else may fire for the lost shard's prefixes
        firing = {a["labels"]["alertname"] for a in p.alerts() if a["state"] == "firing"}
        assert firing == {"RoutewatchShardAbsent", names["withdrawal"]}
    finally:
        if prometheus is not None:
            prometheus.stop()
        for process in shards:
            stop(process)
