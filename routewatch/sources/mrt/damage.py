"""Malformed MRT records: counted and skipped, the first few of a file logged one by one.

A record whose framing is intact but whose BGP content contradicts itself
costs that record only; the read goes on.
"""

from __future__ import annotations

import logging
import struct
from typing import Protocol

from routewatch.sources.bgpwire.attributes import MalformedRecord

log = logging.getLogger("routewatch.sources.mrt.reader")

CONTENT_ERRORS = (MalformedRecord, struct.error, IndexError, ValueError, KeyError)
"""What decoding a record's content raises when the content is malformed."""
MALFORMED_LOGGED = 10
"""Malformed records of one file logged one by one; the rest are counted and summed up once."""


class MalformedCount(Protocol):
    malformed: int


def count_malformed(stats: MalformedCount, name: str, offset: int, exc: Exception) -> None:
    """Count a malformed record; log the first few of a file, so damage cannot flood the log."""
    stats.malformed += 1
    if stats.malformed <= MALFORMED_LOGGED:
        log.warning("%s: skipping malformed record at byte offset %d: %s", name, offset, exc)
    if stats.malformed == MALFORMED_LOGGED:
        log.warning("%s: further malformed records are counted, not logged one by one", name)
