"""Live equals replay: the same MRT data through RIS Live and through ``routewatch replay``.

The server's messages are built from ``bgpdump -m`` text; the reference is the
MRT reader driving the same core via ``replay_files``. Two independent
decodings, one core: the final state and every detection must agree.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from routewatch.config.to_core import build_engine
from routewatch.tools.replay import replay_files
from tests.support.bgpdump import bgpdump_lines
from tests.support.bgpdump_format import BgpdumpLine
from tests.support.live_harness import live_config, ris_server, running_live, wait_until
from tests.support.ris_live_server import mrt_path, ris_messages_from_bgpdump
from tests.support.tools import require_data

FILE = "updates.20100722.2015.gz"
COLLECTOR = "rrc00"


def watched_prefixes(lines: list[BgpdumpLine]) -> list[dict[str, object]]:
    """The prefixes most peers announce, the fully withdrawn ones, and two with a wrong expected origin."""
    peers: defaultdict[str, set[str]] = defaultdict(set)
    origins: defaultdict[str, Counter[str]] = defaultdict(Counter)
    last: dict[tuple[str, str], str] = {}
    for line in lines:
        if line.kind in ("A", "W"):
            last[(line.prefix, line.peer_address)] = line.kind
        if line.kind == "A" and line.as_path.split() and not line.as_path.split()[-1].startswith("{"):
            peers[line.prefix].add(line.peer_address)
            origins[line.prefix][line.as_path.split()[-1]] += 1
    ranked = sorted(peers, key=lambda p: (-len(peers[p]), p))
    withdrawn = [p for p in ranked if len(peers[p]) >= 3 and all(last[(p, a)] == "W" for a in peers[p])]
    chosen = list(dict.fromkeys(ranked[:40] + withdrawn))
    watch = [{"prefix": p, "asn": int(origins[p].most_common(1)[0][0])} for p in chosen]
    for entry in watch[:2]:
        entry["asn"] = 64496  # nobody originates this: every announcement is an origin anomaly
    return watch


async def test_live_replay_gives_the_same_state_and_detections_as_replay() -> None:
    path = require_data(mrt_path(FILE))
    lines = bgpdump_lines(path)
    bgp = {"thresholds": {"hold_down": 5.0, "min_baseline_peers": 2}, "baseline_min_hold": 30.0,
           "peer_settle": 60.0}
    config = live_config("ws://unused", watched_prefixes(lines), bgp=bgp)

    reference = build_engine(config, bootstrapped=False)
    expected = replay_files(reference, [str(path)], collector=COLLECTOR)
    assert any(c.detection.kind == "withdrawal" for c in expected.changes)
    assert any(c.detection.kind == "origin" for c in expected.changes)

    messages = ris_messages_from_bgpdump(lines, COLLECTOR)
    async with ris_server() as server:
        config = live_config(server.url, watched_prefixes(lines), bgp=bgp)
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            subscriptions = run.live.client.subscription_count
            await server.wait_subscribed(subscriptions)
            await server.replay(messages)
            await wait_until(lambda: run.messages >= server.sent + subscriptions, "every message applied")
            health = run.live.details()

    assert server.sent > 500
    assert (health.dropped, health.malformed, health.reconnects) == (0, 0, 0)
    assert health.acknowledged == subscriptions
    assert monitor.snapshot() == reference.snapshot()
    assert [(c.change, c.detection, c.time) for c in run.changes] == \
        [(c.change, c.detection, c.time) for c in expected.changes]
