"""The bookkeeping shared by detectors that flag peers one at a time under a watched prefix.

Origin anomalies and unexpected more-specifics differ only in which of a
peer's paths are suspect; everything else is the same, and lives here once:
every announced prefix at or under a watched prefix is judged against the
most specific watched prefix covering it, peers are judged one at a time as
their routes change, and flagged peers are counted per watched prefix with
per-peer reference counts. An update then costs a few lookups however many
peers carry the prefix, and a hostile peer announcing 100,000 more-specifics
costs memory proportional to its routes but creates no new exported series
and no quadratic rescans.

A prefix offends once ``min_peers`` peers are flagged at it, and stops when
none is. Each watched prefix has at most one open detection per kind: the
first offending prefix under it opens it, further ones join it as offenders,
and it closes when the last stops offending. Its evidence counts the
offending prefixes and lists at most ``MAX_LISTED`` of them (those flagged by
the most peers), so 50,000 hijacked /32s are one detection, one log line and
one saved entry, not 50,000. Where more-specifics under the watched prefix were
refused beyond ``limits.max_more_specifics`` (``core/more_specifics.py``), the
evidence says how many announcements were (``refused``): there may be more
offenders than it counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar

from routewatch.core.detection import (
    ChangeKind,
    ClosedReason,
    Detection,
    DetectionChange,
    DetectionKind,
    closed_for,
    sample_paths,
)
from routewatch.core.detectors.view import CoreView, Scope
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix, origin_asns, parse_prefix

MAX_LISTED = 10
"""Offending prefixes (and origins) a detection's evidence lists at most; the count is kept in full."""


@dataclass(slots=True)
class _Flagged:
    """The flagged peers of one announced prefix, and whether it offends (is an offender of a detection)."""

    watched: Prefix
    peers: set[int] = field(default_factory=set)
    offending: bool = False


@dataclass(slots=True)
class _Story:
    """The one open detection of a watched prefix: as opened, and its offenders with what each looked like.

    ``current`` is the detection with its evidence as of now, rebuilt only
    when asked for after the offenders (or the refused count) changed;
    ``top_peers`` the peers of its top-ranked offender then.
    """

    opened: Detection
    offenders: dict[Prefix, dict[str, object]] = field(default_factory=dict)
    current: Detection | None = None
    refused: int = 0
    top_peers: int = 0


class FlaggingDetector:
    """Per-prefix flagged-peer sets and per-watched-prefix peer counts; subclasses say what is suspect."""

    scope: ClassVar[Scope] = Scope.ROUTES
    kind: ClassVar[DetectionKind]
    configured: bool = True
    """Has the configuration given it anything to look for? (A subclass that needs declared policies says so.)"""

    def __init__(self, settings: CoreSettings) -> None:
        self.min_peers = settings.anomaly_min_peers
        self._subs: dict[Prefix, _Flagged] = {}
        self._counts: dict[Prefix, Counter[int]] = {}
        self._stories: dict[Prefix, _Story] = {}

    # -- what a subclass says -------------------------------------------------------

    def applies(self, watched: WatchedPrefix, exact: bool) -> bool:
        """Can any peer be flagged at a prefix placed so? (False skips the path lookups.)"""
        return True

    def suspect(self, watched: WatchedPrefix, path: AsPath) -> bool:
        """Is this one path suspect? (Its evidence lists the suspect paths.)"""
        raise NotImplementedError

    def flagged(self, watched: WatchedPrefix, paths: list[AsPath]) -> bool:
        """Is a peer with these unicast paths flagged?"""
        raise NotImplementedError

    def evidence(self, watched: WatchedPrefix, suspect: list[AsPath]) -> dict[str, object]:
        """What an opened detection says, from the suspect paths of the flagged peers."""
        return {
            "origins": sorted({asn for path in suspect for asn in origin_asns(path)}),
            "expected_origins": sorted(watched.origins),
            "sample_paths": sample_paths(suspect),
        }

    def counted(self, flagged: set[int], prefix: Prefix, watched: WatchedPrefix, view: CoreView) -> set[int]:
        """The flagged peers that open and keep a detection (all of them unless a subclass narrows it: never more)."""
        return flagged

    def context(self, prefix: Prefix, suspect: list[AsPath], view: CoreView) -> dict[str, object]:
        """Evidence that needs the announced prefix or the engine (none unless a subclass adds some)."""
        return {}

    # -- the detector ---------------------------------------------------------------

    @property
    def kinds(self) -> frozenset[DetectionKind]:
        return frozenset({self.kind})

    def engaged(self, view: CoreView) -> bool:
        """Configured, or holding a flagged peer or an open (or restored) detection that judging may close."""
        return self.configured or bool(self._subs) or bool(self._stories)

    def peers(self, watched: Prefix) -> int:
        """Peers flagged anywhere at or under ``watched``."""
        return len(self._counts.get(watched, ()))

    def open_detections(self, view: CoreView) -> Iterable[Detection]:
        return [self._current(watched, story, view) for watched, story in self._stories.items()]

    def restore(self, detections: Iterable[Detection]) -> None:
        """Put back open detections from saved state; routes are judged again afterwards.

        State saved when each offending prefix had a detection of its own
        gives several per watched prefix: they are merged into one.
        """
        for d in detections:
            if d.kind is not self.kind:
                continue
            story = self._stories.get(d.watched)
            if story is None:
                story = self._stories[d.watched] = _Story(d)
            listed = d.evidence.get("offenders")
            entries = listed if isinstance(listed, list) and listed else [{**d.evidence, "prefix": str(d.prefix)}]
            for entry in entries:
                try:
                    prefix = parse_prefix(str(entry["prefix"]))
                except (KeyError, TypeError, ValueError):
                    continue
                story.offenders[prefix] = dict(entry)
                story.current = None
                self._subs.setdefault(prefix, _Flagged(d.watched)).offending = True

    def abandon(self, reason: ClosedReason, view: CoreView) -> list[DetectionChange]:
        """Close every open detection, as it reads now, for ``reason``, and forget every flagged peer.

        For when nothing can judge them any more (a restored RPKI detection
        with RPKI no longer configured): what was seen is kept in the
        evidence rather than reported as ended.
        """
        changes = [closed_for(self._current(watched, story, view), reason, view.now)
                   for watched, story in self._stories.items()]
        self._subs.clear()
        self._counts.clear()
        self._stories.clear()
        return changes

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[DetectionChange]:
        """Judge ``peers`` (None: every peer) at ``prefix`` again after their routes changed."""
        sub = self._subs.get(prefix)
        applies = self.applies(watched, exact)
        if sub is None and not applies:
            return []
        changes: list[DetectionChange] = []
        if sub is not None and sub.watched != watched.prefix:
            changes = self._move(sub, prefix, watched.prefix, view)
            peers = None  # a different watched prefix judges differently: everyone again
        stale, flagged = view.stale, self.flagged
        if peers is None:
            everyone = view.table.unicast_paths_by_peer(prefix)
            judged = set(everyone) | (sub.peers if sub else set())
            verdicts = [(peer, applies and not stale(peer, watched) and flagged(watched, everyone.get(peer, [])))
                        for peer in judged]
        else:
            paths_of = view.table.peer_unicast_paths
            verdicts = [(peer, applies and not stale(peer, watched) and flagged(watched, paths_of(prefix, peer)))
                        for peer in peers]
        if sub is None:
            if not any(flag for _, flag in verdicts):
                return changes  # the common case: nothing unusual here, nothing to keep
            sub = self._subs[prefix] = _Flagged(watched.prefix)
        counter = self._counter(watched.prefix)
        for peer, flag in verdicts:
            _mark(sub.peers, counter, peer, flag)
        changes.extend(self._transition(sub, prefix, watched, view))
        if not sub.peers and not sub.offending:
            del self._subs[prefix]
        return changes

    def _counter(self, watched: Prefix) -> Counter[int]:
        counter = self._counts.get(watched)
        if counter is None:
            counter = self._counts[watched] = Counter()
        return counter

    def _move(self, sub: _Flagged, prefix: Prefix, new_watched: Prefix, view: CoreView) -> list[DetectionChange]:
        """A more specific watch appeared above this prefix: its counts and offence move there."""
        counter = self._counter(sub.watched)
        for peer in list(sub.peers):
            _mark(sub.peers, counter, peer, False)
        changes = self._clear(sub, prefix, view) if sub.offending else []
        sub.watched = new_watched
        return changes

    def _transition(self, sub: _Flagged, prefix: Prefix, watched: WatchedPrefix,
                    view: CoreView) -> list[DetectionChange]:
        # The counted peers are a subset of the flagged ones: where the flagged ones decide, they are not asked for.
        if not sub.offending:
            if len(sub.peers) < self.min_peers:
                return []
            counted = self.counted(sub.peers, prefix, watched, view)
            if len(counted) < self.min_peers:
                return []
            sub.offending = True
            return self._offend(prefix, self._offence(counted, prefix, watched, view), watched, view)
        counted = self.counted(sub.peers, prefix, watched, view) if sub.peers else set()
        if not counted:
            return self._clear(sub, prefix, view)
        self._spread(sub.watched, prefix, len(counted))
        return []

    def _spread(self, watched: Prefix, prefix: Prefix, peers: int) -> None:
        """An offender's peers as of now (a hijack spreads): it ranks, and its detection reads, by them."""
        story = self._stories.get(watched)
        offence = story.offenders.get(prefix) if story is not None else None
        if story is not None and offence is not None and offence.get("peers") != peers:
            offence["peers"] = peers
            story.current = None

    def _offence(self, counted: set[int], prefix: Prefix, watched: WatchedPrefix,
                 view: CoreView) -> dict[str, object]:
        """What one offending prefix looks like as it starts to offend (``counted``: its flagged peers that count)."""
        everyone = view.table.unicast_paths_by_peer(prefix)
        paths = [path for peer in counted for path in everyone.get(peer, []) if self.suspect(watched, path)]
        return {"prefix": str(prefix), "peers": len(counted), **self.evidence(watched, paths),
                **self.context(prefix, paths, view)}

    def _offend(self, prefix: Prefix, offence: dict[str, object], watched: WatchedPrefix,
                view: CoreView) -> list[DetectionChange]:
        """``prefix`` offends: it opens its watched prefix's detection, or joins the open one."""
        story = self._stories.get(watched.prefix)
        if story is not None:
            story.offenders[prefix] = offence
            story.current = None
            return []
        now, refused = view.now, view.more_specifics.refused[watched.prefix]
        evidence = {**offence, "prefixes": 1, **_refused(refused), "offenders": [_listed(offence)]}
        del evidence["prefix"]
        opened = Detection(self.kind, prefix, watched.prefix, start=now, description=watched.description,
                           evidence=evidence)
        self._stories[watched.prefix] = _Story(opened, {prefix: offence}, refused=refused)
        return [DetectionChange(ChangeKind.OPENED, opened, now)]

    def _clear(self, sub: _Flagged, prefix: Prefix, view: CoreView) -> list[DetectionChange]:
        """``prefix`` stops offending; the last offender to stop closes its watched prefix's detection."""
        sub.offending = False
        story = self._stories.get(sub.watched)
        if story is None or story.offenders.pop(prefix, None) is None:
            return []
        story.current = None
        if story.offenders:
            return []
        del self._stories[sub.watched]
        closing = {**self._current(sub.watched, story, view).evidence, "peers": 0, "prefixes": 0}
        return [DetectionChange(ChangeKind.CLOSED, story.opened.closed(view.now, closing), view.now)]

    def _current(self, watched: Prefix, story: _Story, view: CoreView) -> Detection:
        """The story's detection with its evidence as of now: every offender counted, the top ones listed.

        The evidence is rebuilt when the offenders change; what an offender
        looked like (its sample paths, its context) comes from the top-ranked
        one still offending, not from the first, which may have stopped. The
        peers flagged under the watched prefix change without any offender
        changing, so they are read at every call, never kept.
        """
        refused = view.more_specifics.refused[watched]
        if story.current is None or story.refused != refused:
            story.refused = refused
            ranked = sorted(story.offenders.values(), key=lambda o: (-_int(o.get("peers")), str(o.get("prefix"))))
            top = {k: v for k, v in ranked[0].items() if k not in ("prefix", "peers")} if ranked else {}
            origins = sorted({asn for o in story.offenders.values() for asn in _ints(o.get("origins"))})
            story.top_peers = _int(ranked[0].get("peers")) if ranked else 0
            evidence = {**story.opened.evidence, **top, "origins": origins[:MAX_LISTED],
                        "prefixes": len(story.offenders), **_refused(refused),
                        "offenders": [_listed(o) for o in ranked[:MAX_LISTED]]}
            story.current = replace(story.opened, evidence=evidence)
        current = story.current
        peers = max(self.peers(watched), story.top_peers)
        if current.evidence.get("peers") != peers:
            current = story.current = replace(current, evidence={**current.evidence, "peers": peers})
        return current


def _listed(offence: dict[str, object]) -> dict[str, object]:
    """An offender as a detection lists it."""
    return {key: offence[key] for key in ("prefix", "peers", "origins") if key in offence}


def _refused(refused: int) -> dict[str, object]:
    """Evidence that more-specifics were refused beyond the cap: the offenders may be more than counted."""
    return {"refused": refused} if refused else {}


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _ints(value: object) -> list[int]:
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


def _mark(members: set[int], counter: Counter[int], peer: int, flagged: bool) -> None:
    """Keep ``peer``'s membership of one prefix's set and its watched prefix's count in step."""
    if flagged and peer not in members:
        members.add(peer)
        counter[peer] += 1
    elif not flagged and peer in members:
        members.discard(peer)
        counter[peer] -= 1
        if counter[peer] <= 0:
            del counter[peer]
