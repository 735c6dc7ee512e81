"""Routes a replay holds back undecoded until the core reaches them.

A replay that watches ASNs keeps, beyond the routes under watched prefixes,
the routes whose path a watched ASN originates (or a watched carrier leaks):
the core then watches their prefix, and every later route for it, or under
it, matters too. Which prefixes those are is only known in the core's order of
application, and the reader runs ahead of it: the merge of the files reads one
record ahead per file, and a file's clock holds its first records until it has
seen three distinct times. A route dropped when it was read could be one the
core would keep by the time it applies it (a withdrawal of a prefix another
file has just shown originated by the ASN).

So a record none of whose routes matters when it is read is not dropped, and
not decoded either: each of its routes takes its place in the replay as a
:class:`DeferredRoute` carrying its prefix, and the replay asks, as it reaches
it, whether the prefix is relevant now. Only then is the record decoded (once,
for all its routes). The replay applies exactly the routes it applied when it
decoded everything, in the same order and at the same times; the rest never
become objects. (Damage inside the attributes of a record that is never
decoded goes unseen, as it does under any prefix filter.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from routewatch.model import Event
from routewatch.slot_init import init_through_slots
from routewatch.sources.mrt.damage import CONTENT_ERRORS

PrefixKey = tuple[int, int, int]
"""(IP version, network as an int, prefix length): what the prefix filters are asked."""


class DeferredCounts(Protocol):
    """The counters a deferred record settles when its routes are judged (``MrtStats`` is one)."""

    elements: int
    filtered: int


class WatchedPrefixes(Protocol):
    """What judges a deferred route: the core's watch set as it stands when the route is reached."""

    version: int
    """Changes whenever the answers may."""

    def prefix_relevant(self, version: int, value: int, length: int) -> bool: ...


class DeferringReader(Protocol):
    """Where deferred records come from (``RecordDecoder``): the counters they settle, and who reports damage."""

    @property
    def stats(self) -> DeferredCounts: ...

    def damaged(self, offset: int, exc: Exception) -> None:
        """Count and log the record at ``offset`` as malformed."""


class DeferredRecord:
    """The routes of one record that mattered to nobody when it was read, and how to decode them all.

    ``decode(*args)`` decodes the record's routes in record order, ``keys[i]``
    being the prefix of route ``i``. A record whose content turns out
    malformed when it is decoded is reported as the reader reports one when it
    reads it, and gives no route at all. Few objects are made per record: a
    full table defers nearly all of its records, and every object is work for
    the garbage collector while the file's clock holds them.
    """

    __slots__ = ("_args", "_decode", "_events", "_filtered", "_judged", "_offset", "_read_at", "_reader", "keys")

    def __init__(self, reader: DeferringReader, decode: Callable[..., list[Event]], args: tuple[object, ...],
                 keys: Sequence[PrefixKey], offset: int, read_at: int) -> None:
        """``offset``: where the record starts in its file; ``read_at``: the version of the watch set that
        found none of ``keys`` relevant."""
        self._reader = reader
        self._decode = decode
        self._args = args
        self.keys = keys
        self._offset = offset
        self._read_at = read_at
        self._events: list[Event] | None = None
        self._filtered = 0
        self._judged: tuple[PrefixKey, int, bool] | None = None  # the last (prefix, watch set version, answer)

    def route(self, index: int, watch: WatchedPrefixes) -> Event | None:
        """Route ``index`` if its prefix is relevant to ``watch`` now, else None (counted as filtered).

        Nothing is looked up while the watch set is as it was when the record
        was read, and a RIB record's routes, which share their prefix, look it
        up once while it stays as it is.
        """
        if self._events == []:
            return None  # found malformed: none of its routes counts
        key = self.keys[index]
        judged = self._judged
        if watch.version == self._read_at:
            relevant = False
        elif judged is not None and judged[0] is key and judged[1] == watch.version:
            relevant = judged[2]
        else:
            relevant = watch.prefix_relevant(*key)
            self._judged = (key, watch.version, relevant)
        if not relevant:
            self._reader.stats.filtered += 1
            self._filtered += 1
            return None
        events = self._events
        if events is None:
            events = self._events = self._decoded()
        return events[index] if events else None

    def _decoded(self) -> list[Event]:
        try:
            return self._decode(*self._args)
        except CONTENT_ERRORS as exc:
            # a malformed record counts no elements, as when it is found malformed on reading
            stats = self._reader.stats
            stats.elements -= len(self.keys)
            stats.filtered -= self._filtered
            self._reader.damaged(self._offset, exc)
            return []


@init_through_slots
@dataclass(frozen=True, slots=True)
class DeferredRoute:
    """Route ``index`` of a deferred record, at its place in the replay and at the time the file's clock gives it."""

    time: float
    record: DeferredRecord
    index: int

    def resolve(self, watch: WatchedPrefixes) -> Event | None:
        """The route, decoded, if its prefix is relevant to ``watch`` now; None if it cannot matter."""
        event = self.record.route(self.index, watch)
        if event is None or event.time == self.time:
            return event
        return dataclasses.replace(event, time=self.time)
