"""The two renderings of the alert rules: committed copies are current, agree with each other,
and Grafana's follows its provisioning format (as far as our reading of Grafana's documentation goes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from routewatch.alerting.grafana import EXEC_ERROR_STATE, NO_DATA_STATE, grafana_template
from routewatch.alerting.render import GRAFANA_RULES, PROMETHEUS_RULES, RenderOptions, render_all, stale_files
from routewatch.alerting.rules import METRIC_NAME, Severity, rules
from routewatch.cli import main
from tests.support.tools import REPO

SCHEMA = json.loads((REPO / "tests" / "fixtures" / "grafana-alert-provisioning.schema.json").read_text())


def _prometheus_rules(text: str) -> dict[str, dict]:
    return {r["alert"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"]}


def _grafana_rules(text: str) -> dict[str, dict]:
    return {r["title"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"]}


def test_committed_renderings_are_current() -> None:
    assert stale_files(REPO) == [], "run `routewatch alerts render` and commit the result"


def test_both_renderings_carry_the_same_rules() -> None:
    prom = _prometheus_rules((REPO / PROMETHEUS_RULES).read_text())
    graf = _grafana_rules((REPO / GRAFANA_RULES).read_text())
    assert list(prom) == list(graf) == [r.name for r in rules()]
    for name, p in prom.items():
        g = graf[name]
        query = next(d for d in g["data"] if d["refId"] == "A")
        assert query["model"]["expr"] == p["expr"], name
        assert g["for"] == p["for"], name
        assert g.get("keepFiringFor") == p.get("keep_firing_for"), name
        assert g["labels"] == p["labels"], name
        assert g["annotations"] == {k: grafana_template(v) for k, v in p["annotations"].items()}, name


def test_grafana_provisioning_follows_the_documented_format() -> None:
    document = yaml.safe_load((REPO / GRAFANA_RULES).read_text())
    jsonschema.validate(document, SCHEMA)
    for group in document["groups"]:
        for rule in group["rules"]:
            refs = [d["refId"] for d in rule["data"]]
            assert rule["condition"] in refs
            assert (rule["noDataState"], rule["execErrState"]) == (NO_DATA_STATE, EXEC_ERROR_STATE)
            assert "$value " not in " ".join(rule["annotations"].values())


@pytest.mark.parametrize("mistake", [
    lambda doc: doc["groups"][0]["rules"][0].update(noDataState="Ok"),
    lambda doc: doc["groups"][0]["rules"][0].update(exec_err_state="Error"),
    lambda doc: doc["groups"][0]["rules"][0].pop("condition"),
    lambda doc: doc["groups"][0].update(interval="30 seconds"),
    lambda doc: doc["groups"][0]["rules"][0]["data"][2]["model"].pop("conditions"),
], ids=["bad-no-data-state", "misspelt-key", "no-condition", "bad-interval", "threshold-without-conditions"])
def test_the_schema_catches_mistakes(mistake) -> None:
    document = yaml.safe_load((REPO / GRAFANA_RULES).read_text())
    mistake(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_every_rule_is_labelled_and_linked_to_its_runbook() -> None:
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in (REPO / "docs" / "runbooks.md").read_text().splitlines() if line.startswith("## ")
    }
    uids = set()
    for rule in rules():
        assert rule.runbook in anchors, rule.name
        assert f"`{rule.name}`" in (REPO / "docs" / "runbooks.md").read_text(), rule.name
        assert isinstance(rule.severity, Severity)
        process_wide = rule.name in ("RoutewatchAbsent", "RoutewatchConfigReloadFailed", "RoutewatchRpkiNoVrps")
        assert "{{ $labels." in rule.summary or process_wide, rule.name
        assert len(rule.uid) <= 40 and rule.uid not in uids
        uids.add(rule.uid)


#: How a rule may read a series: aggregated by the labels that identify its subject, so that a pod, a
#: namespace or a Prometheus replica label never splits one alert into several.
_AGGREGATED = re.compile(r"((min|max) by \([a-z, ]+\) \(\s*(rate\(|increase\()?|topk by \(prefix\) \(1, "
                         r"|scalar\(max\(|min\()$")


def test_every_rule_aggregates_by_identifying_labels() -> None:
    for rule in rules():
        assert "without" not in rule.expr, rule.name
        for match in METRIC_NAME.finditer(rule.expr):
            assert _AGGREGATED.search(rule.expr[:match.start()]), (rule.name, match.group())


def test_prefix_rules_carry_group_and_description() -> None:
    for rule in rules():
        if "routewatch_bgp_prefix_" in rule.expr or "routewatch_bgp_detection" in rule.expr:
            assert rule.expr.endswith("group_left (group, description)\n  topk by (prefix) (1, "
                                      "routewatch_bgp_prefix_info)"), rule.name


def test_severities_are_the_common_three() -> None:
    assert {rule.severity.value for rule in rules()} == {"critical", "warning", "info"}


def test_the_runbook_base_must_be_absolute() -> None:
    for bad in ("docs/runbooks.md", "/runbooks", "ftp://x/y", "https://wiki.example/rw#top"):
        with pytest.raises(ValueError, match="absolute"):
            RenderOptions(runbook_base=bad)
    result = CliRunner().invoke(main, ["alerts", "render", "--runbook-base", "docs/runbooks.md", "--check"])
    assert result.exit_code == 2 and "absolute" in result.output


def test_the_api_base_must_be_absolute() -> None:
    for bad in ("routewatch:9724", "/api", "ftp://x/y", "https://rw.example/#top", "https://rw.example/?a=1"):
        with pytest.raises(ValueError, match="API base must be an absolute"):
            RenderOptions(api_base=bad)
    result = CliRunner().invoke(main, ["alerts", "render", "--api-base", "routewatch:9724", "--check"])
    assert result.exit_code == 2 and "--api-base" in result.output


def test_prefix_alerts_link_to_the_prefix_in_the_api_and_others_do_not() -> None:
    texts = render_all(RenderOptions(api_base="https://rw.example:9724/"))
    prom = _prometheus_rules(texts[PROMETHEUS_RULES])
    graf = {r["title"]: r for g in yaml.safe_load(texts[GRAFANA_RULES])["groups"] for r in g["rules"]}
    linked = {name for name, rule in prom.items() if "api_url" in rule["annotations"]}
    about_prefixes = {rule.name for rule in rules()
                      if "routewatch_bgp_prefix_" in rule.expr or "routewatch_bgp_detection" in rule.expr}
    assert linked == about_prefixes and len(linked) >= 10
    for name in linked:
        assert prom[name]["annotations"]["api_url"] == "https://rw.example:9724/api/v1/prefixes/{{ $labels.prefix }}"
        assert graf[name]["annotations"]["api_url"] == prom[name]["annotations"]["api_url"]
    assert "api_url" not in prom["RoutewatchZoneDown"]["annotations"]


def test_render_options_reach_both_files() -> None:
    texts = render_all(RenderOptions(job="rw", runbook_base="https://wiki.example/rw.md", datasource_uid="ds1",
                                     folder="Network"))
    prom = _prometheus_rules(texts[PROMETHEUS_RULES])
    graf = yaml.safe_load(texts[GRAFANA_RULES])
    assert prom["RoutewatchAbsent"]["expr"] == 'absent(up{job="rw"} == 1)'
    assert prom["RoutewatchAbsent"]["labels"] == {"severity": "critical", "job": "rw"}
    assert prom["RoutewatchZoneDown"]["annotations"]["runbook_url"] == "https://wiki.example/rw.md#zone-down"
    assert {g["folder"] for g in graf["groups"]} == {"Network"}
    assert {d["datasourceUid"] for g in graf["groups"] for r in g["rules"] for d in r["data"]} == {"ds1", "__expr__"}


def test_cli_renders_and_checks(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["alerts", "render", "--root", str(tmp_path), "--check"]).exit_code == 1
    result = runner.invoke(main, ["alerts", "render", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for relative in (PROMETHEUS_RULES, GRAFANA_RULES):
        assert (tmp_path / relative).read_text() == (REPO / relative).read_text()
    assert runner.invoke(main, ["alerts", "render", "--root", str(tmp_path), "--check"]).exit_code == 0
