"""Reading MRT archives (RFC 6396) into routewatch events.

Supported: BGP4MP and BGP4MP_ET (2- and 4-byte AS, ADD-PATH, state changes),
TABLE_DUMP (v1) and TABLE_DUMP_V2 (incl. ADD-PATH RIB subtypes), each file gzip,
bzip2 or plain. What comes out matches ``bgpdump -m`` element by element; the
test suite checks that against every shared sample file.

Two kinds of damage are told apart. A record whose MRT framing is intact but
whose BGP content is malformed is counted in :attr:`MrtStats.malformed`, logged
and skipped: the file goes on. Damaged framing (a corrupt compressed stream, a
file cut inside a record, an impossible length) leaves no way to find the next
record, so every good record before it is yielded and then
:class:`~routewatch.errors.MrtDecodeError` names the file and byte offset.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterator
from functools import partial
from typing import cast

from routewatch.model import Event
from routewatch.sources.bgpwire.attributes import AttributeDecoder
from routewatch.sources.mrt.damage import CONTENT_ERRORS, MALFORMED_LOGGED, count_malformed
from routewatch.sources.mrt.deferred import DeferredRoute
from routewatch.sources.mrt.discovery import DiscoveryFilter
from routewatch.sources.mrt.framing import iter_records, open_mrt
from routewatch.sources.mrt.records import Element, MrtStats, PrefixFilter, RecordDecoder

__all__ = ["DeferredRoute", "DiscoveryFilter", "MrtStats", "PrefixFilter", "collector_from_path", "read_mrt",
           "read_mrt_timed"]

log = logging.getLogger(__name__)

#: Shared by every read, so that a replay of many files interns each AS path,
#: community list and prefix once.
_ATTRIBUTES = AttributeDecoder()

_RIS = re.compile(r"rrc\d\d")
# "route-views2", "route-views.jinx", but not the "updates"/"ribs" that follow
# the plain "route-views" collector in BGPStream-style names.
_ROUTEVIEWS = re.compile(r"route-views(?:\d+|\.(?!(?:updates|ribs?|bgpdata|bview)\b)[a-z][a-z0-9-]*)?")


def collector_from_path(path: str | os.PathLike[str]) -> str:
    """The collector named by an archive path, or ``"mrt"`` when it names none.

    Unnamed files all share ``"mrt"`` so that two files of one collector merge
    their peers rather than doubling them.
    """
    text = os.fspath(path)
    for pattern in (_RIS, _ROUTEVIEWS):
        match = pattern.search(text)
        if match:
            return match.group(0)
    return "mrt"


def read_mrt(
    path: str | os.PathLike[str],
    *,
    collector: str | None = None,
    prefix_filter: PrefixFilter | None = None,
    stats: MrtStats | None = None,
) -> Iterator[Event]:
    """Yield the events of an MRT file in file order.

    ``prefix_filter(version, network_as_int, prefixlen)`` sees every route
    element before anything is built for it; elements it rejects are only
    counted. RIB entries carry the dump's timestamp, as ``bgpdump -m`` prints.
    Raises MrtDecodeError after the last good record of a damaged file.
    """
    # nothing is deferred without a discovery filter, and no data time is yielded without ``every``
    yield from cast(Iterator[Event], _elements(path, collector, prefix_filter, None, stats, None))


def read_mrt_timed(
    path: str | os.PathLike[str],
    *,
    collector: str | None = None,
    prefix_filter: PrefixFilter | None = None,
    discovery: DiscoveryFilter | None = None,
    stats: MrtStats | None = None,
    every: float = 1.0,
) -> Iterator[Element | float]:
    """As :func:`read_mrt`, plus the data time (a float) of records that gave no event, at most once per ``every``.

    A replay's clock must move with every record read, watched or not: after
    the last watched element a withdrawal's hold-down still has to end.
    With ``discovery`` (a replay that watches ASNs; it replaces ``prefix_filter``),
    a route is also kept when the core would watch its prefix for its AS path,
    and what the filter rejects is yielded as a :class:`DeferredRoute`, for the
    replay to judge when it gets there (see :mod:`~routewatch.sources.mrt.deferred`).
    """
    return _elements(path, collector, prefix_filter, discovery, stats, every)


def _elements(path: str | os.PathLike[str], collector: str | None, prefix_filter: PrefixFilter | None,
              discovery: DiscoveryFilter | None, stats: MrtStats | None,
              every: float | None) -> Iterator[Element | float]:
    """The elements of every record that decodes (malformed ones are counted and skipped), with the
    data time of records that gave none, at most once per ``every`` seconds (never when it is None).

    One generator for both readers: a second one wrapping it cost a frame switch per record
    (bench_replay, the 860,000-record RIB).
    """
    name = os.fspath(path)
    stats = stats if stats is not None else MrtStats()
    decoder = RecordDecoder(
        collector if collector is not None else collector_from_path(name),
        prefix_filter,
        stats,
        _ATTRIBUTES,
        discovery,
        partial(count_malformed, stats, name),
    )
    counter = [0]
    last = -1
    last_yielded = -math.inf
    with open_mrt(name) as stream:
        try:
            for offset, data, start, end, ts, mrt_type, subtype in iter_records(stream, name, counter):
                stats.records += 1
                elements, filtered = stats.elements, stats.filtered
                if ts > last:
                    last = ts
                try:
                    events = decoder.decode(data, start, end, ts, mrt_type, subtype, offset)
                except CONTENT_ERRORS as exc:
                    # a record that fails counts no elements: the counts are of real elements only
                    stats.elements, stats.filtered = elements, filtered
                    count_malformed(stats, name, offset, exc)
                    continue
                if events:
                    yield from events
                elif every is not None and abs(ts - last_yielded) >= every:
                    # either way: one record stamped far ahead must not silence the rest
                    last_yielded = ts
                    yield float(ts)
        finally:
            stats.bytes_read += counter[0]
            if last >= 0:
                stats.last_time = float(last) if stats.last_time is None else max(stats.last_time, float(last))
            if stats.malformed > MALFORMED_LOGGED:
                log.warning("%s: %d malformed records skipped in all", name, stats.malformed)
