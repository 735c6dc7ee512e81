"""The rules as a Prometheus rules file, for those who alert through Alertmanager."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from routewatch.alerting.rules import Group, Rule

EVALUATION_INTERVAL = "30s"


#: Where, under the API base, a prefix alert links: the prefix's status, per collector, and its open detections.
PREFIX_API_PATH = "/api/v1/prefixes/{{ $labels.prefix }}"


@dataclass(frozen=True, slots=True)
class Links:
    """The absolute bases an alert's links are built on (absolute: a page or a chat message has no base of its own)."""

    runbook_base: str
    api_base: str


def link_annotations(rule: Rule, links: Links) -> dict[str, str]:
    """``runbook_url`` for every rule; ``api_url``, the prefix's JSON API answer, for rules about a prefix."""
    annotations = {"runbook_url": f"{links.runbook_base}#{rule.runbook}"}
    if rule.per_prefix:
        annotations["api_url"] = links.api_base + PREFIX_API_PATH
    return annotations


def alerting_rule(rule: Rule, links: Links) -> dict[str, Any]:
    """One rule in Prometheus' ``alert:`` form."""
    entry: dict[str, Any] = {"alert": rule.name, "expr": rule.expr, "for": rule.for_}
    if rule.keep_firing_for:
        entry["keep_firing_for"] = rule.keep_firing_for
    entry["labels"] = {"severity": rule.severity.value, **rule.labels}
    entry["annotations"] = {
        "summary": rule.summary,
        "description": rule.description,
        **link_annotations(rule, links),
    }
    return entry


def rules_file(rules: Iterable[Rule], links: Links) -> dict[str, Any]:
    """The rules file document: one group per ``Group``, in the order the rules are written."""
    by_group: dict[Group, list[Rule]] = {}
    for rule in rules:
        by_group.setdefault(rule.group, []).append(rule)
    return {
        "groups": [
            {
                "name": f"routewatch-{group.value}",
                "interval": EVALUATION_INTERVAL,
                "rules": [alerting_rule(rule, links) for rule in members],
            }
            for group, members in by_group.items()
        ]
    }
