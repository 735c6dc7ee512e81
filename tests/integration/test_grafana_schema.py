"""The dashboards against Grafana's own published schema (npm @grafana/schema, checked by TypeScript),
and the Grafana provisioning files against each other."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from routewatch.alerting.render import GRAFANA_RULES
from tests.support.tools import REPO, require_tool

pytestmark = pytest.mark.integration

CHECK = REPO / "grafana" / "schema-check"
DASHBOARDS = sorted((REPO / "grafana" / "dashboards").glob("*.json"))
PROVISIONING = REPO / "grafana" / "provisioning"


@pytest.fixture(scope="module")
def node() -> str:
    node = require_tool("node")
    npm = require_tool("npm")
    if not (CHECK / "node_modules" / "@grafana" / "schema").is_dir():
        installed = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CHECK,
                                   capture_output=True, text=True, timeout=300)
        assert installed.returncode == 0, installed.stdout + installed.stderr
    return node


def check(node: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([node, str(CHECK / "check.mjs"), *map(str, paths)], capture_output=True, text=True,
                          timeout=180)


def test_the_schema_package_is_pinned() -> None:
    package = json.loads((CHECK / "package.json").read_text())
    lock = json.loads((CHECK / "package-lock.json").read_text())
    for name, version in package["devDependencies"].items():
        assert version[0].isdigit(), f"{name} must be pinned to an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_dashboards_match_grafana_schema(node: str) -> None:
    result = check(node)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(DASHBOARDS)} dashboard(s) match @grafana/schema" in result.stdout


def _panel(dashboard: dict, kind: str) -> dict:
    return next(p for p in dashboard["panels"] if p["type"] == kind)


MISTAKES: dict[str, tuple[Callable[[dict], None], str]] = {
    "misspelt-panel-key": (lambda d: _panel(d, "timeseries").update(gridPoss=_panel(d, "timeseries")["gridPos"]),
                           "gridPoss"),
    "misspelt-option": (lambda d: _panel(d, "stat")["options"].update(colourMode="value"), "colourMode"),
    "bad-option-value": (lambda d: _panel(d, "stat")["options"].update(graphMode="sparkline"), "sparkline"),
    "misspelt-target-key": (lambda d: _panel(d, "timeseries")["targets"][0].update(legend="{{prefix}}"), "legend"),
    "misspelt-field-config": (lambda d: _panel(d, "timeseries")["fieldConfig"]["defaults"]["custom"].update(
        lineWidht=2), "lineWidht"),
    "missing-grid-height": (lambda d: _panel(d, "table")["gridPos"].pop("h"), "'h'"),
    "misspelt-annotation-key": (lambda d: d["annotations"]["list"][0].update(titelFormat="{{kind}}"), "titelFormat"),
}


def test_the_check_catches_each_mistake(node: str, tmp_path: Path) -> None:
    """One dashboard per mistake, checked in one run: each file must fail, for its own mistake."""
    for mistake, (change, _) in MISTAKES.items():
        dashboard = copy.deepcopy(json.loads(DASHBOARDS[0].read_text()))
        change(dashboard)
        (tmp_path / f"{mistake}.json").write_text(json.dumps(dashboard))
    result = check(node, *sorted(tmp_path.glob("*.json")))
    assert result.returncode != 0
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "error TS" in line]
    for mistake, (_, expected) in MISTAKES.items():
        own = [line for line in errors if f"{mistake}.ts(" in line]
        assert own and any(expected in line for line in own), (mistake, errors)


def test_provisioning_files_agree() -> None:
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yaml").read_text())
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "routewatch.yaml").read_text())
    alerts = yaml.safe_load((REPO / GRAFANA_RULES).read_text())
    assert datasources["apiVersion"] == providers["apiVersion"] == alerts["apiVersion"] == 1
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    used = {d["datasourceUid"] for g in alerts["groups"] for r in g["rules"] for d in r["data"]} - {"__expr__"}
    assert used == {source["uid"]}
    (provider,) = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert sorted(uids) == ["routewatch-overview", "routewatch-prefix", "routewatch-zone"]
