"""ROA changes and expiry at watched prefixes: the warning before an RPKI outage, not after it.

- ``rpki-roa-change``: a new VRP set added or removed (by identity: prefix,
  max length, AS) a VRP at, above or under a watched prefix; the evidence has
  the covering VRPs before and after. A change is an instant: it opens and
  closes at once, for the log and ``replay --json``.
- ``rpki-roa-would-invalidate``: the same change makes routes seen now at or
  under the prefix invalid that were not (a ROA edit is the commonest way to
  cause an RPKI outage; networks that drop invalids will act on it next). It
  is an instant too, so it is never an open detection: each one is counted
  per watched prefix (``routewatch_bgp_prefix_rpki_roa_invalidations_total``),
  and the alert rule fires on the counter's increase, for a bounded time
  after the change whatever the routes do next (the routes' own invalid state
  is ``routewatch_bgp_prefix_rpki_invalid_peers`` and its alert).
- ``rpki-roa-expiring``: the earliest ``expires`` of the VRPs keeping the
  prefix valid for an expected origin is within the warning window; it closes
  when the ROA is renewed. The timestamp itself is exported
  (``routewatch_bgp_prefix_rpki_expires_timestamp_seconds``).

The first VRP set changes nothing (there is nothing to compare it with).
An expiring ROA restored after a restart or a reload stays open until the
first set judges it; where no VRP source is configured any more, it closes,
saying so.

The expiry warning is put on the engine's timer only when its time moves,
under one key per prefix (the timer it replaces is dropped): an RTR cache or
JSON export refreshed every few minutes for months keeps one timer per
prefix, not one per refresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

import pytricia

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
from routewatch.core.rpki import VrpDelta, VrpTracker
from routewatch.core.settings import CoreSettings
from routewatch.core.watch import WatchedPrefix
from routewatch.model import AsPath, Prefix, origin_asns
from routewatch.rpki.validation import RpkiState, VrpIndex


class RpkiRoaChangeDetector:
    """Reports VRP changes at watched prefixes, the routes they would invalidate, and ROAs about to expire."""

    scope: ClassVar[Scope] = Scope.VISIBILITY
    kinds: ClassVar[frozenset[DetectionKind]] = frozenset({
        DetectionKind.RPKI_ROA_CHANGE, DetectionKind.RPKI_ROA_WOULD_INVALIDATE, DetectionKind.RPKI_ROA_EXPIRING})

    def __init__(self, settings: CoreSettings) -> None:
        self.enabled = settings.rpki
        self.warning = settings.rpki_expiry_warning
        self._judged: dict[Prefix, int] = {}  # watched prefix -> VRP generation it was last judged with
        self._expires: dict[Prefix, float] = {}
        self._due: dict[Prefix, float] = {}  # when the expiry warning starts (as scheduled), inf while it is open
        self._expiring: dict[Prefix, Detection] = {}
        self._under: tuple[int, dict[Prefix, list[Prefix]]] = (-1, {})  # announced prefixes under touched ones
        # would-invalidate changes per watched prefix since this core was built: a reload builds a new one,
        # so every count (a dropped prefix's too) starts again at 0 there, which increase() reads as a reset
        self._invalidations: Counter[Prefix] = Counter()

    def engaged(self, view: CoreView) -> bool:
        """Once a VRP set is loaded, or while a restored expiry warning waits for one (or to close without)."""
        return view.rpki.index is not None or bool(self._expiring)

    def judge(self, prefix: Prefix, watched: WatchedPrefix, exact: bool, peers: set[int] | None,
              view: CoreView) -> list[DetectionChange]:
        rpki = view.rpki
        if rpki.index is None:  # only a restored detection can be open: it waits for the first set, if one will come
            restored = None if self.enabled else self._expiring.pop(prefix, None)
            return [] if restored is None else [closed_for(restored, ClosedReason.RPKI_NOT_CONFIGURED, view.now)]
        last = self._judged.get(prefix)
        changes: list[DetectionChange] = []
        if last != rpki.generation:
            self._judged[prefix] = rpki.generation
            delta = rpki.touched.get(prefix)
            if last is not None and delta is not None:
                changes.extend(self._changed(watched, delta, view))
        elif view.now < self._due.get(prefix, float("inf")):
            return []  # the common case: same set, no warning due yet
        changes.extend(self._expiry(watched, view))
        return changes

    # -- changes --------------------------------------------------------------------

    def _changed(self, watched: WatchedPrefix, delta: VrpDelta, view: CoreView) -> list[DetectionChange]:
        rpki, now, prefix = view.rpki, view.now, watched.prefix
        assert rpki.index is not None and rpki.previous is not None
        evidence = {
            "added": [str(v) for v in delta.added], "removed": [str(v) for v in delta.removed],
            "before": [str(v) for v in rpki.previous.covering(prefix)],
            "after": [str(v) for v in rpki.index.covering(prefix)],
            "expected_origins": sorted(watched.origins),
        }
        changes = _instant(DetectionKind.RPKI_ROA_CHANGE, watched, now, evidence)
        broken = self._newly_invalid(watched, rpki.previous, rpki.index, view)
        if broken:
            self._invalidations[prefix] += 1
            paths = [path for routes in broken.values() for path in routes]
            changes.extend(_instant(DetectionKind.RPKI_ROA_WOULD_INVALIDATE, watched, now, {
                "prefixes": sorted(str(p) for p in broken)[:10],
                "routes": len(paths),
                "origins": sorted({asn for path in paths for asn in origin_asns(path)}),
                "sample_paths": sample_paths(paths),
                **evidence,
            }))
        return changes

    def _newly_invalid(self, watched: WatchedPrefix, before: VrpIndex, after: VrpIndex,
                       view: CoreView) -> dict[Prefix, list[AsPath]]:
        """Routes at or under ``watched`` invalid with the new set and not with the old one."""
        broken: dict[Prefix, list[AsPath]] = {}
        for announced in self._announced_under(watched.prefix, view):
            for peer, paths in view.table.unicast_paths_by_peer(announced).items():
                if view.stale(peer, watched):
                    continue
                for path in paths:
                    if (after.validate_path(announced, path).state is RpkiState.INVALID
                            and before.validate_path(announced, path).state is not RpkiState.INVALID):
                        broken.setdefault(announced, []).append(path)
        return broken

    def _announced_under(self, watched: Prefix, view: CoreView) -> list[Prefix]:
        """Announced prefixes at or under ``watched``: one scan of the table per VRP change, for every touched one."""
        rpki = view.rpki
        generation, grouped = self._under
        if generation != rpki.generation:
            grouped = _group_under(rpki, view)
            self._under = (rpki.generation, grouped)
        return grouped.get(watched, [])

    # -- expiry ---------------------------------------------------------------------

    def _expiry(self, watched: WatchedPrefix, view: CoreView) -> list[DetectionChange]:
        prefix, now = watched.prefix, view.now
        earliest, keeping = view.rpki.expires(prefix, watched.origins)
        if earliest is None:
            self._expires.pop(prefix, None)
            self._due.pop(prefix, None)  # a timer still pending finds nothing due
        else:
            self._expires[prefix] = earliest
        current = self._expiring.get(prefix)
        if earliest is not None and now >= earliest - self.warning:
            self._due[prefix] = float("inf")  # open: judged again on the next VRP set only
            if current is not None and current.evidence.get("expires") == earliest:
                return []
            evidence = {"expires": earliest, "seconds_left": earliest - now,
                        "vrps": [str(v) for v in keeping if v.expires == earliest]}
            opened = self._expiring[prefix] = Detection(DetectionKind.RPKI_ROA_EXPIRING, prefix, prefix, start=now,
                                                        description=watched.description, evidence=evidence)
            changes = [DetectionChange(ChangeKind.OPENED, opened, now)]
            if current is not None:  # a different ROA now expires first: the story restarts
                changes.insert(0, DetectionChange(ChangeKind.CLOSED, current.closed(now, current.evidence), now))
            return changes
        if earliest is not None and self._due.get(prefix) != earliest - self.warning:
            self._due[prefix] = earliest - self.warning
            view.schedule(earliest - self.warning, prefix, key=(DetectionKind.RPKI_ROA_EXPIRING, prefix))
        if current is None:
            return []
        del self._expiring[prefix]
        return [DetectionChange(ChangeKind.CLOSED, current.closed(now, {**current.evidence, "renewed": earliest}), now)]

    # -- the detector ---------------------------------------------------------------

    def status(self, watched: Prefix, view: CoreView) -> dict[str, Any]:
        return {"rpki_expires": self._expires.get(watched), "rpki_roa_invalidations": self._invalidations[watched]}

    def open_detections(self, view: CoreView) -> Iterable[Detection]:
        return list(self._expiring.values())

    def restore(self, detections: Iterable[Detection]) -> None:
        """An expiring ROA stays open across a restart (changes are instants: nothing to restore)."""
        for d in detections:
            if d.kind is DetectionKind.RPKI_ROA_EXPIRING:
                self._expiring[d.prefix] = d


def _instant(kind: DetectionKind, watched: WatchedPrefix, now: float,
             evidence: dict[str, Any]) -> list[DetectionChange]:
    detection = Detection(kind, watched.prefix, watched.prefix, start=now, description=watched.description,
                          evidence=evidence)
    return [DetectionChange(ChangeKind.OPENED, detection, now),
            DetectionChange(ChangeKind.CLOSED, detection.closed(now, evidence), now)]


def _group_under(rpki: VrpTracker, view: CoreView) -> dict[Prefix, list[Prefix]]:
    """Every announced prefix at or under a watched prefix the last VRP change touched, by that prefix."""
    if not rpki.touched:
        return {}
    tries = {4: pytricia.PyTricia(32), 6: pytricia.PyTricia(128)}
    for touched in rpki.touched:
        tries[touched.version][touched] = touched
    grouped: dict[Prefix, list[Prefix]] = {}
    for announced in view.table.prefixes():
        trie = tries[announced.version]
        key = trie.get_key(announced)
        while key is not None:
            grouped.setdefault(trie[key], []).append(announced)
            key = trie.parent(key)
    return grouped
