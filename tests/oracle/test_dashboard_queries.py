"""Every PromQL expression in the dashboards parses, by Prometheus' own parser (``promtool check rules``).

The schema check types the JSON around a query; this checks the query itself, each dashboard variable
replaced by a value of its kind.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.support.tools import REPO, require_tool

VALUES = {"$topn": "20", "$__rate_interval": "5m", "$instance": "a", "$group": "a", "$zone": "a", "$prefix": "a"}


def _exprs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    records = []
    for path in sorted((REPO / "grafana" / "dashboards").glob("*.json")):
        for number, expr in enumerate(_exprs(json.loads(path.read_text()))):
            for name, value in VALUES.items():
                expr = expr.replace(name, value)
            assert "$" not in expr, (path.name, expr)
            records.append({"record": f"{path.stem.replace('-', '_')}:q{number}", "expr": expr})
    assert len(records) > 60
    rules = tmp_path / "dashboards.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": records}]}))
    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
