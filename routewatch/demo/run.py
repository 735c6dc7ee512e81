"""``routewatch demo``: the daemon watching a replayed 2021-10-04, with no internet and nothing to configure.

The incident player listens on loopback and speaks RIS Live; the daemon is the
real ``routewatch run`` with a config written for the story: the six DNS
prefixes and the covering aggregate of AS32934, one ``ris-live`` source
pointed at the player, no RIPEstat. Data time is the wall clock, so the
story's hours are compressed by the demo's speed, and the core's timings
(hold-down, baseline hold, peer settle, baseline window) are divided by the
same factor: at 90x the one-minute hold-down is two thirds of a second of the
demo, one minute of the story.

When Knot or NSD is installed, facebook.com is served for real on loopback
(:mod:`routewatch.demo.dns`) and watched as a zone: its nameservers fall
silent while the story has their prefixes withdrawn, so the DNS probes and
the DNS<->BGP join see the outage as they would have in 2021.
"""

from __future__ import annotations

import asyncio
import datetime
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from routewatch.daemon.runner import Daemon
from routewatch.demo.dns import PARENT_ADDRESS, DemoDns, find_server, with_stand_ins
from routewatch.demo.incident import (
    AGGREGATE,
    DNS_PREFIXES,
    END,
    HIJACK_END,
    HIJACK_START,
    HIJACKED,
    HIJACKER,
    ORIGIN,
    OUTAGE,
    RESTART_DOWN,
    RESTART_UP,
    RESTARTING_COLLECTOR,
    RETURN,
    Step,
    timeline,
)
from routewatch.demo.player import IncidentPlayer

CHAPTERS = (
    (OUTAGE, f"AS{ORIGIN} starts withdrawing its six DNS prefixes; {AGGREGATE} stays announced"),
    (RESTART_DOWN, f"collector {RESTARTING_COLLECTOR} restarts: its sessions go down (not a withdrawal)"),
    (RESTART_UP, f"collector {RESTARTING_COLLECTOR} is back and re-sends what its peers hold"),
    (HIJACK_START, f"AS{HIJACKER} announces {HIJACKED} at a few peers (a sub-prefix hijack)"),
    (HIJACK_END, f"AS{HIJACKER}'s {HIJACKED} is withdrawn"),
    (RETURN, f"AS{ORIGIN} announces its DNS prefixes again"),
    (END, "the story is over; routewatch keeps running (Ctrl-C stops it)"),
)


def demo_config(url: str, speed: float, listen: str, port: int, workdir: Path,
                dns: DemoDns | None = None) -> dict[str, Any]:
    """The config ``routewatch run`` gets: what the story is about, its timings divided by ``speed``."""
    described = {p: "serves a.ns-d.ns.facebook.com (reconstructed)" for p in DNS_PREFIXES}
    return (dns.config(speed) if dns is not None else {}) | {
        "prefixes": [{"prefix": p, "asn": ORIGIN, "description": d, "group": "demo"} for p, d in described.items()]
        + [{"prefix": AGGREGATE, "asn": ORIGIN, "description": "covering aggregate; stayed announced",
            "group": "demo"}],
        "sources": [{"type": "ris-live", "url": url, "reconcile": "none"}],
        "bgp": {
            "bootstrap": {"ripestat": False},
            "thresholds": {"hold_down": 60.0 / speed},
            "baseline_min_hold": 300.0 / speed,
            "peer_settle": 900.0 / speed,
            "baseline_window": 86_400.0 / speed,
        },
        "exporter": {"listen": listen, "port": port},
        "logging": {"detection_log": str(workdir / "detections.jsonl")},
    }


def narrator(speed: float, say: Callable[[str], None]) -> Callable[[Step], None]:
    """Tells each chapter of the story once, when its first message goes out."""
    pending = list(CHAPTERS)

    def on_step(step: Step) -> None:
        while pending and step.at >= pending[0][0]:
            at, text = pending.pop(0)
            say(f"[story {datetime.datetime.fromtimestamp(at, datetime.UTC):%H:%M} UTC] {text}")

    return on_step


async def start_dns(workdir: Path, say: Callable[[str], None]) -> DemoDns | None:
    """The demo's own DNS when Knot or NSD is installed and starts; otherwise None, said in one line."""
    program = find_server()
    if program is None:
        say("no Knot (knotd) or NSD (nsd) installed: the demo runs without DNS; install one to watch "
            "facebook.com's nameservers go silent too")
        return None
    dns = DemoDns(program, workdir / "dns")
    try:
        await asyncio.to_thread(dns.start)
    except OSError as exc:
        say(f"the demo's DNS server could not start ({exc}): the demo runs without DNS")
        return None
    say(f"DNS: {dns.name} serves facebook.com on 127.0.53.11-14 port {dns.port} (com. on {PARENT_ADDRESS}); "
        "its nameservers fall silent while their prefixes are withdrawn")
    return dns


def story_hooks(*hooks: Callable[[Step], None]) -> Callable[[Step], None]:
    def on_step(step: Step) -> None:
        for hook in hooks:
            hook(step)
    return on_step


async def run_demo(speed: float, listen: str, port: int, loop: bool, say: Callable[[str], None]) -> int:
    """Play the story to a real daemon until SIGTERM/SIGINT; returns the daemon's exit code."""
    with tempfile.TemporaryDirectory(prefix="routewatch-demo-") as tmp:
        workdir = Path(tmp)
        dns = await start_dns(workdir, say)
        story = (lambda: [with_stand_ins(step) for step in timeline()]) if dns is not None else timeline
        player = IncidentPlayer(speed, loop=loop, story=story)
        try:
            url = await player.start()
            config = workdir / "demo.yaml"
            config.write_text(yaml.safe_dump(demo_config(url, speed, listen, port, workdir, dns), sort_keys=False))
            daemon = Daemon(config)
            hooks = [narrator(speed, say)] + ([lambda step: dns.follow(step.at)] if dns is not None else [])
            playing = asyncio.create_task(player.play(story_hooks(*hooks)))
            try:
                return await daemon.run()
            finally:
                playing.cancel()
                await asyncio.gather(playing, return_exceptions=True)
        finally:
            await player.close()
            if dns is not None:
                dns.stop()
