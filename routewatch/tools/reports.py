"""One-off answers to "is this prefix (or this AS's prefixes) visible, and from where?".

The answer is read from the same pure core the daemon runs: events (an MRT
replay, a RIPEstat looking glass, BGPStream) go into a :class:`Engine`, and the
report reads its snapshot and route table. So ``check prefix`` on an archive
and the metrics of a replay of the same archive cannot disagree.

Visible peers are the core's: peers whose current unicast route for the exact
prefix has an expected origin (with no expected origin: any route). The
degradation ratio divides them by the peers that carried the prefix at some
point in the data and whose session did not go down afterwards (a session reset
is not a withdrawal); from RIPEstat (``ripestat_reports``) it is RIPEstat's own visibility.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from routewatch.core.engine import Engine
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import CoreSnapshot
from routewatch.core.table import RouteTable
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import (
    AsPath,
    Event,
    Peer,
    PeerStateChange,
    Prefix,
    RouteAnnouncement,
    Safi,
    format_as_path,
    origin_asns,
)
from routewatch.rpki.route_state import RouteRpkiState
from routewatch.sources.mrt.deferred import DeferredRoute

#: Exit code of a check that could not be run (no data, RIPEstat unreachable, ...).
EXIT_UNCHECKED = 3
SAMPLE_PATHS = 3
#: The withdrawn ratio when neither the config nor the caller gives one.
DEFAULT_WITHDRAWN_RATIO = WithdrawalThresholds().withdrawn_ratio


class VisibilityVerdict(StrEnum):
    """How a check judges a prefix's visibility, best first: an AS's report takes its prefixes' worst."""

    VISIBLE = "visible"
    DEGRADED = "degraded"  # below --min-visibility: fewer peers than usual, a partial loss
    WITHDRAWN = "withdrawn"  # below the withdrawn ratio (a one-off answer has no hold-down)
    NOT_VISIBLE = "not-visible"
    UNEXPECTED_ORIGIN = "unexpected-origin"
    NOT_SEEN = "not-seen"  # update files that never mention it, and no RIB: a stable prefix looks like this too

    @property
    def exit_code(self) -> int:
        if self is VisibilityVerdict.NOT_SEEN:
            return EXIT_UNCHECKED
        return {"visible": 0, "degraded": 1}.get(self.value, 2)


@dataclass(frozen=True, slots=True)
class OriginView:
    """The peers that see one origin (an AS, or an AS_SET's members) for a prefix."""

    origins: tuple[int, ...]
    as_set: bool
    expected: bool | None  # None: no origin is expected, so none is judged
    peers: int | None  # None: the source names the origin but not who sees it
    peer_asns: int | None
    sample_paths: tuple[str, ...] = ()
    rpki: RouteRpkiState = RouteRpkiState.UNKNOWN  # the route's RPKI state; unknown without VRPs


@dataclass(frozen=True, slots=True)
class PrefixView:
    """Who sees a prefix, in total, per collector and per origin."""

    prefix: Prefix
    peers: int | None
    peer_asns: int | None
    by_collector: tuple[tuple[str, int], ...]
    origins: tuple[OriginView, ...]


@dataclass(frozen=True, slots=True)
class PrefixReport:
    prefix: Prefix
    source: str
    time: float | None
    expected_origins: tuple[int, ...]
    visible_peers: int
    visible_peer_asns: int | None  # None: the source does not say
    ratio: float | None
    ratio_basis: str
    min_visibility: float
    verdict: VisibilityVerdict
    exact: PrefixView | None
    more_specifics: tuple[PrefixView, ...] = ()
    unexpected: tuple[str, ...] = ()
    withdrawn_ratio: float = DEFAULT_WITHDRAWN_RATIO
    rpki_basis: str = "no VRP set"  # where the routes' RPKI states come from

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


@dataclass(frozen=True, slots=True)
class AsnReport:
    asn: int
    source: str
    time: float | None
    min_visibility: float
    prefixes: tuple[PrefixReport, ...]
    over_cap: int = 0

    @property
    def verdict(self) -> VisibilityVerdict:
        """The worst of the prefixes; an AS seen originating nothing is not visible."""
        if not self.prefixes:
            return VisibilityVerdict.NOT_VISIBLE
        order = list(VisibilityVerdict)  # definition order: best to worst
        return max((p.verdict for p in self.prefixes), key=order.index)

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


@dataclass
class VisibilityObservation:
    """A core fed with events, plus the peers that carried each relevant prefix in the data."""

    monitor: Engine
    carried: dict[Prefix, set[Peer]] = field(default_factory=dict)
    originated: dict[Prefix, set[int]] = field(default_factory=dict)
    time: float | None = None
    has_snapshot: bool = True
    """Did the data include a full table (a RIB dump, a looking glass)? Without one, a prefix the
    updates never mention may well be stable and visible, so its absence cannot be judged."""

    @classmethod
    def of_prefix(cls, prefix: Prefix, expected: Iterable[int]) -> VisibilityObservation:
        return cls(Engine(WatchSet([WatchedPrefix(prefix, frozenset(expected), WithdrawalThresholds())])))

    @classmethod
    def of_asns(cls, asns: Iterable[int], max_prefixes: int) -> VisibilityObservation:
        """Watch every prefix the ASes are seen originating, up to ``max_prefixes`` each."""
        return cls(Engine(WatchSet(asns={asn: max_prefixes for asn in asns})))

    @property
    def watch(self) -> WatchSet:
        return self.monitor.watch

    def apply(self, event: Event, *, established: bool = False) -> None:
        self.monitor.apply(event, established=established)
        self.time = event.time if self.time is None else max(self.time, event.time)
        if isinstance(event, RouteAnnouncement):
            if event.safi == Safi.UNICAST and self.watch.covering_prefix(event.prefix) is not None:
                self.carried.setdefault(event.prefix, set()).add(event.peer)
                self.originated.setdefault(event.prefix, set()).update(event.origin_asns)
        elif isinstance(event, PeerStateChange) and not event.established:
            for peers in self.carried.values():
                peers.discard(event.peer)

    def apply_deferred(self, route: DeferredRoute, *, established: bool = False) -> None:
        """A route the reader deferred: applied if its prefix is relevant once the core is at its time, as
        :func:`~routewatch.tools.replay.replay_events` judges it; otherwise only its time passes."""
        if route.time > self.monitor.now:
            self.monitor.advance(route.time)
        event = route.resolve(self.watch)
        if event is not None:
            self.apply(event, established=established)
        else:
            self.time = route.time if self.time is None else max(self.time, route.time)

    def apply_all(self, events: Iterable[Event], *, established: bool = False) -> None:
        for event in events:
            self.apply(event, established=established)
        self.monitor.flush()


def prefix_view(table: RouteTable, prefix: Prefix, expected: frozenset[int]) -> PrefixView:
    """Who sees ``prefix`` in the table (unicast routes only)."""
    paths_by_peer = table.unicast_paths_by_peer(prefix)
    peers = {index: table.peers[index] for index in paths_by_peer}
    by_collector = Counter(peer.collector for peer in peers.values())
    per_origin: dict[frozenset[int], set[int]] = {}
    paths: dict[frozenset[int], Counter[AsPath]] = {}
    for index, peer_paths in paths_by_peer.items():
        for path in peer_paths:
            origin = origin_asns(path)
            per_origin.setdefault(origin, set()).add(index)
            paths.setdefault(origin, Counter())[path] += 1
    origins = []
    for origin, holders in sorted(per_origin.items(), key=lambda item: (-len(item[1]), sorted(item[0]))):
        origins.append(OriginView(
            origins=tuple(sorted(origin)),
            as_set=_is_set(paths[origin]),
            expected=(bool(origin) and origin <= expected) if expected else None,
            peers=len(holders),
            peer_asns=len({peers[i].asn for i in holders}),
            sample_paths=tuple(format_as_path(p) for p, _ in paths[origin].most_common(SAMPLE_PATHS)),
        ))
    return PrefixView(
        prefix=prefix,
        peers=len(peers),
        peer_asns=len({peer.asn for peer in peers.values()}),
        by_collector=tuple(sorted(by_collector.items())),
        origins=tuple(origins),
    )


def _holders(table: RouteTable, prefix: Prefix, expected: frozenset[int]) -> set[Peer]:
    """Peers with a unicast route for ``prefix`` whose origin is expected (any origin when none is)."""
    return {
        table.peers[index] for index, paths in table.unicast_paths_by_peer(prefix).items()
        if any(not expected or (origin_asns(p) and origin_asns(p) <= expected) for p in paths)
    }


def _is_set(paths: Counter[AsPath]) -> bool:
    return any(path and isinstance(path[-1], frozenset) for path in paths)


def unexpected_origins(views: Iterable[PrefixView]) -> tuple[str, ...]:
    """One line per (prefix, origin) seen with an origin outside the expected set."""
    lines = []
    for view in views:
        for origin in view.origins:
            if origin.expected is False:
                shown = "{" + ",".join(map(str, origin.origins)) + "}" if origin.as_set else \
                    ",".join(f"AS{asn}" for asn in origin.origins) or "(empty path)"
                seen = f" ({origin.peers} peers)" if origin.peers is not None else ""
                lines.append(f"{view.prefix} originated by {shown}{seen}")
    return tuple(lines)


def judge(visible: int, ratio: float | None, min_visibility: float, unexpected: tuple[str, ...],
          withdrawn_ratio: float = DEFAULT_WITHDRAWN_RATIO) -> VisibilityVerdict:
    """Unexpected origin, not visible, withdrawn (below the withdrawn ratio), degraded, or visible."""
    if unexpected:
        return VisibilityVerdict.UNEXPECTED_ORIGIN
    if visible == 0:
        return VisibilityVerdict.NOT_VISIBLE
    if ratio is not None and ratio < withdrawn_ratio:
        return VisibilityVerdict.WITHDRAWN
    if ratio is not None and ratio < min_visibility:
        return VisibilityVerdict.DEGRADED
    return VisibilityVerdict.VISIBLE


def prefix_report(
    observation: VisibilityObservation, prefix: Prefix, expected: Iterable[int], min_visibility: float, *, source: str,
    snapshot: CoreSnapshot | None = None, withdrawn_ratio: float = DEFAULT_WITHDRAWN_RATIO,
) -> PrefixReport:
    """The report of ``prefix`` and its more-specifics from what ``observation`` was fed.

    Pass ``snapshot`` when reporting many prefixes of one observation: taking it is O(watched prefixes).
    """
    expected_set = frozenset(expected)
    table = observation.monitor.table
    views = [prefix_view(table, p, expected_set) for p in sorted(table.prefixes_within(prefix))]  # type: ignore[type-var]
    exact = next((v for v in views if v.prefix == prefix), None)
    status = (snapshot or observation.monitor.snapshot()).status(prefix)
    if status is not None and expected_set:
        visible, visible_asns = status.visible_peers, status.visible_peer_asns
    else:  # with nothing expected, or a more-specific the core does not track: the same rule, on the table
        holders = _holders(table, prefix, expected_set)
        visible, visible_asns = len(holders), len({peer.asn for peer in holders})
    carried = len(observation.carried.get(prefix, ()))
    ratio = visible / carried if carried else None
    unexpected = unexpected_origins(views)
    verdict = judge(visible, ratio, min_visibility, unexpected, withdrawn_ratio)
    unseen = not observation.has_snapshot and prefix not in observation.originated
    if verdict is VisibilityVerdict.NOT_VISIBLE and unseen:
        verdict = VisibilityVerdict.NOT_SEEN
    return PrefixReport(
        prefix=prefix,
        source=source,
        time=observation.time,
        expected_origins=tuple(sorted(expected_set)),
        visible_peers=visible,
        visible_peer_asns=visible_asns,
        ratio=ratio,
        ratio_basis=f"{visible} of the {carried} peers that carried it in the data",
        min_visibility=min_visibility,
        verdict=verdict,
        exact=exact,
        more_specifics=tuple(v for v in views if v.prefix != prefix),
        unexpected=unexpected,
        withdrawn_ratio=withdrawn_ratio,
    )


def asn_report(observation: VisibilityObservation, asn: int, min_visibility: float, *, source: str) -> AsnReport:
    """Every prefix the data showed ``asn`` originating, each judged as ``check prefix`` would.

    That is the prefixes the core discovered for the AS and the more-specifics
    of those the AS announced too (the core follows them under their aggregate).
    """
    found = sorted(seen_originating(observation, (asn,)), key=lambda p: (p.version, p))
    snapshot = observation.monitor.snapshot()
    return AsnReport(
        asn=asn,
        source=source,
        time=observation.time,
        min_visibility=min_visibility,
        prefixes=tuple(prefix_report(observation, p, (asn,), min_visibility, source=source, snapshot=snapshot)
                       for p in found),
        over_cap=observation.watch.asn_over_cap.get(asn, 0),
    )


def seen_originating(observation: VisibilityObservation, asns: Iterable[int]) -> dict[Prefix, frozenset[int]]:
    """Every prefix the data showed one of ``asns`` originating at some point, with those ASes.

    ``check asn`` lists these and ``generate --mrt`` starts from them, so the
    two agree; what a peer still routes at the end is :func:`originated_prefixes`.
    """
    wanted = frozenset(asns)
    found: dict[Prefix, set[int]] = {}
    for watched in observation.watch:
        for asn in wanted:
            if watched.source == f"asn:{asn}":
                found.setdefault(watched.prefix, set()).add(asn)
    for prefix, origins in observation.originated.items():
        if origins & wanted:
            found.setdefault(prefix, set()).update(origins & wanted)
    return {p: frozenset(a) for p, a in found.items()}


def originated_prefixes(table: RouteTable, asns: frozenset[int]) -> dict[Prefix, frozenset[int]]:
    """Prefixes some peer currently routes to one of ``asns``, with the ones of ``asns`` seen originating each."""
    found: dict[Prefix, frozenset[int]] = {}
    for prefix in table.prefixes():
        origins: set[int] = set()
        for peer_paths in table.unicast_paths_by_peer(prefix).values():
            for path in peer_paths:
                origin = origin_asns(path)
                if len(origin) == 1:
                    origins |= origin & asns
        if origins:
            found[prefix] = frozenset(origins)
    return dict(sorted(found.items(), key=lambda item: (item[0].version, item[0])))
