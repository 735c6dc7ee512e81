"""One ``routewatch run`` against ``routewatch run --shards N``: aggregate RIS Live messages/s and memory per shard.

    python bench/bench_shards.py [--rounds 3] [--messages 300000] [--shards 2 4]

The input is bench_ris_live.py's: 10,000 watched prefixes from the shared RIB
dump and their RIB routes as RIS Live UPDATEs, alternately announced and
withdrawn, so every message changes a watched prefix's state. The daemon is the
real command (``routewatch run -c CONFIG`` and ``--shards N``), reading a local
RIS Live server of the tests (tests/support/ris_live_server.py) in its own
process: each shard subscribes to its own part, the server sends each client
only what its subscriptions ask for (RIS Live's own filtering, as the server
applies it), so the same messages are divided between the shards.

Once every shard has subscribed and gone idle, the server pushes every client
its messages as fast as TCP lets it (pre-serialised frames, a burst at a time).
A run ends when every worker has gone idle after the last message was written:
its main thread, sampled in /proc every 10 ms, stays asleep (no scrape during
the run: rendering /metrics of thousands of changing prefixes costs seconds of
the same core). Then each worker's /metrics gives messages received and dropped,
and /proc its peak and current resident memory. Rounds alternate the variants
(1, N, 1, N, ...) so that a drifting machine affects both alike; the ratio is
taken round by round.

Nothing is pinned: with N shards the N workers and the server share the
machine's cores, as they would in production.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import multiprocessing as mp
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml
from websockets.frames import Frame, Opcode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ris_live import build_data, timestamped  # noqa: E402
from tests.support.ris_live_server import RisLiveServer  # noqa: E402

FEED_SUBSCRIPTIONS = 2
"""Subscriptions each client sends besides its prefixes (KEEPALIVE and RIS_PEER_STATE)."""
TICK = 0.1
"""Seconds over which a worker is judged busy or idle."""
SAMPLES = 10
"""Samples of each worker's state a tick."""
QUIET = 1.5
"""Seconds of every worker idle after the last message was written that end a run."""
STARTUP_DEADLINE = 180.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the server process -------------------------------------------------------------------------------------------


def server_main(port: int, clients: int, texts: list[str], count: int, control: Any, results: Any) -> None:
    asyncio.run(_serve(port, clients, texts, count, control, results))


async def _serve(port: int, clients: int, texts: list[str], count: int, control: Any, results: Any) -> None:
    server = RisLiveServer()
    server.port = port
    await server.start()
    while len(server.clients) < clients or sum(len(c.filters) for c in server.clients) < 10_000:
        await asyncio.sleep(0.05)
    while True:  # every subscription in: the count stops growing
        before = sum(len(c.filters) for c in server.clients)
        await asyncio.sleep(1.0)
        if sum(len(c.filters) for c in server.clients) == before:
            break
    # Which client wants each distinct message, as RIS Live filters it; the stream only re-stamps them.
    wanted = {id(c): [c.select(orjson.loads(t)["data"]) is not None for t in texts] for c in server.clients}
    stream = timestamped(texts, count, 50_000, start=time.time() - 60)
    frames = {id(c): [Frame(Opcode.TEXT, s.encode()).serialize(mask=False, extensions=[])
                      for i, s in enumerate(stream) if wanted[id(c)][i % len(texts)]] for c in server.clients}
    results.put(("ready", [(len(frames[id(c)]), len(c.filters)) for c in server.clients]))
    await asyncio.to_thread(control.wait, 600)
    started = time.perf_counter()
    await asyncio.gather(*(_push(c.ws.transport, frames[id(c)]) for c in server.clients))
    results.put(("sent", time.perf_counter() - started))
    await asyncio.sleep(3600)


async def _push(transport: Any, frames: list[bytes], burst: int = 256) -> None:
    for index in range(0, len(frames), burst):
        if transport.is_closing():  # the client closed (a starved client can miss its keepalive): the run fails
            return
        transport.write(b"".join(frames[index:index + burst]))
        while transport.get_write_buffer_size() > 1 << 20:  # TCP pushes back: the client is behind
            await asyncio.sleep(0.0005)
        if index % (burst * 16) == 0:
            await asyncio.sleep(0)  # let the other clients' pushes run


# -- the daemon ---------------------------------------------------------------------------------------------------


def free_ports(count: int) -> int:
    """A base port with ``count`` free ports from it (shard I serves on exporter.port + I, the feed after them)."""
    for base in range(31_000, 60_000, 97):
        ok = True
        for port in range(base, base + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports")


def write_config(directory: Path, watch: list[dict[str, Any]], feed_port: int, exporter_port: int) -> Path:
    config = {
        "prefixes": watch,
        "sources": [{"type": "ris-live", "url": f"ws://127.0.0.1:{feed_port}/v1/ws/", "queue_size": 100_000,
                     "reconcile": "none", "collector_stale_after": 3600.0}],
        "bgp": {"bootstrap": {"ripestat": False}},
        "exporter": {"listen": "127.0.0.1", "port": exporter_port},
        "logging": {"level": "warning"},
    }
    path = directory / "routewatch.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of the worker's main thread, from the scheduler."""
    on_cpu, waiting = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def memory_mib(pid: int) -> tuple[float, float]:
    """(peak, current) resident memory of ``pid`` in MiB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmHWM"].split()[0]) / 1024, int(status["VmRSS"].split()[0]) / 1024


def scrape(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=60).text
    totals: dict[str, float] = {}
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in ("routewatch_source_messages_total", "routewatch_source_messages_dropped_total"):
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def runnable(pid: int) -> bool:
    """The worker's main thread (its event loop and core) is running or waiting for a CPU, not sleeping."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R"


def wait_idle(workers: list[int], since: float) -> float:
    """Until every worker has been idle for QUIET seconds; returns when the last one was busy.

    A worker is busy over a tick when its main thread was runnable in most of the tick's samples, so a
    worker starved of CPU by other load still counts as busy (its CPU time alone would say idle).
    """
    busy_at = since
    while time.perf_counter() - busy_at < QUIET:
        samples = {pid: 0 for pid in workers}
        for _ in range(SAMPLES):
            for pid in workers:
                samples[pid] += runnable(pid)
            time.sleep(TICK / SAMPLES)
        if any(count > SAMPLES // 2 for count in samples.values()):
            busy_at = time.perf_counter()
    return busy_at


def run_once(shards: int, watch: list[dict[str, Any]], texts: list[str], count: int) -> dict[str, Any]:
    """One daemon (``shards`` 1) or one ``--shards N`` supervisor with its workers, fed ``count`` messages."""
    exporter_port = free_ports(shards + 1)
    feed_port = exporter_port + shards
    control, results = mp.Event(), mp.Queue()  # type: ignore[var-annotated]
    server = mp.Process(target=server_main, args=(feed_port, shards, texts, count, control, results), daemon=True)
    server.start()
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        config = write_config(Path(tmp), watch, feed_port, exporter_port)
        argv = [str(Path(sys.executable).parent / "routewatch"), "run", "-c", str(config)]
        if shards > 1:
            argv += ["--shards", str(shards)]
        with (Path(tmp) / "log").open("wb") as log:
            daemon = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log)
        try:
            kind, per_client = results.get(True, STARTUP_DEADLINE)
            assert kind == "ready", kind
            workers = children(daemon.pid) if shards > 1 else [daemon.pid]
            assert len(workers) == shards, (workers, (Path(tmp) / "log").read_text()[-2000:])
            wait_idle(workers, time.perf_counter())  # subscriptions acknowledged, start-up done
            cpu_before = sum(cpu_seconds(pid) for pid in workers)
            sched_before = [schedstat(pid) for pid in workers]
            started = time.perf_counter()
            control.set()
            kind, send_seconds = results.get(True, 600)
            assert kind == "sent", kind
            ended = wait_idle(workers, time.perf_counter())
            seconds = ended - started
            cpu = sum(cpu_seconds(pid) for pid in workers) - cpu_before
            # Each worker's main thread over the run: on a CPU, waiting for one (other load), or asleep (no input).
            sched = [tuple(after - before for after, before in zip(schedstat(pid), was, strict=True))
                     for pid, was in zip(workers, sched_before, strict=True)]
            memory = [memory_mib(pid) for pid in workers]
            samples = [scrape(exporter_port + i) for i in range(shards)]
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            server.terminate()
            server.join()
    sent = sum(frames for frames, _ in per_client)
    received = sum(s.get("routewatch_source_messages_total", 0.0) for s in samples)
    dropped = sum(s.get("routewatch_source_messages_dropped_total", 0.0) for s in samples)
    acknowledgements = sum(subscriptions for _, subscriptions in per_client)
    if received < sent + acknowledgements:  # more: the server's pongs to the client's pings
        raise RuntimeError(f"{shards} process(es): received {received:.0f}, sent {sent} + {acknowledgements} "
                           "acknowledgements: the run ended before the workers had read everything")
    return {"shards": shards, "stream": count, "delivered": sent, "per_shard": sorted(f for f, _ in per_client),
            "dropped": int(dropped), "seconds": round(seconds, 2), "send_seconds": round(send_seconds, 2),
            "rate": count / seconds, "cpu_seconds": round(cpu, 2),
            "starved": [round(waiting / seconds, 2) for _, waiting in sched],
            "asleep": [round(max(0.0, 1 - (on + waiting) / seconds), 2) for on, waiting in sched],
            "peak_mib": [round(m[0], 1) for m in memory], "rss_mib": [round(m[1], 1) for m in memory]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every variant (default 3)")
    parser.add_argument("--messages", type=int, default=300_000, help="messages a run, all shards together "
                        "(default 300000)")
    parser.add_argument("--shards", type=int, nargs="+", default=[2], help="sharded variants to run against one "
                        "process (default: 2)")
    args = parser.parse_args()
    watch, texts = build_data()
    print(f"# {len(watch)} watched prefixes, {len(texts)} distinct messages, {args.messages} a run; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    variants = [1, *args.shards]
    runs: dict[int, list[dict[str, Any]]] = {v: [] for v in variants}
    for round_ in range(args.rounds):
        for shards in variants:
            try:
                result = run_once(shards, watch, texts, args.messages)
            except RuntimeError as exc:  # reported and left out of the table (its round's ratio with it)
                print(f"round {round_ + 1}, {shards} process(es): failed: {exc}", flush=True)
                continue
            runs[shards].append(dict(result, round=round_))
            print(f"round {round_ + 1}, {shards} process(es): {result}", flush=True)
    print()
    print("| processes | stream messages/s, median (runs) | ratio to one process, median (rounds) | "
          "delivered to the workers | dropped | CPU s a run, all workers | CPU us a delivered message | "
          "worker's main thread waiting for a CPU / asleep, share of the run | "
          "peak RSS a worker, MiB | RSS after the run a worker, MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shards in variants:
        rs = runs[shards]
        ones = {r["round"]: r for r in runs[1]}
        ratios = [r["rate"] / ones[r["round"]]["rate"] for r in rs if r["round"] in ones]
        if not ratios:
            print(f"| {shards} | no round with both this and one process | | | | | | | | |")
            continue
        rates = ", ".join(f"{r['rate']:,.0f}" for r in rs)
        print(f"| {shards} | {statistics.median(r['rate'] for r in rs):,.0f} "
              f"({rates}) | {statistics.median(ratios):.2f}x "
              f"({', '.join(f'{x:.2f}' for x in ratios)}) | {rs[0]['delivered']:,} | {sum(r['dropped'] for r in rs)} | "
              f"{statistics.median(r['cpu_seconds'] for r in rs):.1f} | "
              f"{statistics.median(1e6 * r['cpu_seconds'] / r['delivered'] for r in rs):.1f} | "
              f"{statistics.median(x for r in rs for x in r['starved']):.0%} / "
              f"{statistics.median(x for r in rs for x in r['asleep']):.0%} | "
              f"{statistics.median(m for r in rs for m in r['peak_mib']):.0f} | "
              f"{statistics.median(m for r in rs for m in r['rss_mib']):.0f} |")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
