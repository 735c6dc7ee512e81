"""Running ``promtool test rules`` on generated test documents, and building their expectations."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from routewatch.alerting.render import DEFAULT_API_BASE, DEFAULT_RUNBOOK_BASE, PROMETHEUS_RULES
from routewatch.alerting.rules import Rule, rules
from tests.support.tools import REPO

RULES_FILE = REPO / PROMETHEUS_RULES
RULES = {rule.name: rule for rule in rules()}
EVALUATION_INTERVAL = "30s"


def run_tests(promtool: str, tests: list[dict[str, Any]], directory: Path) -> subprocess.CompletedProcess[str]:
    """Write a promtool test file for ``tests`` against the committed rules file and run it."""
    path = directory / "generated.test.yml"
    document = {"rule_files": [str(RULES_FILE)], "evaluation_interval": EVALUATION_INTERVAL, "tests": tests}
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1_000_000))
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)


def _percentage(value: float) -> str:
    # Prometheus' humanizePercentage: Go's %.4g of the value times 100
    return f"{value * 100:.4g}%"


def _duration(value: float) -> str:
    # Prometheus' humanizeDuration for whole seconds of a minute or more (what the tests here use)
    minutes, seconds = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h {minutes}m {seconds}s"
    return f"{hours}h {minutes}m {seconds}s" if hours else f"{minutes}m {seconds}s"


def _number(value: float) -> str:
    # Go's %v of a float64: no trailing ".0"
    return str(int(value)) if float(value).is_integer() else repr(value)


def expand(template: str, labels: dict[str, str], value: float) -> str:
    """The few template forms the expected alerts here use; anything else is an error, never a silent mismatch."""
    text = re.sub(r"\{\{ with \$labels\.(\w+) \}\}(.*?)\{\{ \. \}\}(.*?)\{\{ end \}\}",
                  lambda m: f"{m[2]}{labels[m[1]]}{m[3]}" if labels.get(m[1]) else "", template)
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m[1]], text)
    text = text.replace("{{ $value | humanizePercentage }}", _percentage(value))
    text = text.replace("{{ $value | humanizeDuration }}", _duration(value))
    text = text.replace("{{ $value | humanize }}", _number(value))
    text = text.replace("{{ $value }}", _number(value))
    if "{{" in text:
        raise ValueError(f"cannot expand {template!r} here")
    return text


def expected_alert(rule: Rule, labels: dict[str, str], value: float) -> dict[str, Any]:
    """A firing alert as promtool's ``exp_alerts`` wants it: every label and every annotation."""
    all_labels = {k: v for k, v in {**labels, "severity": rule.severity.value, **rule.labels}.items() if v}
    return {
        "exp_labels": all_labels,
        "exp_annotations": {
            "summary": expand(rule.summary, all_labels, value),
            "description": expand(rule.description, all_labels, value),
            "runbook_url": f"{DEFAULT_RUNBOOK_BASE}#{rule.runbook}",
            # written out here, not built with the renderer's own constant: the link is what is under test
            **({"api_url": f"{DEFAULT_API_BASE}/api/v1/prefixes/{labels['prefix']}"} if rule.per_prefix else {}),
        },
    }


def checkpoint(eval_time: int, firing: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One ``alert_rule_test`` entry per rule at ``eval_time`` seconds: ``firing`` ones as given, the rest quiet."""
    return [
        {"eval_time": f"{eval_time}s", "alertname": name, "exp_alerts": firing.get(name, [])}
        for name in RULES
    ]
