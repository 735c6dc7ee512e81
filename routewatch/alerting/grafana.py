"""The rules as Grafana-managed alert provisioning (``apiVersion: 1``).

Each rule becomes three nodes, the shape Grafana itself gives a Prometheus
rule it imports: ``A`` runs the PromQL expression as an instant query against
the Prometheus datasource; ``B`` is a math expression that is 1 for every
series ``A`` returned (whatever its value, even 0 or NaN: in PromQL a series
that survives the comparison is an alert); ``C`` is the threshold ``B > 0``
and is the rule's condition. ``$value`` in the annotations becomes
``$values.A.Value``, Grafana's name for the same number.

No-data and error states are explicit. The query returns no series when all
is well, so "no data" is ``OK`` (a vanished exporter is ``RoutewatchAbsent``'s
job); a failing query is ``Error``, so Grafana raises its own datasource-error
alert instead of calling the rule healthy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from routewatch.alerting.prometheus import EVALUATION_INTERVAL, Links, link_annotations
from routewatch.alerting.rules import Group, Rule

EXPRESSION_DATASOURCE = "__expr__"
QUERY, MATH, CONDITION = "A", "B", "C"
NO_DATA_STATE = "OK"
EXEC_ERROR_STATE = "Error"
QUERY_WINDOW_SECONDS = 600

_PROM_VALUE = re.compile(r"\$value\b")


def grafana_template(text: str) -> str:
    """A Prometheus annotation template in Grafana's dialect."""
    return _PROM_VALUE.sub(f"$values.{QUERY}.Value", text)


def _expression(ref: str, model: dict[str, Any]) -> dict[str, Any]:
    return {
        "refId": ref,
        "relativeTimeRange": {"from": 0, "to": 0},
        "datasourceUid": EXPRESSION_DATASOURCE,
        "model": {"refId": ref, "datasource": {"type": EXPRESSION_DATASOURCE, "uid": EXPRESSION_DATASOURCE}, **model},
    }


def _data(rule: Rule, datasource_uid: str) -> list[dict[str, Any]]:
    query = {
        "refId": QUERY,
        "relativeTimeRange": {"from": QUERY_WINDOW_SECONDS, "to": 0},
        "datasourceUid": datasource_uid,
        "model": {
            "refId": QUERY,
            "datasource": {"type": "prometheus", "uid": datasource_uid},
            "expr": rule.expr,
            "instant": True,
            "range": False,
        },
    }
    every_series = f"is_number(${QUERY}) || is_nan(${QUERY}) || is_inf(${QUERY})"
    math = _expression(MATH, {"type": "math", "expression": every_series})
    threshold = _expression(CONDITION, {
        "type": "threshold",
        "expression": MATH,
        "conditions": [{"evaluator": {"type": "gt", "params": [0]}}],
    })
    return [query, math, threshold]


def alert_rule(rule: Rule, datasource_uid: str, links: Links) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "uid": rule.uid,
        "title": rule.name,
        "condition": CONDITION,
        "data": _data(rule, datasource_uid),
        "noDataState": NO_DATA_STATE,
        "execErrState": EXEC_ERROR_STATE,
        "for": rule.for_,
    }
    if rule.keep_firing_for:
        entry["keepFiringFor"] = rule.keep_firing_for
    entry["labels"] = {"severity": rule.severity.value, **rule.labels}
    entry["annotations"] = {
        "summary": grafana_template(rule.summary),
        "description": grafana_template(rule.description),
        **{name: grafana_template(url) for name, url in link_annotations(rule, links).items()},
    }
    entry["isPaused"] = False
    return entry


def provisioning(rules: Iterable[Rule], datasource_uid: str, folder: str, links: Links) -> dict[str, Any]:
    """The provisioning document: one rule group per ``Group`` in one folder of org 1."""
    by_group: dict[Group, list[Rule]] = {}
    for rule in rules:
        by_group.setdefault(rule.group, []).append(rule)
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": f"routewatch-{group.value}",
                "folder": folder,
                "interval": EVALUATION_INTERVAL,
                "rules": [alert_rule(rule, datasource_uid, links) for rule in members],
            }
            for group, members in by_group.items()
        ],
    }
