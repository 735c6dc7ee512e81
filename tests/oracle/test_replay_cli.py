"""``routewatch replay --metrics-out`` against bgpdump."""

from __future__ import annotations

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.tools import MRT_DIR, require_data, require_tool
from tests.support.visibility_oracle import merged_lines, visibility
from tests.unit.test_replay_cli import run


@pytest.mark.parametrize("name, prefixes", [
    ("updates.20100722.2015.gz", {"193.105.235.0/24": 50798, "62.37.120.0/22": 12479, "92.241.99.0/24": 44265}),
    ("ris.rrc06.updates.1427846400.gz", None),
])
def test_metrics_out_visible_peers_equal_bgpdump(name: str, prefixes: dict[str, int] | None, tmp_path) -> None:
    require_tool("bgpdump")
    path = require_data(MRT_DIR / name)
    if prefixes is None:
        # the ten prefixes with most announcing peers in the file, with their most common origin
        from tests.support.bgpdump import bgpdump_lines

        counts: dict[str, dict[int, set]] = {}
        for line in bgpdump_lines(path):
            if line.kind == "A" and line.as_path and not line.as_path.split()[-1].startswith("{"):
                origin = int(line.as_path.split()[-1])
                counts.setdefault(line.prefix, {}).setdefault(origin, set()).add(line.peer_address)
        ranked = sorted(counts.items(), key=lambda kv: -max(len(v) for v in kv[1].values()))[:10]
        prefixes = {p: max(origins, key=lambda o: len(origins[o])) for p, origins in ranked}
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"prefixes": [{"prefix": p, "asn": a} for p, a in prefixes.items()]}))
    metrics = tmp_path / "m.prom"
    code, _, err = run("replay", "-c", str(config), "--metrics-out", str(metrics), str(path))
    assert code == 0, err
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    got = {s.labels["prefix"]: int(s.value) for s in families["routewatch_bgp_prefix_visible_peers"].samples}
    lines = merged_lines([path])
    expected = {p: visibility(lines, p, [a]).visible for p, a in prefixes.items()}
    assert got == expected
    assert any(v > 0 for v in got.values())
