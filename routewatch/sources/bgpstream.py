"""CAIDA BGPStream as a source (optional: ``pip install 'routewatch[bgpstream]'``).

pybgpstream needs CAIDA's C library libbgpstream, which is not on PyPI, so
everything here imports it lazily and raises :class:`DependencyError` naming
both when it is missing; the rest of routewatch never needs it.

The only logic is :func:`elem_to_events`, one pure function shared by the file
reader and the live source and tested against elems built from ``bgpdump -m``
text of the shared MRT files. :class:`BgpStreamReader` is the stream as an async
iterator of events; :class:`BgpStreamFeed` is the configured source the daemon
runs. BGPStream elems carry neither SAFI nor ADD-PATH
path id, so their events are unicast with path id 0.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from routewatch.config.schema import BgpStreamSource
from routewatch.errors import DependencyError
from routewatch.model import (
    Event,
    Peer,
    PeerStateChange,
    Prefix,
    RouteAnnouncement,
    RouteWithdrawal,
    canonical_address,
    parse_as_path,
    parse_prefix,
)
from routewatch.sources.base import CoreSink, SourceContext
from routewatch.sources.clock_guard import MAX_TIMESTAMP, ClockGuard
from routewatch.sources.collector_cap import CollectorCap
from routewatch.sources.health import FeedCounters, SourceHealth
from routewatch.sources.mrt.reader import MrtStats

INSTALL_HINT = (
    "pybgpstream is not installed: run pip install 'routewatch[bgpstream]' after installing "
    "CAIDA's libbgpstream C library (https://github.com/CAIDA/libbgpstream)"
)

#: libbgpstream's names of the BGP FSM states, numbered as in MRT.
FSM_STATES = {
    "unknown": 0,
    "idle": 1,
    "connect": 2,
    "active": 3,
    "opensent": 4,
    "openconfirm": 5,
    "established": 6,
    "clearing": 7,
    "deleted": 8,
}
STALE_AFTER = 900.0
"""A followed collector that sent nothing for this long is reported stale."""
_WELL_KNOWN = {"no-export": (0xFFFF, 0xFF01), "no-advertise": (0xFFFF, 0xFF02), "local-as": (0xFFFF, 0xFF03)}


class BgpElem(Protocol):
    """The part of ``pybgpstream.BGPElem`` that routewatch reads."""

    type: str
    time: float
    peer_address: str
    peer_asn: int
    fields: Mapping[str, Any]


def elem_to_events(elem: BgpElem, collector: str) -> list[Event]:
    """The events of one BGPStream elem: R/A announce, W withdraw, S session state.

    Raises ValueError on an elem whose fields or time do not parse; unknown elem types
    give no event.
    """
    peer = Peer(collector, canonical_address(str(elem.peer_address)), int(elem.peer_asn))
    fields = elem.fields
    time = float(elem.time)
    if not 0.0 <= time <= MAX_TIMESTAMP:  # false for NaN too
        raise ValueError(f"elem time {elem.time!r} is not epoch seconds before 2^32")
    if elem.type in ("A", "R"):
        return [
            RouteAnnouncement(
                time,
                peer,
                _prefix(fields),
                parse_as_path(str(fields.get("as-path", ""))),
                next_hop=_next_hop(fields.get("next-hop")),
                communities=parse_communities(fields.get("communities") or ()),
            )
        ]
    if elem.type == "W":
        return [RouteWithdrawal(time, peer, _prefix(fields))]
    if elem.type == "S":
        return [PeerStateChange(time, peer, _state(fields.get("old-state")), _state(fields.get("new-state")))]
    return []


def _prefix(fields: Mapping[str, Any]) -> Prefix:
    return parse_prefix(str(fields["prefix"]))


def _next_hop(value: object) -> str | None:
    return canonical_address(str(value)) if value else None


def _state(value: object) -> int:
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    if text not in FSM_STATES:
        raise ValueError(f"unknown BGP FSM state {value!r}")
    return FSM_STATES[text]


def parse_communities(values: Iterable[object]) -> tuple[tuple[int, int], ...]:
    """``{"2914:420", "no-export"}`` -> sorted ``((2914, 420), (65535, 65281))``.

    Sorted because BGPStream hands communities over as a set; order carries no
    meaning in BGP.
    """
    pairs = []
    for value in values:
        text = str(value).strip()
        if text.lower() in _WELL_KNOWN:
            pairs.append(_WELL_KNOWN[text.lower()])
            continue
        asn, _, number = text.partition(":")
        pairs.append((int(asn), int(number)))
    return tuple(sorted(pairs))


def bgpstream_filter(prefixes: Iterable[Prefix | str], elemtypes: Sequence[str] = ()) -> str:
    """A BGPStream filter string: the prefixes and their more-specifics, of the given elem types."""
    terms = " or ".join(f"prefix more {prefix}" for prefix in prefixes)
    parts = [f"({terms})" if " or " in terms else terms] if terms else []
    if elemtypes:
        parts.append("elemtype " + " ".join(elemtypes))
    return " and ".join(parts)


def _import_pybgpstream() -> Any:
    try:
        import pybgpstream  # type: ignore[import-not-found]
    except ImportError as exc:
        raise DependencyError(INSTALL_HINT) from exc
    return pybgpstream


def read_bgpstream_file(
    path: str | os.PathLike[str], *, collector: str, rib: bool = False, stats: MrtStats | None = None
) -> Iterator[Event]:
    """Events of one MRT file read through pybgpstream's ``singlefile`` interface.

    Elems that do not convert are counted in ``stats.malformed`` and skipped.
    """
    pybgpstream = _import_pybgpstream()
    stream = pybgpstream.BGPStream(data_interface="singlefile")
    stream.set_data_interface_option("singlefile", "rib-file" if rib else "upd-file", os.fspath(path))
    stats = stats if stats is not None else MrtStats()
    yield from _convert(stream, collector, stats)


def _convert(elems: Iterable[BgpElem], collector: str, stats: MrtStats) -> Iterator[Event]:
    for elem in elems:
        stats.elements += 1
        try:
            events = elem_to_events(elem, str(getattr(elem, "collector", None) or collector))
        except (ValueError, KeyError, TypeError):
            stats.malformed += 1
            continue
        yield from events


_END = object()


class BgpStreamReader:
    """A live project (``ris-live``, ``routeviews-stream``) or historical window, as an async iterator.

    pybgpstream blocks, so it runs in a thread that hands events to a bounded
    asyncio queue; when the queue is full the thread waits (BGPStream is pulled,
    so waiting loses nothing). ``stream_factory`` replaces pybgpstream, e.g. in
    tests; by default ``pybgpstream.BGPStream(**options)`` is used.
    """

    def __init__(
        self,
        *,
        project: str | None = None,
        collectors: Sequence[str] = (),
        record_type: str = "updates",
        from_time: str | int | None = None,
        until_time: str | int | None = None,
        filter: str | None = None,  # noqa: A002 - pybgpstream's own name
        queue_size: int = 10_000,
        stream_factory: Callable[..., Iterable[BgpElem]] | None = None,
    ) -> None:
        options: dict[str, Any] = {"record_type": record_type}
        for key, value in (
            ("project", project),
            ("from_time", from_time),
            ("until_time", until_time),
            ("filter", filter),
        ):
            if value is not None:
                options[key] = value
        if collectors:
            options["collectors"] = list(collectors)
        self.options = options
        self.stats = MrtStats()
        self._collector = project or "bgpstream"
        self._factory = stream_factory or _import_pybgpstream().BGPStream
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def __aiter__(self) -> BgpStreamReader:
        return self

    async def __anext__(self) -> Event:
        if self._thread is None:
            loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._pump, args=(loop,), name="bgpstream", daemon=True)
            self._thread.start()
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Ask the reading thread to stop after its current elem."""
        self._stopping.set()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        def put(item: object) -> None:
            asyncio.run_coroutine_threadsafe(self._queue.put(item), loop).result()

        try:
            for event in _convert(self._factory(**self.options), self._collector, self.stats):
                if self._stopping.is_set():
                    break
                put(event)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which owns the error policy
            put(exc)
            return
        put(_END)


class BgpStreamFeed:
    """One configured ``bgpstream`` source: elems through the core as they come.

    The stream is filtered to the watched prefixes and their more-specifics,
    so the whole project's feed is not handed over element by element; with
    watched ASNs every prefix may matter, so there is no filter then. A live
    stream (no ``until_time``) is judged against the wall clock: an elem
    stamped beyond it plus ``clock_skew_tolerance`` is clock skew. Elems of collectors beyond
    ``limits.max_collectors`` are counted and ignored (:mod:`~routewatch.sources.collector_cap`). ``stream_factory``
    replaces pybgpstream's ``BGPStream``, as for :class:`BgpStreamReader`.
    """

    def __init__(self, settings: BgpStreamSource, context: SourceContext, *,
                 stream_factory: Callable[..., Iterable[BgpElem]] | None = None) -> None:
        self.settings = settings
        self._clock = context.clock
        self._factory = stream_factory
        self.counters = FeedCounters(settings.name)
        self.guard = ClockGuard(settings.clock_skew_tolerance)
        self.collector_cap = CollectorCap(context.config.limits.max_collectors, self.counters.ignored)

    def health(self) -> SourceHealth:
        return self.counters.snapshot(self._clock(), STALE_AFTER)

    async def run(self, sink: CoreSink, stop: asyncio.Event) -> None:
        settings, counters, clock = self.settings, self.counters, self._clock
        targets = sink.targets()
        wanted: list[Prefix] = []
        if not targets.asns:
            wanted = [*targets.prefixes, *(ipaddress.ip_network(a) for a in targets.addresses)]
        stream = BgpStreamReader(project=settings.project, collectors=settings.collectors,
                                 record_type=settings.record_type,
                                 from_time=int(settings.from_time) if settings.from_time is not None else None,
                                 until_time=int(settings.until_time) if settings.until_time is not None else None,
                                 filter=bgpstream_filter(wanted) if wanted else None,
                                 stream_factory=self._factory)
        guard, live, skewed, cap = self.guard, settings.follows_present, self.guard.skewed, self.collector_cap
        counters.up = True
        delivered = False
        try:
            async for event in stream:
                delivered = True
                collector = getattr(getattr(event, "peer", None), "collector", None)
                if collector is not None and not cap.admit(collector):
                    counters.messages += 1  # received, then ignored: counted as both, as RIS Live counts them
                    continue
                now = clock()
                if live:
                    guard.at_wall_clock(now)
                    (event,) = guard.events([event])
                counters.message(event.time, now, collector)
                sink.apply([event])
                sink.flush()
                if stop.is_set():
                    break
        except asyncio.CancelledError:
            counters.up = False
            raise
        except Exception:
            # Failing before the first elem (broker unreachable, stream refused) is an attempt that never
            # connected; failing later ends a stream that worked, which the supervisor then reconnects.
            counters.up = False
            if delivered:
                counters.reconnects += 1
            else:
                counters.connect_failures += 1
            raise
        finally:
            counters.malformed += stream.stats.malformed + guard.skewed - skewed  # a counter: kept across restarts
            stream.close()
