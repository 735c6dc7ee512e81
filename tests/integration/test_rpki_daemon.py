"""``routewatch run`` validating the routes it follows against a VRP JSON file that changes under it;
``routewatch replay`` loading its set once from an RTR cache (StayRTR).

The BGP side is an MRT RIB dump plus a followed directory (as in
``test_run_daemon``); the VRPs are an rpki-client style JSON export the test
writes, replaces and edits. The daemon must say ``unknown`` before any set
loaded, then follow each change: states, invalid peers, the ROA expiry, and
the detections a ROA edit causes, in the detection log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates
from tests.support.rpki_servers import StayRtr, write_vrp_file
from tests.support.tools import MRT_DIR

pytestmark = pytest.mark.integration

PREFIX = "198.51.100.0/24"
ORIGIN = 32934
OTHER = 64496
PEERS = 6
DAY = 86_400


def write_vrps(path: Path, roas: list[tuple[str, int, int, int]]) -> None:
    """rpki-client's ``json`` output (``expires`` in epoch seconds), replaced atomically."""
    document = {"metadata": {"buildtime": "2026-01-01T00:00:00Z", "roas": len(roas)},
                "roas": [{"asn": asn, "prefix": p, "maxLength": m, "ta": "test", "expires": e}
                         for p, m, asn, e in roas]}
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(document))
    os.replace(scratch, path)


def rpki_state(daemon: Daemon) -> str | None:
    states = [s for s in ("valid", "invalid", "not-found", "unknown")
              if daemon.value("routewatch_bgp_prefix_rpki_state", prefix=PREFIX, state=s) == 1]
    return states[0] if len(states) == 1 else None


def test_vrps_changing_under_the_daemon_are_followed(tmp_path: Path) -> None:
    (tmp_path / "feed").mkdir()
    now = int(time.time())
    write_updates(tmp_path / "rrc00.rib.mrt", [Update(now - 5, f"192.0.2.{n}", 64500 + n, [PREFIX],
                                                      [64500 + n, 3356, ORIGIN]) for n in range(1, PEERS + 1)])
    port = exporter_port()
    vrps = tmp_path / "vrps.json"
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - {{prefix: {PREFIX}, asn: {ORIGIN}}}
sources:
  - {{type: mrt, name: feed, files: ["feed/*.mrt"], follow: true, poll_interval: 0.2, collector: rrc00}}
bgp:
  anomaly_min_peers: 2
  bootstrap: {{mrt_files: [rrc00.rib.mrt], ripestat: false}}
rpki:
  sources: [{{type: json, name: roas, path: {vrps}}}]
  refresh: 0.2
  expiry_warning: {3 * DAY}
exporter: {{listen: 127.0.0.1, port: {port}}}
logging: {{format: json, detection_log: detections.jsonl}}
""")
    daemon = Daemon(config, port, tmp_path).start()
    try:
        # No file yet: the source failed, nothing is known, nothing is invalid.
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == PEERS, 15,
                 "the RIB to load")
        assert rpki_state(daemon) == "unknown"
        assert daemon.value("routewatch_bgp_prefix_rpki_invalid_peers", prefix=PREFIX) is None

        expires = now + 10 * DAY
        write_vrps(vrps, [("198.51.0.0/16", 24, ORIGIN, expires)])
        wait_for(lambda: rpki_state(daemon) == "valid", 15, "the first VRP set")
        assert daemon.value("routewatch_bgp_prefix_rpki_invalid_peers", prefix=PREFIX) == 0
        assert daemon.value("routewatch_bgp_prefix_rpki_expires_timestamp_seconds", prefix=PREFIX) == expires

        # The ROA is re-issued for another AS: every route seen now becomes invalid.
        write_vrps(vrps, [("198.51.0.0/16", 24, OTHER, now + 2 * DAY)])
        wait_for(lambda: rpki_state(daemon) == "invalid", 15, "the edited VRP set")
        assert daemon.value("routewatch_bgp_prefix_rpki_invalid_peers", prefix=PREFIX) == PEERS
        assert daemon.value("routewatch_bgp_prefix_rpki_expires_timestamp_seconds", prefix=PREFIX) is None

        # Fixed with a ROA expiring within the warning window.
        soon = now + 2 * DAY
        write_vrps(vrps, [("198.51.0.0/16", 24, OTHER, soon), (PREFIX, 24, ORIGIN, soon)])
        wait_for(lambda: rpki_state(daemon) == "valid", 15, "the fixed VRP set")
        assert daemon.value("routewatch_bgp_prefix_rpki_invalid_peers", prefix=PREFIX) == 0
        wait_for(lambda: daemon.value("routewatch_bgp_detections_open", kind="rpki-roa-expiring") == 1, 15,
                 "the expiry warning")
    finally:
        assert daemon.stop() == 0
    events = [json.loads(line) for line in (tmp_path / "detections.jsonl").read_text().splitlines()]
    seen = [(e["event"], e["kind"]) for e in events]
    assert seen == [  # routes are judged before the watched prefix itself, in the same batch
        ("opened", "rpki-invalid"),
        ("opened", "rpki-roa-change"), ("closed", "rpki-roa-change"),
        ("opened", "rpki-roa-would-invalidate"), ("closed", "rpki-roa-would-invalidate"),
        ("closed", "rpki-invalid"),
        ("opened", "rpki-roa-change"), ("closed", "rpki-roa-change"),
        ("opened", "rpki-roa-expiring"),
    ], seen
    invalid = next(e for e in events if e["kind"] == "rpki-invalid")
    assert invalid["evidence"]["peers"] == PEERS
    assert invalid["evidence"]["covering_vrps"] == [f"198.51.0.0/16-24 AS{OTHER}"]
    assert invalid["evidence"]["rpki_reasons"] == ["wrong-origin"]
    change = events[1]["evidence"]
    assert (change["before"], change["after"]) == ([f"198.51.0.0/16-24 AS{ORIGIN}"], [f"198.51.0.0/16-24 AS{OTHER}"])


def source_health(daemon: Daemon, source: str) -> dict[str, float | None]:
    """The source's five series, from one scrape."""
    samples = daemon.scrape_or_none() or {}
    return {metric: samples.get((f"routewatch_rpki_source_{metric}", (("source", source),)))
            for metric in ("vrps", "serial", "last_update_timestamp_seconds", "stale", "errors_total")}


def test_failing_vrp_sources_keep_their_set_and_are_exported_as_stale(tmp_path: Path) -> None:
    """A corrupt JSON export and a killed StayRTR: each keeps its last good set, says stale, counts errors."""
    (tmp_path / "feed").mkdir()
    now = int(time.time())
    write_updates(tmp_path / "rrc00.rib.mrt", [Update(now - 5, f"192.0.2.{n}", 64500 + n, [PREFIX],
                                                      [64500 + n, 3356, ORIGIN]) for n in range(1, PEERS + 1)])
    cache_file = tmp_path / "cache.json"
    write_vrp_file(cache_file, [("203.0.113.0/24", 24, OTHER), ("2001:db8::/32", 48, OTHER)])
    cache = StayRtr(tmp_path, cache_file).start()
    vrps = tmp_path / "vrps.json"
    write_vrps(vrps, [("198.51.0.0/16", 24, ORIGIN, now + 10 * DAY)])
    port = exporter_port()
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - {{prefix: {PREFIX}, asn: {ORIGIN}}}
sources:
  - {{type: mrt, name: feed, files: ["feed/*.mrt"], follow: true, poll_interval: 0.2, collector: rrc00}}
bgp:
  bootstrap: {{mrt_files: [rrc00.rib.mrt], ripestat: false}}
rpki:
  sources:
    - {{type: json, name: roas, path: {vrps}}}
    - {{type: rtr, name: cache, host: 127.0.0.1, port: {cache.port}}}
  refresh: 0.2
exporter: {{listen: 127.0.0.1, port: {port}}}
""")
    daemon = Daemon(config, port, tmp_path).start()
    try:
        roas = wait_for(lambda: (h := source_health(daemon, "roas"))["stale"] == 0 and h, 15, "the JSON set")
        assert (roas["vrps"], roas["serial"], roas["errors_total"]) == (1, None, 0)  # a file has no serial
        assert roas["last_update_timestamp_seconds"] is not None
        rtr = wait_for(lambda: (h := source_health(daemon, "cache"))["stale"] == 0 and h, 15, "the RTR set")
        assert rtr["vrps"] == 2 and rtr["serial"] is not None and rtr["errors_total"] == 0
        wait_for(lambda: rpki_state(daemon) == "valid", 15, "validation against the merged set")

        # The export is damaged: its last good set stays in use, the source says stale and counts each failed reload.
        vrps.write_text('{"roas": [{"prefix": "198.51.')
        wait_for(lambda: source_health(daemon, "roas")["stale"] == 1, 15, "the JSON source to go stale")
        failed = source_health(daemon, "roas")
        wait_for(lambda: (source_health(daemon, "roas")["errors_total"] or 0) > (failed["errors_total"] or 0), 15,
                 "more failed reloads")
        assert failed["vrps"] == 1 and failed["last_update_timestamp_seconds"] == roas["last_update_timestamp_seconds"]
        assert rpki_state(daemon) == "valid"

        write_vrps(vrps, [("198.51.0.0/16", 24, ORIGIN, now + 10 * DAY), (PREFIX, 24, ORIGIN, now + 10 * DAY)])
        fixed = wait_for(lambda: (h := source_health(daemon, "roas"))["stale"] == 0 and h, 15, "the fixed export")
        assert fixed["vrps"] == 2 and (fixed["errors_total"] or 0) >= 2

        # The cache dies: its set is kept (stale), reconnection attempts fail and are counted.
        cache.kill()
        wait_for(lambda: source_health(daemon, "cache")["stale"] == 1, 15, "the RTR source to go stale")
        dead = source_health(daemon, "cache")
        wait_for(lambda: (source_health(daemon, "cache")["errors_total"] or 0) > (dead["errors_total"] or 0), 15,
                 "failed reconnections")
        assert (dead["vrps"], dead["serial"]) == (2, rtr["serial"])
        assert rpki_state(daemon) == "valid"

        # Restarted, the cache has a new session id and closes on routewatch's Serial Query without a word;
        # routewatch must start over with a Reset Query rather than ask the same forever.
        write_vrp_file(cache_file, [("203.0.113.0/24", 24, OTHER)])
        cache.start()
        back = wait_for(lambda: (h := source_health(daemon, "cache"))["stale"] == 0 and h, 30, "the restarted cache")
        assert back["vrps"] == 1 and (back["errors_total"] or 0) >= 2
        assert source_health(daemon, "roas")["stale"] == 0
    finally:
        assert daemon.stop() == 0
        cache.kill()


def test_replay_loads_its_vrps_once_from_an_rtr_cache(tmp_path: Path) -> None:
    """``replay`` with an ``rtr`` source: StayRTR serves the set, loaded before the first record."""
    cache = tmp_path / "vrps.json"
    write_vrp_file(cache, [("94.205.0.0/16", 18, 15802)])
    server = StayRtr(tmp_path, cache).start()
    try:
        config = tmp_path / "routewatch.yaml"
        config.write_text(f"""
prefixes:
  - {{prefix: 94.205.96.0/19, asn: 15802}}
rpki:
  sources: [{{type: rtr, name: stayrtr, host: 127.0.0.1, port: {server.port}}}]
  load_timeout: 20
""")
        result = subprocess.run(
            [str(Path(sys.executable).parent / "routewatch"), "replay", "-c", str(config), "--json",
             str(MRT_DIR / "updates.20100722.2015.gz")], capture_output=True, text=True, timeout=120)
    finally:
        server.kill()
    assert result.returncode == 0, result.stderr
    opened = [json.loads(line) for line in result.stdout.splitlines()]
    invalid = [d for d in opened if d["kind"] == "rpki-invalid" and d["event"] == "opened"]
    assert [(d["prefix"], d["evidence"]["rpki_reasons"], d["evidence"]["covering_vrps"]) for d in invalid] == [
        ("94.205.96.0/19", ["too-long"], ["94.205.0.0/16-18 AS15802"])]
    assert "warning" not in result.stderr
