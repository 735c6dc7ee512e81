"""``routewatch check prefix`` on the shared MRT files (against bgpdump) and on a local RIPEstat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from routewatch.cli import main
from routewatch.model import Peer, PeerStateChange, RouteAnnouncement, RouteWithdrawal, parse_prefix
from routewatch.tools.reports import VisibilityObservation, VisibilityVerdict, prefix_report
from tests.support import ripestat_server as rs
from tests.support.tools import MRT_DIR, require_data

UPDATES_2010 = MRT_DIR / "updates.20100722.2015.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"
BVIEW_2002 = MRT_DIR / "bview.20020722.2337.gz"
UPDATES_2002 = MRT_DIR / "updates.20020722.2238.gz"
JINX = MRT_DIR / "routeviews.route-views.jinx.updates.1427846400.bz2"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "prefix", *args], catch_exceptions=False)


def test_table_output_and_exit_codes_on_mrt() -> None:
    result = run("62.100.192.0/19", "--origin", "3257", "--mrt", str(require_data(UPDATES_2010)))
    assert result.exit_code == 2
    assert result.stdout.startswith("62.100.192.0/19: UNEXPECTED-ORIGIN")
    assert "62.100.192.0/19 originated by AS46284 (9 peers)" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("PREFIX"))
    assert header.split() == ["PREFIX", "ORIGIN", "EXPECTED", "RPKI", "PEERS", "PEER", "ASNS", "COLLECTORS", "SAMPLE",
                              "PATH"]
    visible = run("62.100.192.0/19", "--origin", "46284", "--mrt", str(UPDATES_2010))
    assert visible.exit_code == 0 and "VISIBLE" in visible.stdout.splitlines()[0]


def test_more_specifics_and_as_set_are_listed() -> None:
    result = run("142.24.0.0/13", "--origin", "3633", "--json", str(require_data(BVIEW_2002)))
    report = json.loads(result.stdout)
    assert report["exact"]["origins"][0]["as_set"] is True
    assert [v["prefix"] for v in report["more_specifics"]] == ["142.31.0.0/16"]
    assert report["more_specifics"][0]["origins"][0]["expected"] is True


def test_config_supplies_expected_origins(tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text("prefixes:\n  - prefix: 62.100.192.0/19\n    asn: [46284]\n")
    report = json.loads(run("62.100.192.0/19", "-c", str(config), "--json", "--mrt", str(UPDATES_2010)).stdout)
    assert report["expected_origins"] == [46284]
    assert report["verdict"] == "visible"


@pytest.mark.parametrize(("args", "message"), [
    (["10.0.0.1/8"], "could not check: prefix '10.0.0.1/8'"),
    (["10.0.0.0/8", "--origin", "ASX"], "could not check: origin 'ASX'"),
    (["10.0.0.0/8", "--min-visibility", "2"], "--min-visibility must be a ratio"),
    (["10.0.0.0/8", "--mrt", "/nonexistent/file.gz"], "/nonexistent/file.gz: no such file"),
])
def test_bad_input_exits_3_with_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 3
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bgpstream_reads_the_files_or_says_what_is_missing() -> None:
    """pybgpstream cannot be installed here, so this checks the path users without it take."""
    try:
        import pybgpstream  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        result = run("62.100.192.0/19", "--bgpstream", "--mrt", str(UPDATES_2010))
        assert result.exit_code == 3
        assert "pybgpstream is not installed" in result.stderr
    else:
        result = run("62.100.192.0/19", "--bgpstream", "--mrt", str(UPDATES_2010), "--json")
        assert json.loads(result.stdout)["source"] == "bgpstream"


def test_prefix_absent_from_update_files_is_not_seen_and_unchecked() -> None:
    """Update files hold only changes: a stable prefix is absent from them, so no RIB means no answer."""
    result = run("62.100.192.0/19", "--mrt", str(require_data(RRC06)))
    assert result.exit_code == 3
    assert result.stdout.splitlines()[:2] == [
        "62.100.192.0/19: NOT-SEEN",
        "  not seen in these files (no RIB given): update files hold only changes, so a stable prefix "
        "is absent from them too",
    ]
    assert result.stderr.splitlines() == [
        "routewatch: could not check: 62.100.192.0/19 not seen in these files (no RIB given); update files "
        "hold only changes, so add a RIB dump of the same collector"]
    report = json.loads(run("62.100.192.0/19", "--json", str(RRC06)).stdout)
    assert (report["verdict"], report["exit_code"]) == ("not-seen", 3)


def test_prefix_absent_from_a_rib_is_not_visible() -> None:
    """A RIB dump is the whole table: a prefix absent from it is a real answer, exit 2."""
    result = run("10.0.0.0/8", str(require_data(BVIEW_2002)), str(require_data(UPDATES_2002)))
    assert result.exit_code == 2
    assert result.stdout.startswith("10.0.0.0/8: NOT-VISIBLE\n")


def test_prefix_seen_then_withdrawn_in_updates_is_not_visible() -> None:
    """Announced and withdrawn within the updates: seen, so judged (route-views.jinx's last word is a withdrawal)."""
    report = json.loads(run("69.194.4.0/24", "--json", str(require_data(JINX))).stdout)
    assert (report["verdict"], report["exit_code"]) == ("not-visible", 2)


RRC15 = (MRT_DIR / "updates.20100227.1600.gz", MRT_DIR / "updates.20100227.1610.gz")


def test_prefixes_read_from_the_same_files_share_one_data_time() -> None:
    """The answer holds as of the end of the data read, whatever the prefix's own last change: RIS rrc15's
    16:00-16:15 updates end at 16:15:00 for a visible prefix, one withdrawn before the end and one never mentioned."""
    files = [str(require_data(path)) for path in RRC15]
    answers = {prefix: json.loads(run(prefix, "--json", *files).stdout)
               for prefix in ("190.101.64.0/21", "143.84.43.0/24", "62.100.192.0/19")}
    assert [a["verdict"] for a in answers.values()] == ["visible", "not-visible", "not-seen"]
    assert {a["time"] for a in answers.values()} == {1_267_287_300.0}  # 2010-02-27 16:15:00 UTC
    for prefix in answers:
        assert "  source: mrt, data time 2010-02-27 16:15:00 UTC" in run(prefix, *files).stdout.splitlines()


def test_collector_chooses_the_archives_by_their_name() -> None:
    files = [str(require_data(RRC06)), str(require_data(JINX))]
    both = json.loads(run("69.194.4.0/24", "--json", *files).stdout)
    assert (both["verdict"], both["exact"]["by_collector"]) == ("visible", {"rrc06": 1})
    jinx = json.loads(run("69.194.4.0/24", "--json", "--collector", "route-views.jinx", *files).stdout)
    assert jinx["verdict"] == "not-visible"
    rrc06 = json.loads(run("69.194.4.0/24", "--json", "--collector", "rrc06", *files).stdout)
    assert (rrc06["verdict"], rrc06["exact"]["by_collector"]) == ("visible", {"rrc06": 1})


@pytest.mark.parametrize(("args", "message"), [
    (["--collector", "rrc00", str(RRC06)], "no file of collector rrc00 among the files (they are of rrc06)"),
    (["--collector", "rrc06", str(RRC06), str(UPDATES_2010)],
     f"and {UPDATES_2010} names none (RIS: rrcNN, Route Views: route-viewsN)"),
    (["--collector", "rrc00"], "--collector chooses archive files or BGPStream's collectors; RIPEstat answers"),
])
def test_collector_that_cannot_be_honoured_is_refused(args: list[str], message: str) -> None:
    result = run("69.194.4.0/24", *args)
    assert result.exit_code == 3
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_session_down_is_not_counted_as_carrying() -> None:
    """A peer whose session went down neither counts as visible nor in the ratio's denominator."""
    prefix = parse_prefix("192.0.2.0/24")
    a, b = Peer("rrc00", "198.51.100.1", 64501), Peer("rrc00", "198.51.100.2", 64502)
    observation = VisibilityObservation.of_prefix(prefix, (64500,))
    observation.apply_all([
        RouteAnnouncement(1.0, a, prefix, (64501, 64500)),
        RouteAnnouncement(1.0, b, prefix, (64502, 64500)),
        PeerStateChange(2.0, a, 6, 1),
        RouteWithdrawal(3.0, b, prefix),
    ])
    report = prefix_report(observation, prefix, (64500,), 0.5, source="test")
    assert (report.visible_peers, report.ratio, report.verdict) == (0, 0.0, VisibilityVerdict.NOT_VISIBLE)
    assert "0 of the 1 peers" in report.ratio_basis


# -- RIPEstat --------------------------------------------------------------------

PREFIX = "193.0.0.0/21"


@pytest.fixture
def ripestat(tmp_path: Path) -> Iterator[tuple[rs.RipestatServer, Path]]:
    with rs.running() as server:
        server.add("looking-glass", PREFIX, rs.looking_glass(PREFIX, [
            rs.LgPeer("rrc00", "2.56.11.1", "34854 6939 3333", PREFIX),
            rs.LgPeer("rrc00", "2.56.11.2", "1103 3333", PREFIX),
            rs.LgPeer("rrc06", "202.249.2.169", "2497 3333", PREFIX),
        ]))
        server.add("routing-status", PREFIX, rs.routing_status(
            PREFIX, origins=[3333], seeing=330, total=345, more_specifics=[("193.0.0.0/24", 3333)]))
        config = tmp_path / "routewatch.yaml"
        config.write_text(f"prefixes:\n  - prefix: {PREFIX}\n    asn: 3333\n"
                          f"ripestat:\n  url: {server.url}\n  timeout: 0.5\n  retries: 0\n  sourceapp: rw-test\n")
        yield server, config


def test_ripestat_visible(ripestat: tuple[rs.RipestatServer, Path]) -> None:
    server, config = ripestat
    result = run(PREFIX, "-c", str(config), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert (report["source"], report["visible_peers"], report["visible_peer_asns"]) == ("ripestat", 3, 3)
    assert report["ratio"] == pytest.approx(330 / 345)
    assert report["ratio_basis"] == "RIPEstat: 330 of 345 full-table RIS peers"
    assert report["exact"]["by_collector"] == {"rrc00": 2, "rrc06": 1}
    assert [v["prefix"] for v in report["more_specifics"]] == ["193.0.0.0/24"]
    assert {r.params["sourceapp"] for r in server.requests} == {"rw-test"}


def test_ripestat_unexpected_origin_and_degraded(ripestat: tuple[rs.RipestatServer, Path]) -> None:
    server, config = ripestat
    hijacked = run(PREFIX, "-c", str(config), "--origin", "64500")
    assert hijacked.exit_code == 2
    assert "193.0.0.0/21 originated by AS3333 (3 peers)" in hijacked.stdout
    assert "193.0.0.0/24 originated by AS3333" in hijacked.stdout
    degraded = run(PREFIX, "-c", str(config), "--min-visibility", "0.99")
    assert degraded.exit_code == 1
    assert degraded.stdout.startswith(f"{PREFIX}: DEGRADED")


@pytest.mark.parametrize(("fault", "message"), [
    (rs.SERVER_ERROR, ": HTTP 500 (1 attempt)"),
    (rs.MALFORMED, "malformed JSON"),
    (rs.slow(2.0), "no answer within 0.5 s"),
    (rs.too_many_requests("1"), "HTTP 429"),
])
def test_ripestat_failures_exit_3_without_traceback(ripestat: tuple[rs.RipestatServer, Path], fault: rs.Fault,
                                                     message: str) -> None:
    server, config = ripestat
    server.faults = [fault, fault]
    result = run(PREFIX, "-c", str(config))
    assert result.exit_code == 3
    assert message in result.stderr
    assert result.stderr.startswith("routewatch: could not check: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_ripestat_error_status_is_reported(ripestat: tuple[rs.RipestatServer, Path]) -> None:
    server, config = ripestat
    server.add("routing-status", "10.0.0.0/8", rs.error("routing-status", "Unknown resource"))
    result = run("10.0.0.0/8", "-c", str(config), "--json")
    assert result.exit_code == 3
    assert "Unknown resource" in json.loads(result.stdout)["error"]
