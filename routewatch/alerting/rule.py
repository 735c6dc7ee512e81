"""What an alert rule is, and the habits every rule's expression follows.

Every rule is one ``Rule`` value (``bgp_rules.py``, ``dns_rules.py``,
``feed_rules.py``, ``rpki_rules.py``, listed together by ``rules.py``); ``prometheus.py`` and
``grafana.py`` render the same expressions into a Prometheus rules file and
into Grafana-managed alert provisioning. Nothing about a rule lives anywhere else.

Habits that run through the expressions:

- **Page once, whatever an install adds.** Every series is aggregated ``by``
  the labels that identify its subject (``prefix``; ``zone, nameserver,
  address``; ``source``...), never ``without (instance)``: a ServiceMonitor's
  ``pod``, ``namespace`` or ``endpoint``, two routewatch replicas, or two
  Prometheus replicas seen through one query layer all fold into one series,
  hence one alert. A "bad" routing or DNS signal must be seen by every live
  replica (``min`` of a badness gauge, ``max`` of a health gauge): a replica
  with a broken network alone cannot page anybody. Process health
  (components, config reloads) is the opposite: one replica failing is news.
- **Alerts carry who owns them.** Prefix alerts join ``group`` and
  ``description`` from ``routewatch_bgp_prefix_info`` (``topk by (prefix) (1,
  ...)`` keeps the join one-to-one while two replicas briefly disagree during
  a config roll-out), so Alertmanager can route by team.
- **Offenders are named.** Origin and more-specific alerts read
  ``routewatch_bgp_detection_peers`` (one series per open detection's
  offending AS and sub-prefix, at most three per prefix and kind), so the
  summary names the AS and the sub-prefix.
- **Thresholds come from the exporter**, never repeated here: a prefix's own
  when it overrides the default, the default otherwise.
- **The value is the number.** Each expression's value is what the
  description prints (a ratio, a count, a duration), via ``{{ $value }}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from textwrap import dedent, indent

DEFAULT_JOB = "routewatch"

# Rides out a failed scrape (every series goes stale for one evaluation) on a
# single-replica setup without resolving and re-sending a critical alert.
PAGE_KEEP_FIRING = "2m"

METRIC_NAME = re.compile(r"\broutewatch_[a-z0-9_]+")

PREFIX_KEYS = ("prefix",)
TARGET_KEYS = ("zone", "nameserver", "address")

#: How a prefix alert's summary names it: the prefix, then its description when it has one.
PREFIX_NAME = "{{ $labels.prefix }}{{ with $labels.description }} ({{ . }}){{ end }}"


class Severity(StrEnum):
    """Who hears about it, in the names most Alertmanager and Grafana set-ups route on.

    ``critical`` wakes someone, ``warning`` is handled the same day, ``info``
    is read when convenient (a ticket, a chat channel).
    """

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Group(StrEnum):
    """Rule groups: one per subject, so an operator can drop a whole area."""

    BGP = "bgp"
    DNS = "dns"
    FEED = "feed"
    RPKI = "rpki"


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert: what fires, for how long, who hears, and what they read.

    ``summary`` and ``description`` are Go templates in Prometheus' dialect
    (``{{ $value }}``, ``{{ $labels.prefix }}``); the Grafana rendering
    rewrites ``$value`` to Grafana's name for the same number.
    """

    name: str
    group: Group
    expr: str
    for_: str
    severity: Severity
    summary: str
    description: str
    runbook: str
    keep_firing_for: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        """Grafana's stable rule id (at most 40 characters): the alert name in kebab case."""
        return re.sub(r"(?<!^)(?=[A-Z])", "-", self.name).lower()[:40]

    @property
    def per_prefix(self) -> bool:
        """Whether its alerts name a watched prefix (``prefix`` label), so that they can link to its API answer."""
        return self.expr.endswith(PREFIX_INFO_JOIN)

    def metric_names(self) -> set[str]:
        """The routewatch metrics the expression reads (the exporter must emit each one)."""
        return set(METRIC_NAME.findall(self.expr))


def expr(text: str) -> str:
    """An expression written indented in the source, as it is rendered."""
    return dedent(text).strip()


def by(function: str, selector: str, keys: tuple[str, ...]) -> str:
    """``function by (keys) (selector)``: the one way an expression reads a series."""
    return f"{function} by ({', '.join(keys)}) ({selector})"


#: How every prefix rule's expression ends: the join that labels its alerts with the prefix's group and description.
PREFIX_INFO_JOIN = "* on (prefix) group_left (group, description)\n  topk by (prefix) (1, routewatch_bgp_prefix_info)"


def with_prefix_info(expression: str) -> str:
    """``expression`` (one series per prefix at most) labelled with the prefix's group and description."""
    return "(\n" + indent(expr(expression), "  ") + "\n)\n" + PREFIX_INFO_JOIN
