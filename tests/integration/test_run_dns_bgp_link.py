"""``routewatch run`` says that the nameservers' addresses lost their route, whatever the order of start-up.

The service-prefix scenario served for real: a Knot parent (com.) with the
delegation and glue, and three nameservers of facebook.com (two Knot, one
NSD) on 127.0.0.17-19, all inside 127.0.0.16/29. The operator watches only
the covering 127.0.0.0/8, as one watching its aggregate does; the /29 is
nobody's business until DNS discovery finds the addresses. BGP arrives as
MRT files (a bootstrap file named as the collector's, then files dropped
into a directory the ``mrt`` source follows): 40 peers announce the /29 and
the /8, 34 of them withdraw the /29 while the /8 stays (2021-10-04), then
they announce it again.

Discovery is held back by starting the parent server only when the order
wants it, so each test puts the discovery at another place in the story:

- discovered first, then the routes, then the withdrawal;
- the routes (bootstrap), then discovery, then the withdrawal;
- the routes and the withdrawal, then discovery (the address registered
  after its service prefix was withdrawn);
- the routes and the withdrawal, a restart from the saved state, then
  discovery.

Each must say: 34 baseline peers at risk out of 40 for every nameserver
address, the /29 withdrawn (metric and detection log), and nothing at risk
once the /29 is back. The third order is told once more through a
``ris-live`` source (the local RIS Live server, subscribed to the /8 and its
more-specifics), as the live feed most installations run. With nothing
watched over the addresses, a loss before discovery cannot be seen: the log
names each such address.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import service_prefix as sp
from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates
from tests.support.ris_live_server import RisLiveServer
from tests.support.tools import require_tool
from tests.support.zone_lab import ZoneLab, zone_lab

pytestmark = pytest.mark.integration

DEADLINE = 30.0
"""Upper bound for one step to show in the metrics; each takes a second or two."""
PEERS = sp.peers()
GONE = PEERS[:sp.WITHDRAWING]
TARGETS = [{"zone": sp.ZONE, "nameserver": name, "address": address} for name, address in sp.NAMESERVERS.items()]
SERVICE_STATE = {"prefix": sp.SERVICE}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[ZoneLab]:
    require_tool("knotd")
    require_tool("nsd")
    running = zone_lab(tmp_path / "dns", parent=False)
    yield running
    running.stop()


def announcements(t: int, peers: list[sp.ScenarioPeer], prefixes: list[str]) -> list[Update]:
    return [Update(t, p.address, p.asn, prefixes, p.path()) for p in peers]


def withdrawals(t: int) -> list[Update]:
    return [Update(t, p.address, p.asn, withdrawn=[sp.SERVICE]) for p in GONE]


MRT_SOURCE = """
  - type: mrt
    name: collectors
    files: ["feed/*.mrt"]
    follow: true
    poll_interval: 0.2
    collector: rrc00"""


def write_config(workdir: Path, lab: ZoneLab, port: int, bootstrap: bool, source: str = MRT_SOURCE,
                 watched: str = sp.AGGREGATE) -> Path:
    rib = "bootstrap: {mrt_files: [rrc00.rib.mrt], ripestat: false}" if bootstrap else "bootstrap: {ripestat: false}"
    prefixes = f"[{{prefix: {watched}, asn: {sp.ORIGIN}}}]" if watched else "[]"
    config = workdir / "routewatch.yaml"
    config.write_text(f"""
prefixes: {prefixes}
zones:
  - zone: {sp.ZONE}
    parent_servers: ["{sp.PARENT}"]
    watch_nameserver_prefixes: true
sources:{source}
bgp:
  baseline_min_hold: 1
  thresholds: {{hold_down: 1}}
  {rib}
dns:
  port: {lab.port}
  interval: 1
  jitter: 0
  timeout: 0.5
  retries: 0
  rediscover_interval: 3600
state: {{path: state.json, save_interval: 3600}}
logging: {{detection_log: detections.jsonl}}
exporter: {{listen: 127.0.0.1, port: {port}}}
""")
    return config


class RisLiveThread:
    """The local RIS Live server on an event loop of its own, for a daemon in another process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(RisLiveServer().start())

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class Story:
    """One daemon over the lab, and the steps of the story in the order a test tells them.

    BGP comes as MRT files, or through ``ris`` when given (then every update
    is published as RIS Live messages of its peer's collector).
    """

    def __init__(self, workdir: Path, lab: ZoneLab, *, bootstrap: bool, ris: RisLiveThread | None = None) -> None:
        self.workdir, self.lab, self.ris = workdir, lab, ris
        (workdir / "feed").mkdir()
        self.start = int(time.time()) - 60
        if bootstrap:  # held a minute before the daemon starts, as a collector's dump is
            write_updates(workdir / "rrc00.rib.mrt", announcements(self.start, PEERS, [sp.AGGREGATE, sp.SERVICE]))
        self.port = exporter_port()
        source = MRT_SOURCE if ris is None else f"""
  - type: ris-live
    name: collectors
    url: "{ris.server.url}"
    reconcile: none"""
        self.config = write_config(workdir, lab, self.port, bootstrap, source)
        self.files = 0
        self.daemon = Daemon(self.config, self.port, workdir).start()
        if ris is not None:
            wait_for(lambda: self.value("routewatch_source_up", source="collectors") == 1, DEADLINE,
                     "the RIS Live feed to connect")
            ris.call(ris.server.wait_subscribed(1))

    def drop(self, name: str, updates: list[Update]) -> None:
        if self.ris is not None:
            collector = {p.address: p.collector for p in PEERS}
            for update in updates:
                self.ris.call(self.ris.server.publish(sp.ris_message(update, collector[update.peer_ip])))
            return
        self.files += 1
        write_updates(self.workdir / "feed" / f"{self.files:04d}-{name}.mrt", updates)

    def value(self, name: str, **labels: str) -> float | None:
        return self.daemon.value(name, **labels)

    def every(self, name: str) -> list[float | None]:
        return [self.value(name, **target) for target in TARGETS]

    def routes_seen(self) -> None:
        wait_for(lambda: self.value("routewatch_bgp_prefix_visible_peers", prefix=sp.AGGREGATE) == sp.PEERS,
                 DEADLINE, f"the /8 seen by every peer: {self.daemon.log()}")

    def announce(self) -> None:
        self.drop("announce", announcements(int(time.time()), PEERS, [sp.AGGREGATE, sp.SERVICE]))
        self.routes_seen()

    def withdraw(self) -> None:
        self.drop("withdraw", withdrawals(int(time.time()) + 2))  # held a while: not path hunting
        wait_for(lambda: (self.value("routewatch_bgp_updates_total", type="withdraw") or 0)
                 >= sp.WITHDRAWING, DEADLINE, "the withdrawals read")

    def discover(self) -> None:
        self.lab.start_parent()
        wait_for(lambda: all(v is not None for v in self.every("routewatch_dns_nameserver_baseline_peers"))
                 and all(v == 1 for v in self.every("routewatch_dns_nameserver_up")),
                 DEADLINE, "discovery to find every nameserver and the core to follow its address")

    def restart(self) -> None:
        assert self.daemon.stop() == 0
        assert "past" in json.loads((self.workdir / "state.json").read_text())
        self.daemon = Daemon(self.config, self.port, self.workdir).start()
        self.routes_seen()

    def at_risk(self) -> list[float | None]:
        return self.every("routewatch_dns_nameserver_peers_at_risk")

    def detections(self) -> list[dict[str, object]]:
        path = self.workdir / "detections.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [d for d in map(json.loads, lines) if d["kind"] == "withdrawal" and d["prefix"] == sp.SERVICE]

    def assert_lost_then_recovered(self) -> None:
        everyone = [float(sp.WITHDRAWING)] * len(TARGETS)
        wait_for(lambda: self.at_risk() == everyone, DEADLINE,
                 f"every address at risk: {self.at_risk()} {self.daemon.log()}")
        assert self.every("routewatch_dns_nameserver_baseline_peers") == [float(sp.PEERS)] * len(TARGETS)
        wait_for(lambda: self.value("routewatch_bgp_prefix_state", state="withdrawn", **SERVICE_STATE) == 1,
                 DEADLINE, "the /29 withdrawn")
        assert self.value("routewatch_bgp_prefix_visible_peers", prefix=sp.SERVICE) == sp.PEERS - sp.WITHDRAWING
        assert self.value("routewatch_bgp_prefix_baseline_peers", prefix=sp.SERVICE) == sp.PEERS
        assert self.value("routewatch_bgp_prefix_visible_peers", prefix=sp.AGGREGATE) == sp.PEERS  # the trap
        wait_for(lambda: [d["event"] for d in self.detections()] == ["opened"], DEADLINE, "the withdrawal logged")

        self.drop("return", announcements(int(time.time()), GONE, [sp.SERVICE]))
        wait_for(lambda: self.at_risk() == [0.0] * len(TARGETS), DEADLINE, f"nothing at risk: {self.at_risk()}")
        wait_for(lambda: self.value("routewatch_bgp_prefix_state", state="visible", **SERVICE_STATE) == 1,
                 DEADLINE, "the /29 visible again")
        wait_for(lambda: [d["event"] for d in self.detections()] == ["opened", "closed"], DEADLINE,
                 "the withdrawal closed in the log")

    def stop(self) -> None:
        assert self.daemon.stop() == 0
        # the /8 is watched: no address is left without a baseline to judge a past loss by
        assert "is covered by no watched prefix" not in (self.workdir / "routewatch.log").read_text()


@pytest.fixture
def story(request: pytest.FixtureRequest, tmp_path: Path, lab: ZoneLab) -> Iterator[Story]:
    told = Story(tmp_path, lab, bootstrap=request.param)
    yield told
    told.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("story", [False], indirect=True)
def test_discovered_then_announced_then_withdrawn(story: Story) -> None:
    story.discover()
    assert story.at_risk() == [0.0] * len(TARGETS)  # no route yet: nothing to lose
    story.announce()
    wait_for(lambda: story.every("routewatch_dns_nameserver_baseline_peers") == [float(sp.PEERS)] * len(TARGETS),
             DEADLINE, "the /29 learned as the addresses' service prefix")
    story.withdraw()
    story.assert_lost_then_recovered()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("story", [True], indirect=True)
def test_announced_then_discovered_then_withdrawn(story: Story) -> None:
    story.routes_seen()
    story.discover()
    wait_for(lambda: story.every("routewatch_dns_nameserver_baseline_peers") == [float(sp.PEERS)] * len(TARGETS),
             DEADLINE, "the /29 taken as the addresses' service prefix")
    assert story.at_risk() == [0.0] * len(TARGETS)
    story.withdraw()
    story.assert_lost_then_recovered()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("story", [True], indirect=True)
def test_announced_and_withdrawn_then_discovered(story: Story) -> None:
    story.routes_seen()
    story.withdraw()
    story.discover()
    story.assert_lost_then_recovered()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("story", [True], indirect=True)
def test_announced_and_withdrawn_restarted_then_discovered(story: Story) -> None:
    story.routes_seen()
    story.withdraw()
    story.restart()
    story.discover()
    story.assert_lost_then_recovered()


@pytest.fixture
def ris() -> Iterator[RisLiveThread]:
    server = RisLiveThread()
    yield server
    server.close()


@pytest.mark.timeout(120)
def test_ris_live_announced_and_withdrawn_then_discovered(tmp_path: Path, lab: ZoneLab, ris: RisLiveThread) -> None:
    story = Story(tmp_path, lab, bootstrap=False, ris=ris)
    try:
        story.announce()
        story.withdraw()
        story.discover()
        story.assert_lost_then_recovered()
    finally:
        story.stop()


@pytest.mark.timeout(60)
def test_an_address_no_watched_prefix_covers_is_named_once(tmp_path: Path, lab: ZoneLab) -> None:
    """With nothing watched over the addresses, a loss before discovery cannot be seen: the log says so."""
    (tmp_path / "feed").mkdir()
    port = exporter_port()
    daemon = Daemon(write_config(tmp_path, lab, port, False, watched=""), port, tmp_path).start()
    try:
        lab.start_parent()
        wait_for(lambda: all(daemon.value("routewatch_dns_nameserver_baseline_peers", **t) is not None
                             for t in TARGETS), DEADLINE, "discovery")
        wait_for(lambda: daemon.log().count("is covered by no watched prefix") == len(TARGETS), DEADLINE,
                 "one line per address")
        for name, address in sp.NAMESERVERS.items():
            assert f"zone {sp.ZONE}: {name} {address} is covered by no watched prefix" in daemon.log()

        # A reload discovers the addresses again; the line is not said again.
        reloaded = time.time()
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: (daemon.value("routewatch_config_last_reload_success_timestamp_seconds") or 0) >= reloaded,
                 DEADLINE, "the reload")
        wait_for(lambda: (daemon.value("routewatch_dns_discovery_last_success_timestamp_seconds", zone=sp.ZONE)
                          or 0) >= reloaded, DEADLINE, "the reloaded generation's discovery")
        registered = time.time()  # the next publish registers what that discovery found, then moves data time
        wait_for(lambda: (daemon.value("routewatch_bgp_data_timestamp_seconds") or 0) > registered, DEADLINE,
                 "a publish after it")
        assert daemon.log().count("is covered by no watched prefix") == len(TARGETS)
    finally:
        assert daemon.stop() == 0
