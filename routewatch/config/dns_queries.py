"""Configured DNS queries per zone: the blackbox_exporter-style checks (``zones[].queries``).

"www.example.com A answers 192.0.2.1 from every authoritative address" is one
entry: a name, a type, the rcodes that count as an answer, and regular
expressions that must each match one record of the answer section (in
presentation format, e.g. ``www.example.com. 300 IN A 192.0.2.1``).
"""

from __future__ import annotations

import re
from typing import Annotated

import dns.rcode
import dns.rdatatype
from pydantic import BeforeValidator, Field, field_validator

from routewatch.config.messages import describe
from routewatch.config.sources import Section
from routewatch.config.values import ZoneField

MAX_QUERIES_PER_ZONE = 16
"""Each query is a label value on every address of the zone: bounded here."""


def _rdatatype(value: object) -> str:
    try:
        return dns.rdatatype.to_text(dns.rdatatype.from_text(str(value))) if isinstance(value, str) else _bad(value)
    except dns.rdatatype.UnknownRdatatype:
        raise ValueError(f"expected a DNS record type such as A, AAAA or TXT, got {describe(value)}") from None


def _rcode(value: object) -> str:
    try:
        return dns.rcode.to_text(dns.rcode.from_text(str(value))) if isinstance(value, str) else _bad(value)
    except dns.rcode.UnknownRcode:
        raise ValueError(f"expected a DNS rcode such as NOERROR or NXDOMAIN, got {describe(value)}") from None


def _bad(value: object) -> str:
    raise ValueError(f"expected text, got {describe(value)}")


def _regex(value: object) -> str:
    if not isinstance(value, str):
        return _bad(value)
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {value!r}") from None
    return value


class ZoneQuery(Section):
    """One query asked of every nameserver address of the zone, with RD=0."""

    name: ZoneField = Field(description="The name to ask for (absolute; stored lower-case with a final dot).")
    type: Annotated[str, BeforeValidator(_rdatatype)] = Field(description="The record type, e.g. `A`.")
    valid_rcodes: list[Annotated[str, BeforeValidator(_rcode)]] = Field(
        default=["NOERROR"], min_length=1, description="Rcodes that count as an answer."
    )
    expect: list[Annotated[str, BeforeValidator(_regex)]] = Field(
        default=[], description="Regular expressions; each must match one answer record in presentation format."
    )

    @property
    def label(self) -> str:
        """The ``query`` label value: name and type, from the config alone."""
        return f"{self.name} {self.type}"

    @field_validator("valid_rcodes")
    @classmethod
    def _distinct(cls, rcodes: list[str]) -> list[str]:
        return list(dict.fromkeys(rcodes))
