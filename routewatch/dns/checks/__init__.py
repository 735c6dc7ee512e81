"""The DNS checks, one module each, listed once in :data:`CHECKS`.

Adding a check is one module implementing :class:`DnsCheck` plus one line
here; the monitor schedules every registered check for every target whose
zone turns it on (see ``DnsCheck.periods``).
"""

from __future__ import annotations

from routewatch.dns.checks.base import CheckJob, CheckOutcome, DnsCheck
from routewatch.dns.checks.dnssec import DnssecCheck
from routewatch.dns.checks.queries import QueriesCheck
from routewatch.dns.checks.soa import SoaCheck

CHECKS: dict[str, DnsCheck] = {
    "soa": SoaCheck(),
    "dnssec": DnssecCheck(),
    "queries": QueriesCheck(),
}

__all__ = ["CHECKS", "CheckJob", "CheckOutcome", "DnsCheck"]
