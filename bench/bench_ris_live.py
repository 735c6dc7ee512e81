"""RIS Live path benchmark: throughput without drops, latency at a fixed load, a recorded burst.

    python bench/bench_ris_live.py [--quick]

The local RIS Live server (tests/support/ris_live_server.py) runs in its own
process pinned to the second CPU; the client (RisLiveFeed: socket reader, bounded
queue, parser, core) runs in this process pinned to the first, so the client's
figures are one core's. 10,000 watched prefixes are taken from the shared RIB
dump (``bgpdump -m`` text); the messages are real RIB routes of those
prefixes, sent as RIS Live UPDATEs that alternately announce and withdraw, so
that every message changes the state of a watched prefix.

Measured:
1. parse-only rates of the same JSON: ``json.loads``, ``orjson.loads``, and
   routewatch's parser (JSON to events); then parser and core together in
   process, without the socket;
2. the server pushing as fast as it can: the rate the client consumes, and drops;
3. paced runs at increasing rates: the highest with no drop and no backlog;
4. at a fixed 5,000 messages/s: latency from receipt off the socket to the
   state change applied (``on_batch``), p50 and p99;
5. a real update file at 100x real time, through the server's subscription
   filter: no disconnect, no drop.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from websockets.frames import Frame, Opcode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routewatch.config.schema import Config, parse_config  # noqa: E402
from routewatch.config.to_core import build_engine  # noqa: E402
from routewatch.core.engine import Engine  # noqa: E402
from routewatch.daemon.core_sink import CoreDriver  # noqa: E402
from routewatch.sources.base import SourceContext  # noqa: E402
from routewatch.sources.ris_live.client import ReconnectBackoff  # noqa: E402
from routewatch.sources.ris_live.feed import Batch, RisLiveFeed  # noqa: E402
from routewatch.sources.ris_live.parse import RisParser  # noqa: E402
from tests.support.bgpdump import bgpdump_lines  # noqa: E402
from tests.support.ris_live_server import RisLiveServer, mrt_path, ris_messages_from_bgpdump  # noqa: E402

WATCHED = 10_000
CLIENT_CPU, SERVER_CPU = 0, 1


# -- data ---------------------------------------------------------------------------------------------------------


def build_data() -> tuple[list[dict[str, Any]], list[str]]:
    """10,000 watched prefixes from the RIB and alternating announce/withdraw messages for them."""
    lines = bgpdump_lines(mrt_path("bview.20020722.2337.gz"))
    by_prefix: defaultdict[str, list[Any]] = defaultdict(list)
    for line in lines:
        if ":" not in line.prefix and line.as_path and not line.as_path.split()[-1].startswith("{"):
            by_prefix[line.prefix].append(line)
    chosen = sorted(by_prefix, key=lambda p: (-len(by_prefix[p]), p))[:WATCHED]
    watch = [{"prefix": p, "asn": int(by_prefix[p][0].as_path.split()[-1])} for p in chosen]
    announcements = ris_messages_from_bgpdump([ln for p in chosen for ln in by_prefix[p]], "rrc00")
    texts = []
    for message in announcements:
        data = message["data"]
        texts.append(orjson.dumps(message).decode())
        withdrawal = {k: data[k] for k in ("peer", "peer_asn", "host", "type", "id")}
        withdrawal.update(timestamp=data["timestamp"], path=[], community=[],
                          withdrawals=[p for a in data["announcements"] for p in a["prefixes"]])
        texts.append(orjson.dumps({"type": "ris_message", "data": withdrawal}).decode())
    return watch, texts


def timestamped(texts: list[str], count: int, rate: float, start: float = 1_100_000_000.0) -> list[str]:
    """``count`` messages cycling through ``texts``, data time advancing at ``rate`` messages a second.

    Timestamps have RIS Live's resolution (10 ms), so at a high rate many messages share one, as on
    the real feed, where data time follows the wall clock.
    """
    out = []
    for i in range(count):
        message = orjson.loads(texts[i % len(texts)])
        message["data"]["timestamp"] = round(start + i / rate, 2)
        out.append(orjson.dumps(message).decode())
    return out


# -- the server process -------------------------------------------------------------------------------------------


def server_main(ports: mp.Queue, results: mp.Queue, go: Any, job: dict[str, Any]) -> None:
    os.sched_setaffinity(0, {SERVER_CPU})
    asyncio.run(_serve(ports, results, go, job))


async def _serve(ports: mp.Queue, results: mp.Queue, go: Any, job: dict[str, Any]) -> None:
    server = await RisLiveServer().start()
    ports.put(server.port)
    await server.wait_subscribed(job["subscriptions"])
    # Frames are serialised before the client starts its clock and written a burst at a time, so that
    # the server's own per-message cost never limits what the client is measured at.
    texts: list[str] = job.get("texts", [])
    frames = [Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[]) for text in texts]
    await asyncio.to_thread(go.wait, 120)  # until the client has applied every acknowledgement
    (client,) = server.clients
    started = time.perf_counter()
    sent = 0
    if job["mode"] == "replay":
        await server.replay(job["messages"], speedup=job["speedup"])
        sent = server.sent
    else:
        rate: float | None = job.get("rate")
        burst = max(1, int(rate // 1000)) if rate is not None else 256  # paced: about one burst a millisecond
        transport = client.ws.transport
        for index in range(0, len(frames), burst):
            if rate is not None:
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            chunk = frames[index:index + burst]
            transport.write(b"".join(chunk))
            sent += len(chunk)
            while transport.get_write_buffer_size() > 1 << 20:  # TCP pushes back: the client is behind
                await asyncio.sleep(0.0005)
    results.put((sent, time.perf_counter() - started))
    await asyncio.sleep(job.get("linger", 30.0))
    await server.stop()


def watched_core(watch: list[dict[str, Any]], queue_size: int = 100_000) -> tuple[Config, Engine]:
    """The config (one RIS Live source; its URL is set once the server has a port) and a core watching ``watch``."""
    config = parse_config({"prefixes": watch, "sources": [{
        "type": "ris-live", "url": "ws://127.0.0.1:1/", "queue_size": queue_size, "reconcile": "none",
        "collector_stale_after": 3600.0}], "bgp": {"bootstrap": {"ripestat": False}}})
    return config, build_engine(config, bootstrapped=True)


# -- the client ---------------------------------------------------------------------------------------------------


async def run_client(watch: list[dict[str, Any]], job: dict[str, Any], *, latency: bool = False,
                     queue_size: int = 100_000) -> dict[str, Any]:
    ports: mp.Queue = mp.Queue()
    results: mp.Queue = mp.Queue()
    config, monitor = watched_core(watch, queue_size)
    job = dict(job, subscriptions=len(watch) + 2)
    go = mp.Event()
    process = mp.Process(target=server_main, args=(ports, results, go, job), daemon=True)
    process.start()
    port = await asyncio.to_thread(ports.get, True, 60)
    source = config.sources[0].model_copy(update={"url": f"ws://127.0.0.1:{port}/v1/ws/"})
    latencies: list[float] = []
    processed = [0]

    def on_batch(batch: Batch) -> None:
        processed[0] += batch.messages
        if latency:
            now = time.perf_counter()
            latencies.extend(now - t for t in batch.receipts)

    live = RisLiveFeed(source, SourceContext(config), on_batch=on_batch, backoff=ReconnectBackoff(0.05, 0.2),
                       tick=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(live.run(CoreDriver(monitor), stop))
    acks = len(watch) + 2
    while live.client.stats.acknowledged < acks:
        await asyncio.sleep(0.01)
    latencies.clear()
    go.set()
    started = time.perf_counter()
    sent, send_seconds = await asyncio.to_thread(results.get, True, 600)
    stats = live.client.stats
    while stats.received < acks + sent or processed[0] + stats.dropped < stats.received:
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - started
    health = live.health()
    stop.set()
    await task
    process.terminate()
    process.join()
    applied = processed[0] - acks
    out = {"sent": sent, "send_seconds": round(send_seconds, 2), "seconds": round(elapsed, 2), "applied": applied,
           "dropped": health.dropped, "reconnects": health.reconnects, "malformed": health.malformed,
           "rate": round(applied / elapsed)}
    if latency and latencies:
        ordered = sorted(latencies)
        out["p50_ms"] = 1000 * ordered[len(ordered) // 2]
        out["p99_ms"] = 1000 * ordered[int(len(ordered) * 0.99)]
        out["max_ms"] = 1000 * ordered[-1]
    return out


# -- parse-only ---------------------------------------------------------------------------------------------------


def parse_rates(texts: list[str], clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Rates over the UTF-8 bytes of each message, as they come off the socket (``clock``: process time for CPU)."""
    texts = [text.encode() for text in texts]  # type: ignore[misc]
    rates = {}
    for name, loads in (("json.loads", json.loads), ("orjson.loads", orjson.loads)):
        started = clock()
        for text in texts:
            loads(text)
        rates[name] = len(texts) / (clock() - started)
    parser = RisParser()
    started = clock()
    for text in texts:
        parser.decode(text)
    rates["RisParser.decode (JSON to events)"] = len(texts) / (clock() - started)
    return rates


def in_process_rate(watch: list[dict[str, Any]], texts: list[str], clock: Callable[[], float] = time.perf_counter
                    ) -> float:
    """Parser and core alone, batched as RisLiveFeed batches them: the socket's share is what the live rate lacks."""
    monitor = watched_core(watch)[1]
    monitor.flush()
    decode, apply = RisParser().decode, monitor.apply
    messages = [text.encode() for text in texts]
    started = clock()
    for start in range(0, len(messages), 1024):
        for message in messages[start:start + 1024]:
            for event in decode(message).events:
                apply(event)
        monitor.flush()
    return len(messages) / (clock() - started)


# -- main ---------------------------------------------------------------------------------------------------------


async def main(quick: bool) -> None:
    os.sched_setaffinity(0, {CLIENT_CPU})
    gc.freeze()
    watch, texts = build_data()
    count = 60_000 if quick else 300_000
    stream = timestamped(texts, count, 50_000)
    print(f"# {len(watch)} watched prefixes, {len(texts)} distinct messages, {count} per run", flush=True)
    parse = parse_rates(stream[:100_000])
    for name, rate in parse.items():
        print(f"parse-only {name}: {rate:,.0f}/s", flush=True)
    print(f"parser and core in process, no socket: {in_process_rate(watch, stream[:100_000]):,.0f}/s", flush=True)

    blast = await run_client(watch, {"mode": "send", "texts": stream})
    print(f"as fast as the server can push: {blast}", flush=True)

    paced = []
    for rate in (5_000, 10_000, 15_000, 20_000, 30_000, 50_000):
        n = min(count, rate * (4 if quick else 10))
        result = await run_client(watch, {"mode": "send", "texts": timestamped(texts, n, rate), "rate": rate},
                                  queue_size=10_000)
        behind = result["seconds"] - n / rate
        result["behind_s"] = behind
        paced.append((rate, result))
        print(f"paced {rate}/s: {result}", flush=True)

    fixed = await run_client(watch, {"mode": "send", "texts": timestamped(texts, 25_000 if quick else 50_000, 5_000),
                                     "rate": 5_000}, latency=True)
    print(f"fixed 5000/s: {fixed}", flush=True)

    burst_file = "updates.20070211.0141.gz"
    burst_lines = bgpdump_lines(mrt_path(burst_file))
    burst_messages = ris_messages_from_bgpdump(burst_lines, "rrc00")
    counts: defaultdict[str, int] = defaultdict(int)
    for line in burst_lines:
        if line.kind in ("A", "W") and ":" not in line.prefix:
            counts[line.prefix] += 1
    burst_watch = [{"prefix": p, "asn": 64496} for p in sorted(counts, key=lambda p: -counts[p])[:WATCHED]]
    burst = await run_client(burst_watch, {"mode": "replay", "messages": burst_messages, "speedup": 100.0})
    span = burst_messages[-1]["data"]["timestamp"] - burst_messages[0]["data"]["timestamp"]
    print(f"burst {burst_file} ({len(burst_messages)} messages over {span:.0f}s) at 100x: {burst}", flush=True)

    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {datetime.date.today().isoformat()}")
    sustained = max((r for r, res in paced if res["dropped"] == 0 and res["behind_s"] < 1.0), default=None)
    print(f"highest paced rate without drops or backlog: {sustained}")
    print(f"median of paced client rates: {statistics.median(res['rate'] for _, res in paced):,.0f}/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    asyncio.run(main(parser.parse_args().quick))
