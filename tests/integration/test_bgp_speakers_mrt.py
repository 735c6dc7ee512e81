"""MRT written by a real BGP collector, fed by real GoBGP and BIRD peers, read by routewatch.

One lab, run once for the module: a GoBGP collector (AS 65000) writes every
UPDATE it receives to a BGP4MP file; a GoBGP peer (AS 65001) and two BIRD peers
(AS 65002, 65003) announce the watched 198.51.100.0/24 with origin AS 64500.
Once all three are in the file, the GoBGP peer and one BIRD peer withdraw it;
then the last peer announces 198.51.100.0/25 with origin AS 64666 (a sub-prefix
hijack). Finally the collector stops; that last BIRD peer keeps its own MRT
file (BIRD's writer), which holds the session's state changes.

The speakers encode their own UPDATEs (ORIGIN, communities and large
communities differ between GoBGP and BIRD) and the collector frames them:
nothing in the files comes from routewatch or from the test.

``bgpdump`` is the independent oracle of what the file says. GoBGP stamps
records with whole seconds of its receive time, so the few seconds of data time
the detections need (one to join the baseline, one of hold-down) are real
seconds the lab lets pass; each step waits, bounded, for its records to reach
the file before the next one starts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from routewatch.cli import main
from routewatch.model import (
    Event,
    PeerStateChange,
    RouteAnnouncement,
    RouteWithdrawal,
    SourceStatus,
    canonical_address,
    format_as_path,
)
from routewatch.sources.mrt.reader import MrtStats, read_mrt
from tests.support.bgp_speakers import (
    RECORD_DEADLINE,
    SESSION_DEADLINE,
    BirdRoute,
    BirdSpeaker,
    GobgpSpeaker,
    Speaker,
    free_ports,
    lab_block,
    read_dump,
    wait_for_peers,
    wait_for_second,
)
from tests.support.bgpdump_format import NO_NEXT_HOP, BgpdumpLine
from tests.support.daemon import wait_for
from tests.support.dns_servers import free_port
from tests.support.tools import require_tool
from tests.support.visibility_oracle import visibility

pytestmark = pytest.mark.integration

WATCHED = "198.51.100.0/24"
HIJACKED = "198.51.100.0/25"
ORIGIN = 64500
HIJACKER = 64666
COLLECTOR_ASN = 65000
GOBGP_ASN, BIRD_B_ASN, BIRD_C_ASN = 65001, 65002, 65003
BASELINE_MIN_HOLD = 1.0
HOLD_DOWN = 1.0
ESTABLISHED = 6


@dataclass(frozen=True, slots=True)
class LabRun:
    """The collector's MRT file and the data times (whole seconds) at which each step reached it."""

    mrt: Path
    bird_mrt: Path
    peers: dict[int, str]  # ASN -> session address
    announced: float
    withdrawn: float
    hijacked: float


def _start_lab(root: Path) -> tuple[GobgpSpeaker, GobgpSpeaker, BirdSpeaker, BirdSpeaker]:
    block = lab_block()
    collector_api, peer_api = free_ports("127.0.0.1", 2)
    collector = GobgpSpeaker("collector", root / "collector", COLLECTOR_ASN, block + "10", api_port=collector_api,
                             port=free_port([block + "10"]))
    gobgp = GobgpSpeaker("gobgp-peer", root / "gobgp-peer", GOBGP_ASN, block + "11", api_port=peer_api,
                         collector=collector, next_hop="192.0.2.11")
    bird_b = BirdSpeaker("bird-b", root / "bird-b", BIRD_B_ASN, block + "12", port=free_port([block + "12"]),
                         collector=collector, next_hop="192.0.2.12",
                         routes=[BirdRoute("watched", WATCHED, (ORIGIN,))],
                         communities=[(BIRD_B_ASN, 100)], large_communities=[(BIRD_B_ASN, 1, 2)])
    bird_c = BirdSpeaker("bird-c", root / "bird-c", BIRD_C_ASN, block + "13", port=free_port([block + "13"]),
                         collector=collector, next_hop="192.0.2.13",
                         routes=[BirdRoute("watched", WATCHED, (ORIGIN,)),
                                 BirdRoute("hijack", HIJACKED, (64501, HIJACKER), enabled=False)],
                         mrt_dump=True)
    collector.neighbors = [gobgp, bird_b, bird_c]
    return collector, gobgp, bird_b, bird_c


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabRun]:
    for tool in ("gobgpd", "gobgp", "bird", "birdc", "bgpdump"):
        require_tool(tool)
    collector, gobgp, bird_b, bird_c = _start_lab(tmp_path_factory.mktemp("bgp-lab"))
    speakers: list[Speaker] = [collector, gobgp, bird_b, bird_c]  # the collector stops first: the file is final
    mrt = collector.mrt_path
    peers = {s.asn: s.address for s in speakers[1:]}
    try:
        for speaker in speakers:
            speaker.start()
        gobgp.announce(WATCHED, [ORIGIN], communities=[f"{GOBGP_ASN}:100"])
        up = wait_for_peers(mrt, "A", WATCHED, set(peers.values()), SESSION_DEADLINE)
        announced = max(line.time for line in up)
        # every peer must have held the route for baseline_min_hold of data time before it goes
        wait_for_second(announced + BASELINE_MIN_HOLD + 1)
        gobgp.withdraw(WATCHED)
        bird_b.disable(bird_b.routes[0])
        gone = wait_for_peers(mrt, "W", WATCHED, {gobgp.address, bird_b.address}, RECORD_DEADLINE)
        withdrawn = max(line.time for line in gone)
        # the next record must come after the hold-down, so that replaying it fires the withdrawal
        wait_for_second(withdrawn + HOLD_DOWN + 1)
        bird_c.enable(bird_c.routes[1])
        hijack = wait_for_peers(mrt, "A", HIJACKED, {bird_c.address}, RECORD_DEADLINE)
        collector.stop()
        wait_for(lambda: any(line.kind == "STATE" and line.old_state == ESTABLISHED
                             for line in read_dump(bird_c.mrt_path)),
                 RECORD_DEADLINE, f"the session's end in {bird_c.mrt_path.name}", interval=0.05)
    finally:
        for speaker in speakers:
            speaker.stop()
    yield LabRun(mrt, bird_c.mrt_path, peers, announced, withdrawn, hijack[0].time)


def event_view(event: Event) -> tuple[object, ...]:
    """Everything ``bgpdump -m -l`` shows of an event, in the shapes of :func:`line_view`."""
    assert not isinstance(event, SourceStatus), event
    head = (int(event.time), event.peer.address, event.peer.asn)
    if isinstance(event, PeerStateChange):
        return ("STATE", *head, event.old_state, event.new_state)
    if isinstance(event, RouteWithdrawal):
        return ("W", *head, str(event.prefix))
    assert isinstance(event, RouteAnnouncement)
    return ("A", *head, str(event.prefix), format_as_path(event.as_path), str(event.origin), event.next_hop,
            event.communities, event.large_communities)


def line_view(line: BgpdumpLine) -> tuple[object, ...]:
    head = (int(line.time), canonical_address(line.peer_address), line.peer_asn)
    if line.kind == "STATE":
        return ("STATE", *head, line.old_state, line.new_state)
    if line.kind == "W":
        return ("W", *head, line.prefix)
    next_hop = None if line.next_hop == NO_NEXT_HOP else canonical_address(line.next_hop)
    return ("A", *head, line.prefix, line.as_path, line.origin, next_hop, line.community_pairs(),
            line.large_community_triples())


def test_the_reader_yields_what_bgpdump_prints_of_the_collector_file(lab_run: LabRun) -> None:
    stats = MrtStats()
    events = list(read_mrt(lab_run.mrt, stats=stats))
    lines = read_dump(lab_run.mrt)
    assert stats.malformed == 0
    assert [event_view(e) for e in events] == [line_view(line) for line in lines]
    # and the file tells the story the speakers were told, in order, with each implementation's attributes
    story = [(line.kind, line.peer_asn, line.prefix, line.as_path) for line in lines]
    announced = Counter(story[:3])
    assert announced == Counter([("A", asn, WATCHED, f"{asn} {ORIGIN}") for asn in (GOBGP_ASN, BIRD_B_ASN, BIRD_C_ASN)])
    assert Counter(story[3:5]) == Counter([("W", GOBGP_ASN, WATCHED, ""), ("W", BIRD_B_ASN, WATCHED, "")])
    assert story[5:] == [("A", BIRD_C_ASN, HIJACKED, f"{BIRD_C_ASN} 64501 {HIJACKER}")]
    first = {line.peer_asn: line for line in lines[:3]}
    assert first[GOBGP_ASN].origin == "INCOMPLETE" and first[BIRD_B_ASN].origin == "IGP"
    assert first[GOBGP_ASN].communities == f"{GOBGP_ASN}:100"
    assert first[BIRD_B_ASN].large_community_triples() == ((BIRD_B_ASN, 1, 2),)
    assert {asn: line.next_hop for asn, line in first.items()} == {
        GOBGP_ASN: "192.0.2.11", BIRD_B_ASN: "192.0.2.12", BIRD_C_ASN: "192.0.2.13"}
    assert {view[2:4] for view in map(event_view, events)} == {(a, asn) for asn, a in lab_run.peers.items()}


def test_the_reader_yields_what_bgpdump_prints_of_birds_own_file(lab_run: LabRun) -> None:
    """BIRD's writer: state changes (BIRD 2.0.12 writes peer 0.0.0.0 before the session connects) and UPDATEs.

    The collector exports no route, yet GoBGP sends its peers withdrawals when
    its best path changes (it does not track what each peer was sent), so the
    UPDATEs here are withdrawals only.
    """
    stats = MrtStats()
    events = list(read_mrt(lab_run.bird_mrt, stats=stats))
    lines = read_dump(lab_run.bird_mrt)
    assert stats.malformed == 0
    assert [event_view(e) for e in events] == [line_view(line) for line in lines]
    states = [(line.old_state, line.new_state) for line in lines if line.kind == "STATE"]
    assert any(new == ESTABLISHED for _, new in states)
    assert any(old == ESTABLISHED for old, _ in states)
    assert not any(isinstance(e, RouteAnnouncement) for e in events)


def test_replay_reports_the_withdrawal_and_the_hijack(lab_run: LabRun, tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text(yaml.safe_dump({
        "prefixes": [{"prefix": WATCHED, "asn": ORIGIN}],
        "bgp": {
            "baseline_min_hold": BASELINE_MIN_HOLD,
            "anomaly_min_peers": 1,  # three peers: the hijack reaches the collector through one of them
            "thresholds": {"hold_down": HOLD_DOWN, "min_baseline_peers": 2},
        },
    }))
    metrics = tmp_path / "metrics.prom"
    result = CliRunner().invoke(main, ["replay", "-c", str(config), "--json", "--metrics-out", str(metrics),
                                       str(lab_run.mrt)])
    assert result.exit_code == 0, result.stderr
    changes = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(c["event"], c["kind"], c["prefix"]) for c in changes] == [
        ("opened", "withdrawal", WATCHED),
        ("opened", "origin", HIJACKED),
    ]
    withdrawal, hijack = changes
    assert lab_run.withdrawn + HOLD_DOWN <= withdrawal["time"] <= lab_run.hijacked
    assert withdrawal["evidence"]["baseline_peers"] == 3
    assert withdrawal["evidence"]["visible_peers"] == 1
    assert hijack["watched_prefix"] == WATCHED
    assert hijack["time"] == lab_run.hijacked
    assert hijack["evidence"]["origins"] == [HIJACKER]

    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    visible = {s.labels["prefix"]: s.value for s in families["routewatch_bgp_prefix_visible_peers"].samples}
    oracle = visibility(read_dump(lab_run.mrt), WATCHED, [ORIGIN])
    assert visible == {WATCHED: oracle.visible} == {WATCHED: 1}


def test_replay_reports_an_undeclared_upstream_and_a_path_rule_from_the_speakers_routes(lab_run: LabRun,
                                                                                         tmp_path: Path) -> None:
    """BIRD peer C (AS65003) carries the watched prefix straight from its origin, but only the GoBGP peer and
    BIRD peer B are declared upstreams: C is a new upstream. The hijack's path is longer than the rule allows."""
    config = tmp_path / "routewatch.yaml"
    config.write_text(yaml.safe_dump({
        "prefixes": [{"prefix": WATCHED, "asn": ORIGIN, "upstreams": [GOBGP_ASN, BIRD_B_ASN],
                      "path": [{"max_length": 2, "description": "longer than any path we buy"}]}],
        "bgp": {"baseline_min_hold": BASELINE_MIN_HOLD, "anomaly_min_peers": 1,
                "thresholds": {"hold_down": HOLD_DOWN, "min_baseline_peers": 2}},
    }))
    metrics = tmp_path / "metrics.prom"
    result = CliRunner().invoke(main, ["replay", "-c", str(config), "--json", "--metrics-out", str(metrics),
                                       str(lab_run.mrt)])
    assert result.exit_code == 0, result.stderr
    changes = [json.loads(line) for line in result.stdout.splitlines()]
    neighbor = [c for c in changes if c["kind"] == "neighbor"]
    assert [(c["event"], c["prefix"], c["evidence"]["neighbors"]) for c in neighbor] == [
        ("opened", WATCHED, [BIRD_C_ASN])]
    assert neighbor[0]["time"] <= lab_run.announced  # as soon as peer C's route reached the file
    path = [c for c in changes if c["kind"] == "path"]
    assert [(c["event"], c["prefix"], c["evidence"]["rules"]) for c in path] == [
        ("opened", HIJACKED, ["longer than any path we buy"])]
    assert path[0]["time"] == lab_run.hijacked
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    by_upstream = {s.labels["upstream"]: s.value
                   for s in families["routewatch_bgp_prefix_visible_peers_by_upstream"].samples}
    # at the end only BIRD peer C still holds the route, and not through a declared upstream
    assert by_upstream == {f"AS{GOBGP_ASN}": 0, f"AS{BIRD_B_ASN}": 0}
