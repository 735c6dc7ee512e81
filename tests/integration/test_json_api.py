"""The JSON API beside /metrics over real HTTP: through ``routewatch run``, and in-process behind basic auth.

The daemon test follows MRT files (written by ``tests/support/mrt_writer.py``,
read back by bgpdump in ``test_run_daemon.py``): ten peers at rrc00 and three
at rrc01 carry the watched /24 from AS32934, then four rrc00 peers announce a
/25 of it from AS64511. The API must name the hijacker, the /25, the paths
and the prefix's group and description, show the prefix per collector with
the origins seen, and list the detection as recently closed once the hijack
is withdrawn. The in-process test runs a real core under a flood of hijacked
more-specifics and checks that the answers stay bounded and that the API has
the same basic auth as /metrics.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest

from routewatch.core.engine import Engine
from routewatch.core.prefix_detail import prefix_detail
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.exporter.api import MAX_LISTED, JsonApi
from routewatch.exporter.exposition import Exposition
from routewatch.exporter.server import MetricsServer
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox
from routewatch.exporter.webconfig import load_web_config
from routewatch.model import Peer, RouteAnnouncement, parse_prefix
from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates

pytestmark = pytest.mark.integration

ORIGIN = 32934
HIJACKER = 64511
WATCHED = "198.51.100.0/24"
SUBPREFIX = "198.51.100.0/25"
HIJACKING_PEERS = range(1, 5)
DEADLINE = 20.0


def _config(port: int) -> str:
    return f"""
prefixes:
  - prefix: {WATCHED}
    asn: {ORIGIN}
    description: edge anycast
    group: netops-emea
sources:
  - type: mrt
    name: collectors
    files: ["feed/*.mrt"]
    follow: true
    poll_interval: 0.2
    collector: rrc00
bgp:
  baseline_min_hold: 1
  bootstrap: {{mrt_files: [rrc00.rib.mrt, rrc01.rib.mrt], ripestat: false}}
exporter: {{listen: 127.0.0.1, port: {port}}}
"""


def _rib(path: Path, t: int, peers: range, first_octet: int) -> None:
    write_updates(path, [Update(t, f"192.0.{first_octet}.{n}", 64500 + n, [WATCHED], [64500 + n, 3356, ORIGIN])
                         for n in peers])


def _get(port: int, path: str) -> tuple[int, Any]:
    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


@pytest.mark.timeout(90)
def test_the_daemon_names_the_hijacker_shows_collectors_and_keeps_closed_detections(tmp_path: Path) -> None:
    (tmp_path / "feed").mkdir()
    now = int(time.time())
    _rib(tmp_path / "rrc00.rib.mrt", now - 5, range(1, 11), 2)
    _rib(tmp_path / "rrc01.rib.mrt", now - 5, range(1, 4), 3)
    port = exporter_port()
    (tmp_path / "routewatch.yaml").write_text(_config(port))
    daemon = Daemon(tmp_path / "routewatch.yaml", port, tmp_path).start()
    try:
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=WATCHED) == 13, DEADLINE,
                 "the watched prefix to be seen")
        assert _get(port, "/api/v1/detections")[1]["open"] == []
        write_updates(tmp_path / "feed" / "0001-hijack.mrt",
                      [Update(int(time.time()), f"192.0.2.{n}", 64500 + n, [SUBPREFIX], [64500 + n, 174, HIJACKER])
                       for n in HIJACKING_PEERS])
        listing = wait_for(lambda: (body := _get(port, "/api/v1/detections")[1])["open"] and body, DEADLINE,
                           "the origin detection")
        [opened] = listing["open"]
        assert (opened["kind"], opened["prefix"], opened["watched_prefix"]) == ("origin", SUBPREFIX, WATCHED)
        assert (opened["asns"], opened["subprefixes"], opened["peers"]) == ([HIJACKER], [SUBPREFIX], 4)
        assert (opened["group"], opened["description"], opened["end"]) == ("netops-emea", "edge anycast", None)
        assert opened["sample_paths"] and all(path.endswith(f"174 {HIJACKER}") for path in opened["sample_paths"])
        assert opened["evidence"]["expected_origins"] == [ORIGIN]
        assert opened["evidence"]["offenders"] == [{"prefix": SUBPREFIX, "peers": 4, "origins": [HIJACKER]}]
        assert listing["open_total"] == 1 and listing["recently_closed"] == []

        code, prefix = _get(port, f"/api/v1/prefixes/{WATCHED}")
        assert code == 200
        assert (prefix["state"], prefix["visible_peers"], prefix["baseline_peers"]) == ("visible", 13, 13)
        assert (prefix["visibility_ratio"], prefix["group"], prefix["expected_origins"]) == (1.0, "netops-emea",
                                                                                             [ORIGIN])
        assert prefix["unexpected_origin_peers"] == 4
        assert [(c["collector"], c["visible_peers"], c["baseline_peers"], c["stale"])
                for c in prefix["collectors"]] == [("rrc00", 10, 10, False), ("rrc01", 3, 3, False)]
        assert prefix["origins_seen"] == [{"asn": ORIGIN, "peers": 13, "expected": True}]
        assert [(d["kind"], d["asns"]) for d in prefix["open_detections"]] == [("origin", [HIJACKER])]
        assert _get(port, "/api/v1/prefixes/198.51.100.0%2F24")[1]["prefix"] == WATCHED

        assert _get(port, "/api/v1/prefixes/203.0.113.0/24") == (404, {"error": "203.0.113.0/24 is not watched"})
        for malformed in ("banana", "198.51.100.1/24", "2001:db8::%25eth0/48", "198.51.100.0/33"):
            code, body = _get(port, f"/api/v1/prefixes/{malformed}")
            assert code == 400 and body["error"].startswith("not a prefix"), malformed
        assert _get(port, "/api/v1/nothing-here")[0] == 404

        write_updates(tmp_path / "feed" / "0002-withdrawn.mrt",
                      [Update(int(time.time()), f"192.0.2.{n}", 64500 + n, withdrawn=[SUBPREFIX])
                       for n in HIJACKING_PEERS])
        listing = wait_for(lambda: (body := _get(port, "/api/v1/detections")[1])["recently_closed"] and body,
                           DEADLINE, "the detection to close")
        assert listing["open"] == []
        [closed] = listing["recently_closed"]
        assert (closed["kind"], closed["watched_prefix"], closed["group"]) == ("origin", WATCHED, "netops-emea")
        assert closed["end"] is not None and closed["end"] >= closed["start"]
    finally:
        assert daemon.stop() == 0


# -- in-process: a real core and the real server, behind basic auth -----------------------------------------------

PASSWORD = "api-s3cret"
FLOOD = 5000


@pytest.fixture
def hijacked_core() -> Engine:
    """A watched /16 held by 10 peers, then 6 peers announcing ``FLOOD`` distinct /29s under it from 20 ASes."""
    watched = parse_prefix("10.64.0.0/16")
    engine = Engine(WatchSet([WatchedPrefix(watched, frozenset({ORIGIN}), WithdrawalThresholds(), "flooded", "blue")]))
    peers = [Peer("rrc00", f"192.0.2.{n}", 64500 + n) for n in range(1, 11)]
    events = [RouteAnnouncement(100.0, peer, watched, (peer.asn, ORIGIN)) for peer in peers]
    subnets = islice(ipaddress.ip_network("10.64.0.0/16").subnets(new_prefix=29), FLOOD)
    events += [RouteAnnouncement(200.0, peer, parse_prefix(str(subnet)), (peer.asn, 65000 + i % 20))
               for i, subnet in enumerate(subnets) for peer in peers[2 * (i % 3):2 * (i % 3) + 2]]
    engine.apply_all(events, established=True)
    engine.advance(400.0)
    return engine


@pytest.fixture
def served(tmp_path: Path, hijacked_core: Engine) -> Iterator[int]:
    secret = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    (tmp_path / "web.yml").write_text(f"basic_auth_users:\n  oncall: '{secret}'\n")
    box = SnapshotBox(ExportState(ProcessStatus("9.9.9"), core=hijacked_core.snapshot()))
    server = MetricsServer(Exposition(box), "127.0.0.1", 0, load_web_config(tmp_path / "web.yml"),
                           api=JsonApi(box, lambda prefix: prefix_detail(hijacked_core, prefix)))
    server.start()
    yield server.port
    server.stop()


def test_the_api_has_the_auth_of_metrics_and_stays_bounded_under_a_flood(served: int) -> None:
    url = f"http://127.0.0.1:{served}"
    assert httpx.get(f"{url}/api/v1/detections").status_code == 401
    assert httpx.get(f"{url}/api/v1/detections", auth=("oncall", "wrong")).status_code == 401
    response = httpx.get(f"{url}/api/v1/detections", auth=("oncall", PASSWORD))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    listing = response.json()
    [opened] = listing["open"]  # one detection per watched prefix and kind, however many /29s
    assert (opened["kind"], opened["watched_prefix"], opened["group"]) == ("origin", "10.64.0.0/16", "blue")
    assert opened["evidence"]["prefixes"] == CoreSettings().max_more_specifics  # the rest refused by the cap
    assert 0 < len(opened["subprefixes"]) <= MAX_LISTED and 0 < len(opened["asns"]) <= MAX_LISTED
    assert set(opened["asns"]) <= set(range(65000, 65020))
    offenders = opened["evidence"]["offenders"]
    assert 0 < len(offenders) <= MAX_LISTED
    assert all(o["peers"] == 2 and o["origins"][0] in range(65000, 65020) for o in offenders)
    assert len(response.content) < 20_000

    detail = httpx.get(f"{url}/api/v1/prefixes/10.64.0.0/16", auth=("oncall", PASSWORD)).json()
    assert (detail["state"], detail["visible_peers"], detail["unexpected_origin_peers"]) == ("visible", 10, 6)
    assert detail["collectors"] == [{"collector": "rrc00", "visible_peers": 10, "baseline_peers": 10,
                                     "stale": False}]
    assert detail["origins_seen"] == [{"asn": ORIGIN, "peers": 10, "expected": True}]
    assert len(detail["open_detections"]) == detail["open_detections_total"] == 1
