"""``routewatch replay`` end to end: MRT files in, a timeline, JSON lines and metrics out."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from routewatch.cli import main
from tests.support import outage_2021 as outage
from tests.support.tools import MRT_DIR

HOLD_DOWN = 60


@pytest.fixture(scope="module")
def outage_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[outage.Outage, list[Path], Path]:
    return outage.replay_inputs(tmp_path_factory.mktemp("outage"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_outage_archives_give_one_withdrawal_per_dns_prefix(outage_files, tmp_path) -> None:
    scenario, files, config = outage_files
    metrics = tmp_path / "metrics.prom"
    code, out, err = run("replay", "-c", str(config), "--json", "--metrics-out", str(metrics), *map(str, files))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert {(d["event"], d["kind"]) for d in lines} == {("opened", "withdrawal"), ("closed", "withdrawal")}
    opened = {d["prefix"]: d for d in lines if d["event"] == "opened"}
    closed = {d["prefix"]: d for d in lines if d["event"] == "closed"}
    assert sorted(opened) == sorted(closed) == sorted(outage.dns_prefixes())
    for prefix, detection in opened.items():
        # whole-second MRT timestamps: allow one second of rounding on top of hold-down + 60 s
        assert detection["time"] <= scenario.majority_gone_at[prefix] + HOLD_DOWN + 61
        assert detection["evidence"]["baseline_peers"] >= 40
        assert set(detection) >= {"event", "kind", "prefix", "time", "evidence"}
    for prefix, detection in closed.items():
        assert outage.RETURN - 1 <= detection["time"] <= scenario.back_at[prefix] + 1
    assert "4 file(s)" in err
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    visible = {s.labels["prefix"]: s.value for s in families["routewatch_bgp_prefix_visible_peers"].samples}
    assert visible == {p: len(scenario.peers) for p in [outage.AGGREGATE, *outage.dns_prefixes()]}
    for name in ("routewatch_bgp_prefix_baseline_peers", "routewatch_bgp_default_withdrawn_ratio_threshold",
                 "routewatch_bgp_prefix_state", "routewatch_bgp_prefix_unexpected_origin_peers"):
        assert name in families


def test_text_timeline_says_how_far_the_prefix_is_gone(outage_files) -> None:
    _, files, config = outage_files
    code, out, _ = run("replay", "-c", str(config), *map(str, files))
    assert code == 0
    first = out.splitlines()[0]
    assert "OPENED" in first and "withdrawal" in first and "% of 48 baseline peers" in first


def test_a_damaged_file_keeps_what_came_before_and_exits_non_zero(outage_files, tmp_path) -> None:
    _, files, config = outage_files
    data = files[0].read_bytes()
    cut = tmp_path / "rrc00.updates.cut.gz"
    cut.write_bytes(gzip.compress(data[: len(data) * 2 // 3]))
    code, out, err = run("replay", "-c", str(config), "--json", str(cut), *map(str, files[1:]))
    assert code == 1
    assert "byte offset" in err and str(cut) in err
    assert any(json.loads(line)["event"] == "opened" for line in out.splitlines())


def test_bad_config_exits_2_with_every_problem(tmp_path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("prefixes:\n  - prefix: 10.0.0.1/8\n    asn: AS1x\n")
    code, _, err = run("replay", "-c", str(config), str(MRT_DIR / "updates.20100722.2015.gz"))
    assert code == 2
    assert "prefixes[0].prefix" in err and "prefixes[0].asn" in err


def test_plot_draws_a_png(outage_files, tmp_path) -> None:
    _, files, config = outage_files
    png = tmp_path / "visibility.png"
    code, _, err = run("replay", "-c", str(config), "--plot", str(png), *map(str, files))
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_panels_show_the_withdrawn_line_whole_peers_dates_and_the_baseline_rule() -> None:
    from routewatch.tools.plot import visibility_figure

    day = 1_633_305_600.0  # 2021-10-04 00:00 UTC
    samples = [(day + 60 * i, {"192.0.2.0/24": (10 if i < 5 else 1, 10)}) for i in range(10)]
    fig = visibility_figure(samples, [], withdrawn_ratios={"192.0.2.0/24": 0.5}, min_hold=300.0)
    (ax,) = fig.axes
    assert any("withdrawn below (0.5 x baseline)" == t.get_text() for t in ax.get_legend().get_texts())
    assert all(float(tick).is_integer() for tick in ax.get_yticks())
    fig.canvas.draw()
    assert any("2021-10-04" in label.get_text() for label in ax.get_xticklabels())
    assert any("at least 300 s" in text.get_text() for text in fig.texts)
