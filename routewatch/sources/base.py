"""What every BGP source is, what it may ask of the core's owner, and the registry of sources by config type.

A source turns some input (MRT files, BGPStream elems, a RIS Live socket, next
a BMP station) into events and hands them to a :class:`CoreSink`: whoever owns
the core (the daemon; a test; a benchmark). A source never holds the core. It
hands over events in order, moves data time forward, and asks for control
work: "replay these bootstrap files", "make these collectors' routes equal
this snapshot", "the core is bootstrapped now". Collectors going stale or
fresh are events of their own (:class:`~routewatch.model.SourceStatus`).

The daemon builds each configured source from :data:`SOURCES` by its config
``type``, and publishes each one's ``health()``. Adding a source (a BMP
station, say) touches:

- one new module, e.g. ``routewatch/sources/bmp.py``: a class taking
  ``(settings, context)`` with ``run(sink, stop)`` and ``health()``; a live
  one drives a :class:`~routewatch.sources.session.LiveSession` for its
  bootstrap, stale collectors and reconciliation, as RIS Live does;
- one line in :data:`SOURCES` below;
- its settings: one class in ``routewatch/config/sources.py`` (with its
  ``type`` literal, ``follows_present``, ``needs_snapshot`` and ``where_from``) added to
  ``SourceSettings`` there; the config reference is generated from it.

Nothing in the daemon, the exporter or the core changes.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from routewatch.config.schema import Config
from routewatch.model import Address, Event, Prefix, RouteAnnouncement
from routewatch.sources.health import SourceHealth


@dataclass(frozen=True, slots=True)
class WatchTargets:
    """What a source is asked to follow, as plain values: watched prefixes, nameserver addresses, watched ASNs.

    ``carriers`` are the watched ASNs with declared downstreams: every path
    through one of them may show a leak through an undeclared customer.
    """

    prefixes: tuple[Prefix, ...] = ()
    addresses: tuple[Address, ...] = ()
    asns: tuple[int, ...] = ()
    carriers: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteSnapshot:
    """Routes of ``collectors`` at data time ``time``, for bootstrap or for reconciling after a gap.

    ``confirmed`` lists the prefixes the snapshot speaks for; None means it is
    complete for its collectors (a RIB dump). ``failed`` counts the questions
    that got no answer.
    """

    routes: tuple[RouteAnnouncement, ...]
    collectors: frozenset[str]
    time: float
    confirmed: frozenset[Prefix] | None = None
    failed: int = 0


class LookingGlass(Protocol):
    """What routewatch needs of a looking glass (``routewatch.sources.ripestat.RipestatClient`` is one)."""

    async def looking_glass(self, resource: str) -> list[RouteAnnouncement]: ...


class CoreSink(Protocol):
    """The core's owner as a source sees it. Called on the event loop, between awaits, so no lock is needed."""

    @property
    def data_time(self) -> float:
        """The core's data time (the newest event's time, or later)."""

    @property
    def bootstrapped(self) -> bool:
        """Whether the core already holds a state from a snapshot (restored, replayed, or carried over)."""

    def known_collectors(self) -> frozenset[str]:
        """Collectors whose peers the core has seen."""

    def targets(self) -> WatchTargets:
        """Everything watched now (it grows as watched ASNs' prefixes and nameserver addresses are found)."""

    def target_counts(self) -> tuple[int, int]:
        """How many prefixes and addresses are watched: cheap, so a source can tell when to ask for ``targets``."""

    def apply(self, events: Sequence[Event], *, established: bool = False) -> None:
        """Apply ``events`` in order; what they touched is evaluated at ``flush`` (or when data time moves on).

        ``established`` marks routes of a table sent whole (a BMP peer's initial
        table): held before the source saw them, they join the baseline at once.
        """

    def advance(self, data_time: float) -> None:
        """Move data time forward to ``data_time`` (nothing if it is not later), firing timers on the way."""

    def flush(self) -> None:
        """Evaluate what the latest events touched."""

    def replay(self, files: Sequence[str], wall_clock: float | None = None) -> int:
        """Replay a RIB dump and the update files since it (blocking); returns the number of events.

        A live source passes ``wall_clock``: elements stamped too far ahead of it are judged at it."""

    def load_snapshot(self, snapshot: RouteSnapshot) -> None:
        """Make the routes of the snapshot's collectors equal the snapshot, at its time or later."""

    def mark_bootstrapped(self) -> None:
        """The core's state now comes from a snapshot: stable prefixes are known."""


@dataclass(frozen=True, slots=True, eq=False)
class SourceContext:
    """What the daemon gives every source it builds, besides the source's own settings.

    ``replayed`` is the set of files the source already replayed, kept across
    reloads so that nothing is replayed twice. ``looking_glass`` opens a
    looking glass for bootstrap and reconciliation (None: there is none).
    """

    config: Config
    clock: Callable[[], float] = time.time
    replayed: set[str] = field(default_factory=set)
    looking_glass: Callable[[], AbstractAsyncContextManager[LookingGlass]] | None = None


class Source(Protocol):
    """One configured BGP source: runs until ``stop`` is set (a supervisor restarts it on failure)."""

    async def run(self, sink: CoreSink, stop: asyncio.Event) -> None:
        """Hand events and control requests to ``sink`` until ``stop`` is set or the input ends."""

    def health(self) -> SourceHealth:
        """A frozen view of the feed for the exporter, at any time."""


SourceFactory = Callable[[Any, SourceContext], Source]


@dataclass(frozen=True, slots=True)
class SourceClass:
    """A source class named by module and class, imported when first built.

    Imported late so that a source's dependencies (websockets, pybgpstream)
    are loaded only when it is configured, and so that source modules can
    import this one.
    """

    module: str
    name: str

    def __call__(self, settings: Any, context: SourceContext) -> Source:
        cls: SourceFactory = getattr(importlib.import_module(self.module), self.name)
        return cls(settings, context)


#: Config ``type`` -> the source class built for it (``routewatch.config.sources.SOURCE_TYPES`` has its settings).
SOURCES: dict[str, SourceFactory] = {
    "mrt": SourceClass("routewatch.sources.mrt.feed", "MrtFeed"),
    "bgpstream": SourceClass("routewatch.sources.bgpstream", "BgpStreamFeed"),
    "ris-live": SourceClass("routewatch.sources.ris_live.feed", "RisLiveFeed"),
    "bmp": SourceClass("routewatch.sources.bmp.station", "BmpStation"),
}


def build_source(settings: Any, context: SourceContext) -> Source:
    """The source for one ``sources[]`` entry of the config."""
    return SOURCES[settings.type](settings, context)
