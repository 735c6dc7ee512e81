"""``routewatch check asn`` on the shared MRT files, against bgpdump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.tools import MRT_DIR, require_data
from tests.support.visibility_oracle import cached_lines, judge, replay
from tests.unit.test_check_asn import run

UPDATES_2010 = MRT_DIR / "updates.20100722.2015.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"


@pytest.mark.parametrize(("path", "asn"), [(UPDATES_2010, 25620), (UPDATES_2010, 44391), (RRC06, 24950)])
def test_every_prefix_of_the_as_equals_bgpdump(path: Path, asn: int) -> None:
    lines = cached_lines(require_data(path))
    states = replay(lines)
    announced = {p for line in lines if line.is_announcement and line.as_path.split()[-1:] == [str(asn)]
                 for p in [str(line.prefix)]}
    result = run(str(asn), "--json", "--mrt", str(path))
    report = json.loads(result.stdout)
    assert {p["prefix"] for p in report["prefixes"]} == announced
    for prefix in report["prefixes"]:
        oracle = judge(states, prefix["prefix"], (asn,))
        assert (prefix["prefix"], prefix["visible_peers"], prefix["visible_peer_asns"]) == \
            (prefix["prefix"], oracle.visible, oracle.visible_asns)
        assert prefix["ratio"] == (oracle.visible / oracle.carried if oracle.carried else None)
    assert result.exit_code == report["exit_code"]
    worst = max((p["exit_code"] for p in report["prefixes"]), default=2)
    assert result.exit_code == worst
