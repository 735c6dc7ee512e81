"""``routewatch check prefix`` on the shared MRT files, against bgpdump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routewatch.model import parse_prefix
from routewatch.sources.mrt.reader import read_mrt
from routewatch.tools.reports import VisibilityObservation, prefix_report
from tests.support.tools import MRT_DIR, require_data
from tests.support.visibility_oracle import cached_lines, judge, merged_lines, replay, visibility
from tests.unit.test_check_prefix import run

UPDATES_2010 = MRT_DIR / "updates.20100722.2015.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"
BVIEW_2002 = MRT_DIR / "bview.20020722.2337.gz"
UPDATES_2002 = MRT_DIR / "updates.20020722.2238.gz"

CASES = [
    # (files, prefix, expected origins): several origins, AS_SET, withdrawals, IPv6, RIB plus updates
    ((UPDATES_2010,), "62.100.192.0/19", (46284,)),
    ((UPDATES_2010,), "62.100.192.0/19", (3257, 46284)),
    ((UPDATES_2010,), "62.37.120.0/22", (12479,)),
    ((UPDATES_2010,), "201.222.64.0/20", (25620,)),
    ((UPDATES_2010,), "190.186.128.0/19", ()),
    ((RRC06,), "2600:1007:c03::/48", (6167,)),
    ((RRC06,), "2620:110:9004::/48", (13620,)),
    ((RRC06,), "69.194.4.0/24", (33529,)),
    ((BVIEW_2002,), "142.24.0.0/13", (3633,)),
    ((BVIEW_2002,), "62.41.80.0/21", ()),
    ((BVIEW_2002,), "146.108.0.0/16", (15733,)),
    ((BVIEW_2002, UPDATES_2002), "146.108.0.0/16", (15733,)),
]


@pytest.mark.parametrize(("files", "prefix", "expected"), CASES, ids=[f"{c[1]}-{len(c[0])}f-{c[2]}" for c in CASES])
def test_mrt_visibility_equals_bgpdump(files: tuple[Path, ...], prefix: str, expected: tuple[int, ...]) -> None:
    for path in files:
        require_data(path)
    oracle = visibility(merged_lines(files), prefix, expected)
    args = [prefix, "--json", *(a for path in files for a in ("--mrt", str(path)))]
    args += [a for asn in expected for a in ("--origin", str(asn))]
    result = run(*args)
    report = json.loads(result.stdout)
    assert report["visible_peers"] == oracle.visible
    assert report["visible_peer_asns"] == oracle.visible_asns
    assert report["ratio"] == (oracle.visible / oracle.carried if oracle.carried else None)
    assert result.exit_code == report["exit_code"]
    exact = report["exact"]
    if oracle.origins:
        seen = {("{" + ",".join(map(str, o["origins"])) + "}") if o["as_set"] else str(o["origins"][0]): o["peers"]
                for o in exact["origins"]}
        assert seen == oracle.origins
        assert exact["peers"] == sum(oracle.origins.values())
    else:
        assert exact is None


def test_every_prefix_of_an_update_file_equals_bgpdump() -> None:
    """All prefixes of a file at once: one observation watching each with its most common origin."""
    lines = cached_lines(require_data(UPDATES_2010))
    states = replay(lines)
    origins: dict[str, dict[str, int]] = {}
    for line in lines:
        if line.is_announcement and line.as_path and not line.as_path.split()[-1].startswith("{"):
            counts = origins.setdefault(str(parse_prefix(line.prefix)), {})
            origin = line.as_path.split()[-1]
            counts[origin] = counts.get(origin, 0) + 1
    expected = {p: int(max(c, key=c.__getitem__)) for p, c in origins.items()}
    from routewatch.core.engine import Engine
    from routewatch.core.settings import WithdrawalThresholds
    from routewatch.core.watch import WatchedPrefix, WatchSet

    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset((a,)), WithdrawalThresholds())
                      for p, a in expected.items()])
    observation = VisibilityObservation(Engine(watch))
    observation.apply_all(read_mrt(UPDATES_2010, prefix_filter=watch.relevant))
    mismatches: list[tuple[str, object, object]] = []
    snapshot = observation.monitor.snapshot()
    for prefix, asn in expected.items():
        oracle = judge(states, prefix, (asn,))
        report = prefix_report(observation, parse_prefix(prefix), (asn,), 0.5, source="mrt", snapshot=snapshot)
        if (report.visible_peers, report.visible_peer_asns) != (oracle.visible, oracle.visible_asns):
            mismatches.append((prefix, report.visible_peers, oracle.visible))
        if report.ratio != (oracle.visible / oracle.carried if oracle.carried else None):
            mismatches.append((prefix, report.ratio, oracle.carried))
    assert len(expected) > 700
    assert mismatches == []


def test_withdrawn_prefix_is_degraded_or_not_visible() -> None:
    oracle = visibility(cached_lines(require_data(UPDATES_2010)), "62.37.120.0/22", (12479,))
    result = run("62.37.120.0/22", "--origin", "12479", "--mrt", str(UPDATES_2010), "--min-visibility", "1.0")
    expected = 0 if oracle.visible == oracle.carried else 1 if oracle.visible else 2
    assert result.exit_code == expected
