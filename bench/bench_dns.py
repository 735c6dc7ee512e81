"""DNS probe throughput and RTT accuracy against a local Knot.

2,000 (zone, nameserver, address) targets: 500 zones served by one knotd on
four loopback addresses, probed every 10 s (jitter 10 %) over UDP, plus TCP
on its default schedule. Reports probes completed per second over the steady
window, how late probes ran against their schedule, and, in the same run on
the same servers, routewatch's RTTs next to ``dig``'s and ``kdig``'s for a
sample of targets.

With ``--dnssec both`` (the default) it runs twice on zones Knot signs: first
with the DNSSEC check off (the reference), then on, at the same 10 s interval
as the UDP SOA probe (a DNSKEY and an SOA query with DO=1 and the signatures
validated per address), and reports CPU per SOA probe for each (with the DNSSEC checks' cost
included when on: one check per address per UDP probe).

    .venv/bin/python bench/bench_dns.py [--seconds 40] [--zones 500] [--dnssec off|on|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from routewatch.config.schema import Config, DnssecSettings, DnsSettings, Limits, ZoneWatch  # noqa: E402
from routewatch.dns.checks import CHECKS, CheckJob, CheckOutcome, DnsCheck  # noqa: E402
from routewatch.dns.service import DnsMonitor  # noqa: E402
from routewatch.dns.targets import Transport  # noqa: E402
from tests.support.dns_servers import Knot, free_port, lab_block, zone_file  # noqa: E402
from tests.support.dnssec_lab import served_dnskeys  # noqa: E402

ADDRESSES_PER_ZONE = 4


class CountingCheck:
    """Counts the runs of a registered check (the monitor counts SOA probes only)."""

    def __init__(self, check: DnsCheck) -> None:
        self.check, self.name, self.runs = check, check.name, 0

    def periods(self, watch: ZoneWatch, settings: DnsSettings) -> object:
        return self.check.periods(watch, settings)

    async def run(self, job: CheckJob) -> CheckOutcome:
        self.runs += 1
        return await self.check.run(job)


def start_knot(workdir: Path, zones: int, signed: bool) -> tuple[Knot, list[str], list[str], int]:
    block = lab_block()
    addresses = [block + str(i) for i in range(1, ADDRESSES_PER_ZONE + 1)]
    port = free_port(addresses)
    names = [f"z{i:04d}.bench." for i in range(zones)]
    texts = {name: zone_file(name, 1000 + i, [f"ns{k}.{name}" for k in range(1, 5)],
                             [(f"ns{k}.{name}", "A", addresses[k - 1]) for k in range(1, 5)])
             for i, name in enumerate(names)}
    signing = dict.fromkeys(names, "default") if signed else {}
    knot = Knot("bench", workdir, addresses, port, zones=texts, signing=signing, ready_deadline=120.0)
    knot.start()
    if signed:  # zones load and are signed one after another: wait for the last one
        served_dnskeys(addresses[0], port, names[-1], deadline=120.0)
    return knot, addresses, names, port


def dig_rtt(tool: str, address: str, port: int, zone: str) -> float | None:
    """One query's time in seconds as the tool reports it (dig: whole ms; kdig: 0.1 ms)."""
    retry = "+tries=1" if tool == "dig" else "+retry=0"
    out = subprocess.run([tool, "+norec", "+time=2", retry, "-p", str(port), f"@{address}", zone, "SOA"],
                         capture_output=True, text=True, check=False).stdout
    if tool == "dig":
        match = re.search(r"Query time: (\d+) msec", out)
        return None if match is None else int(match.group(1)) / 1000
    match = re.search(r"in ([\d.]+) ms", out)
    return None if match is None else float(match.group(1)) / 1000


async def run(seconds: float, zones: int, dnssec: bool, signed: bool) -> dict[str, object]:
    counting = CountingCheck(CHECKS["dnssec"])
    CHECKS["dnssec"] = counting  # type: ignore[assignment]
    try:
        return await _run(seconds, zones, dnssec, signed, counting)
    finally:
        CHECKS["dnssec"] = counting.check


async def _run(seconds: float, zones: int, dnssec: bool, signed: bool, counting: CountingCheck) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        knot, addresses, names, port = start_knot(Path(tmp), zones, signed)
        try:
            pinned = {name: addresses for name in names}
            config = Config(
                zones=[ZoneWatch(zone=name) for name in names],
                dns=DnsSettings(port=port, interval=10, jitter=0.1, timeout=2.0, concurrency=64,
                                dnssec=DnssecSettings(enabled=dnssec, interval=10)),
                limits=Limits(max_zones=max(zones, 500)),
            )
            monitor = DnsMonitor(config, pinned=pinned)
            stop = asyncio.Event()
            task = asyncio.create_task(monitor.run(stop))
            await asyncio.sleep(10)  # the first round (UDP and TCP for every target) is warm-up
            start_probes = sum(t.probes for t in monitor.snapshot().targets)
            start_checks = counting.runs
            started, cpu_started = time.monotonic(), time.process_time()
            samples = [(addresses[i % 4], names[(i * 37) % len(names)]) for i in range(40)]
            tool_rtts: dict[str, list[float]] = {"dig": [], "kdig": []}
            for address, zone in samples:  # in the same run, against the same loaded server
                for tool in tool_rtts:
                    rtt = await asyncio.to_thread(dig_rtt, tool, address, port, zone)
                    if rtt is not None:
                        tool_rtts[tool].append(rtt)
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
            snapshot = monitor.snapshot()
            elapsed = time.monotonic() - started
            cpu = time.process_time() - cpu_started
            probes = sum(t.probes for t in snapshot.targets) - start_probes
            dnssec_checks = counting.runs - start_checks
            stop.set()
            await task
        finally:
            knot.stop()
    targets = snapshot.targets
    failures = sum(sum(t.failures.values()) for t in targets)
    ours = [r for t in targets if (r := t.rtt(Transport.UDP)) is not None]
    sampled = {(a, z) for a, z in samples}
    ours_sampled = [r for t in targets if (t.address, t.zone) in sampled and (r := t.rtt(Transport.UDP))]
    ms = 1000.0
    states = {z.dnssec.state for z in snapshot.zones}
    signed_ok = sum(1 for t in targets if t.dnssec is not None and t.dnssec.status == "signed")
    return {
        "dnssec": "on" if dnssec else "off",
        "zones_signed": signed,
        "targets": len(targets),
        "window_s": round(elapsed, 1),
        "probes": probes,
        "probes_per_s": round(probes / elapsed, 1),
        "expected_per_s": round(len(targets) / 10, 1),
        "failures": failures,
        "cpu_percent_of_one_core": round(100 * cpu / elapsed, 1),
        "dnssec_checks_per_s": round(dnssec_checks / elapsed, 1),
        "targets_validly_signed": signed_ok,
        "zone_dnssec_states": ",".join(sorted(states)),
        "cpu_ms_per_soa_probe": round(1000 * cpu / probes, 3) if probes else None,  # DNSSEC's cost included
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rtt_ms_routewatch_all_median": round(statistics.median(ours) * ms, 3),
        "rtt_ms_routewatch_all_p99": round(statistics.quantiles(ours, n=100)[98] * ms, 3),
        "rtt_ms_routewatch_sampled_median": round(statistics.median(ours_sampled) * ms, 3),
        "rtt_ms_dig_median": round(statistics.median(tool_rtts["dig"]) * ms, 3),
        "rtt_ms_kdig_median": round(statistics.median(tool_rtts["kdig"]) * ms, 3),
        "dig_samples": len(tool_rtts["dig"]),
        "machine": f"{platform.processor() or platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}",
    }


def _cpus() -> int:
    return os.cpu_count() or 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--zones", type=int, default=500)
    parser.add_argument("--dnssec", choices=["off", "on", "both"], default="both")
    options = parser.parse_args()
    modes = {"off": [False], "on": [True], "both": [False, True]}[options.dnssec]
    for dnssec in modes:
        figures = asyncio.run(run(options.seconds, options.zones, dnssec, signed=options.dnssec != "off"))
        for key, value in figures.items():
            print(f"{key}: {value}")
        print()


if __name__ == "__main__":
    main()
