"""Judging the answer to a configured query (``zones[].queries``), without any I/O.

Pass: the rcode is one of ``valid_rcodes`` and every ``expect`` regular
expression matches one record of the answer section in presentation format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import dns.message
import dns.rcode

from routewatch.config.dns_queries import ZoneQuery


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One configured query's outcome at one address; ``query`` is its label (name and type)."""

    query: str
    ok: bool
    rcode: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class QueryResults:
    """Every configured query's outcome at one address, in configuration order."""

    results: tuple[QueryResult, ...]

    @property
    def failing(self) -> int:
        return sum(1 for r in self.results if not r.ok)


def judge_answer(query: ZoneQuery, response: dns.message.Message) -> QueryResult:
    """Pass or fail one answer, and say why in words."""
    rcode = dns.rcode.to_text(response.rcode())
    if rcode not in query.valid_rcodes:
        return QueryResult(query.label, False, rcode, f"rcode {rcode}, expected {' or '.join(query.valid_rcodes)}")
    records = [line for rrset in response.answer for line in rrset.to_text().splitlines()]
    missing = [pattern for pattern in query.expect if not any(re.search(pattern, r) for r in records)]
    if missing:
        return QueryResult(query.label, False, rcode, f"no answer record matches {', '.join(missing)}")
    return QueryResult(query.label, True, rcode, f"rcode {rcode}, {len(records)} answer records")
