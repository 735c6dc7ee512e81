"""Every alert rule routewatch ships, in the order the rendered files list them."""

from __future__ import annotations

from routewatch.alerting.bgp_rules import bgp_rules
from routewatch.alerting.dns_rules import dns_rules
from routewatch.alerting.feed_rules import feed_rules
from routewatch.alerting.rpki_rules import rpki_rules
from routewatch.alerting.rule import DEFAULT_JOB, METRIC_NAME, Group, Rule, Severity

__all__ = ["DEFAULT_JOB", "METRIC_NAME", "Group", "Rule", "Severity", "rules"]


def rules(job: str = DEFAULT_JOB) -> tuple[Rule, ...]:
    """Every rule; ``job`` is routewatch's scrape job (only the absence rule names it)."""
    return (*bgp_rules(), *dns_rules(), *feed_rules(job), *rpki_rules())
