"""The rules as a Prometheus rules file, for those who alert through Alertmanager."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from routewatch.alerting.rules import Group, Rule

EVALUATION_INTERVAL = "30s"


def runbook_url(rule: Rule, runbook_base: str) -> str:
    return f"{runbook_base}#{rule.runbook}"


def alerting_rule(rule: Rule, runbook_base: str) -> dict[str, Any]:
    """One rule in Prometheus' ``alert:`` form."""
    entry: dict[str, Any] = {"alert": rule.name, "expr": rule.expr, "for": rule.for_}
    if rule.keep_firing_for:
        entry["keep_firing_for"] = rule.keep_firing_for
    entry["labels"] = {"severity": rule.severity.value, **rule.labels}
    entry["annotations"] = {
        "summary": rule.summary,
        "description": rule.description,
        "runbook_url": runbook_url(rule, runbook_base),
    }
    return entry


def rules_file(rules: Iterable[Rule], runbook_base: str) -> dict[str, Any]:
    """The rules file document: one group per ``Group``, in the order the rules are written."""
    by_group: dict[Group, list[Rule]] = {}
    for rule in rules:
        by_group.setdefault(rule.group, []).append(rule)
    return {
        "groups": [
            {
                "name": f"routewatch-{group.value}",
                "interval": EVALUATION_INTERVAL,
                "rules": [alerting_rule(rule, runbook_base) for rule in members],
            }
            for group, members in by_group.items()
        ]
    }
