"""The MRT reader's filter when the core watches ASNs: what can matter, and nothing else, is decoded.

A watched ASN makes the core watch the prefixes it originates, and a watched
AS with declared downstreams the prefixes it carries through an AS it did not
declare: such a route matters whatever its prefix, and so does every later
route at or under a prefix found that way. The filter keeps a route whose
prefix is relevant to the core's watch set as it stands, or whose path the
watch set ``discovers``; it asks the latter only about paths that could: a
route is ruled out on the raw AS_PATH bytes when no origin candidate (the last
AS, or the members of a trailing AS_SET, of AS_PATH and of AS4_PATH) is a
watched ASN and no AS of the path is a watched carrier. Nothing is decoded or
interned for the routes ruled out, which on a full table are nearly all; they
are deferred (:mod:`~routewatch.sources.mrt.deferred`), since the watch set
may grow before the core reaches them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Protocol

from routewatch.model import AsPath, Event, Peer
from routewatch.sources.bgpwire.attributes import (
    AFI_IPV4,
    AFI_IPV6,
    AS4_PATH,
    AS_CONFED_SEQUENCE,
    AS_CONFED_SET,
    AS_PATH,
    AS_SEQUENCE,
    AS_SET,
    KNOWN_SAFIS,
    MP_REACH_NLRI,
    AttributeDecoder,
    parse_mp_reach,
    scan_attributes,
)
from routewatch.sources.bgpwire.update import PrefixFilter, UpdateCounters, UpdateDecoder
from routewatch.sources.mrt.deferred import DeferredRoute, PrefixKey, WatchedPrefixes

_U16 = struct.Struct(">H")
_ASN = {2: struct.Struct(">H"), 4: struct.Struct(">I")}
_CODE = {2: "H", 4: "I"}


class DiscoveringWatch(WatchedPrefixes, Protocol):
    """The core's watch set (``WatchSet``) when it watches ASNs, as a replay's reader filters with it."""

    asn_caps: dict[int, int]
    carriers: dict[int, frozenset[int]]

    def discovers(self, path: AsPath) -> bool: ...


class DiscoveryFilter:
    """A replay's filter when the core watches ASNs: a route is kept when its prefix is relevant to the
    watch set, or when the watch set ``discovers`` its path (asked only where the raw path has a chance).

    The watched ASNs and carriers are read once: they do not change while the
    core runs; the prefixes it watches do, which is why what this filter
    rejects is deferred rather than dropped.
    """

    def __init__(self, watch: DiscoveringWatch) -> None:
        self._watch = watch
        self.prefix_relevant = watch.prefix_relevant
        self._matters = watch.discovers
        self._origins = frozenset(watch.asn_caps)
        self._transit = frozenset(watch.carriers)

    @property
    def version(self) -> int:
        """The watch set's version: while it stays, so does every answer of :attr:`prefix_relevant`."""
        return self._watch.version

    def route(self, attributes: AttributeDecoder, data: bytes, start: int, stop: int, asn_size: int) -> bool:
        """Does the route whose path attributes lie in ``data[start:stop]`` matter for its path?

        The attributes are located by ``scan_attributes``, as everywhere else. A
        hand-written header loop that found AS_PATH and AS4_PATH without building
        its table was measured and dropped: 1.07 against 1.24 us a call, but
        replays with watched ASNs of the real RIB and update files took the
        same CPU time either way (bench/RESULTS.md, "Attribute headers").
        """
        return self.spans(attributes, data, scan_attributes(data, start, stop), asn_size)

    def spans(self, attributes: AttributeDecoder, data: bytes, spans: dict[int, tuple[int, int]],
              asn_size: int) -> bool:
        """As :meth:`route`, the attributes already located."""
        span = spans.get(AS_PATH)
        span4 = spans.get(AS4_PATH) if asn_size == 2 else None
        if not (span is not None and self._may(data, *span, asn_size)
                or span4 is not None and self._may(data, *span4, 4)):
            return False
        return self._matters(attributes.as_path(data, spans, asn_size))

    def _may(self, data: bytes, pos: int, end: int, size: int) -> bool:
        """Could the AS_PATH segments in ``data[pos:end]`` end at a watched origin or pass a watched carrier?

        True when unsure: a damaged path is then decoded, and reported as the
        decoder reports it.
        """
        transit = self._transit
        if not transit and pos + 2 < end and data[pos] == AS_SEQUENCE and pos + 2 + data[pos + 1] * size == end:
            return _ASN[size].unpack_from(data, end - size)[0] in self._origins  # the usual path: one sequence
        last: tuple[int, int, int] | None = None  # the last non-empty segment that names ASes
        while pos < end:
            if pos + 2 > end:
                return True
            seg_type = data[pos]
            count = data[pos + 1]
            stop = pos + 2 + count * size
            if stop > end:
                return True
            if seg_type == AS_SEQUENCE or seg_type == AS_SET:
                if count:
                    last = (seg_type, pos + 2, stop)
                    if transit and not transit.isdisjoint(struct.unpack_from(f">{count}{_CODE[size]}", data, pos + 2)):
                        return True
            elif seg_type != AS_CONFED_SEQUENCE and seg_type != AS_CONFED_SET:
                return True
            pos = stop
        if last is None:
            return False
        seg_type, first, stop = last
        if seg_type == AS_SEQUENCE:
            return _ASN[size].unpack_from(data, stop - size)[0] in self._origins
        members = struct.unpack_from(f">{(stop - first) // size}{_CODE[size]}", data, first)
        return not self._origins.isdisjoint(members)


Defer = Callable[[Callable[..., list[Event]], tuple[object, ...], list[PrefixKey], float], list[DeferredRoute]]
"""Holds a record's routes back: (decode, its arguments, their prefixes, their time) -> their places in the replay."""


class PathAwareUpdates:
    """UPDATE bodies read with a discovery filter: whole, or deferred whole.

    An UPDATE's announcements share one path. When some of its routes are
    relevant and others not, or its path matters, every route is decoded, as
    an unfiltered read gives them; when none is relevant and the path does not
    matter, every route is deferred (``defer``), to be judged when the core
    reaches it.
    """

    def __init__(self, attributes: AttributeDecoder, discovery: DiscoveryFilter, stats: UpdateCounters,
                 later: UpdateCounters, defer: Defer) -> None:
        self._attrs = attributes
        self._accept: PrefixFilter = discovery.prefix_relevant
        self._paths = discovery
        self._stats = stats
        self._defer = defer
        self._keys: list[PrefixKey] = []
        self._filtered = UpdateDecoder(attributes, self._recorded, stats)
        self._every = UpdateDecoder(attributes, None, stats)
        self._later = UpdateDecoder(attributes, None, later)  # decodes deferred UPDATEs; counts go to ``later``

    def decode(self, data: bytes, pos: int, end: int, time: float, peer: Peer, asn_size: int,
               add_path: bool) -> Sequence[Event | DeferredRoute]:
        stats = self._stats
        elements, filtered = stats.elements, stats.filtered
        self._keys = []
        events = self._filtered.decode(data, pos, end, time, peer, asn_size, add_path)
        rejected = stats.filtered - filtered
        if not rejected:
            return events
        if rejected < stats.elements - elements or self._path_matters(data, pos, end, asn_size):
            stats.elements, stats.filtered = elements, filtered
            return self._every.decode(data, pos, end, time, peer, asn_size, add_path)
        stats.filtered = filtered  # held back, not rejected: judged when the core reaches them
        return self._defer(UpdateDecoder.decode, (self._later, data, pos, end, time, peer, asn_size, add_path),
                           self._keys, time)

    def _recorded(self, version: int, network: int, length: int) -> bool:
        """The prefix filter, remembering what it was asked in order: the keys of a deferred UPDATE's routes."""
        self._keys.append((version, network, length))
        return self._accept(version, network, length)

    def _path_matters(self, data: bytes, pos: int, end: int, asn_size: int) -> bool:
        """Does the UPDATE announce anything, under a path that matters? (Its layout was checked by decoding.)"""
        (withdrawn_len,) = _U16.unpack_from(data, pos)
        a_start = pos + 4 + withdrawn_len
        (attr_len,) = _U16.unpack_from(data, a_start - 2)
        a_end = a_start + attr_len
        spans = scan_attributes(data, a_start, a_end)
        announces = a_end < end
        span = spans.get(MP_REACH_NLRI)
        if not announces and span is not None:
            reach = parse_mp_reach(data, *span)
            announces = (reach.nlri_start < reach.nlri_end and reach.afi in (AFI_IPV4, AFI_IPV6)
                         and reach.safi in KNOWN_SAFIS)
        return announces and self._paths.spans(self._attrs, data, spans, asn_size)
