"""What a prefix is to the core, looked up once per prefix instead of once per update.

Every route update asks which watched prefix covers its prefix, whether that
is the prefix itself and whether it covers a nameserver address. The answers
only change when the watch set does, so they are kept per relevant prefix
until then, in a bounded cache (a hostile feed cannot grow it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routewatch.core.visibility import VisibilityTracker
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import Prefix

#: Most prefixes kept; past it the cache starts again.
_PLACES_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class Place:
    """``watched`` is the most specific watched prefix covering it, ``exact`` whether that is the
    prefix itself, ``tracker`` its visibility tracker then, and ``covers_address`` whether it covers
    a nameserver address."""

    watched: WatchedPrefix | None
    exact: bool
    tracker: VisibilityTracker | None
    covers_address: bool


class PlaceCache:
    """Places of relevant prefixes, valid while the watch set keeps its version."""

    def __init__(self, watch: WatchSet, visibility: Mapping[Prefix, VisibilityTracker]) -> None:
        self._watch = watch
        self._visibility = visibility
        self._places: dict[Prefix, Place] = {}
        self._version = -1

    def of(self, prefix: Prefix) -> Place:
        if self._version != self._watch.version:
            self._places.clear()
            self._version = self._watch.version
        return self._places.get(prefix) or self.fresh(prefix)

    def forget(self, prefix: Prefix) -> None:
        """Keep nothing for ``prefix`` (its routes were refused)."""
        self._places.pop(prefix, None)

    def fresh(self, prefix: Prefix) -> Place:
        """Look ``prefix`` up again (its place just changed); kept when it is relevant."""
        watched = self._watch.covering_prefix(prefix)
        exact = watched is not None and watched.prefix == prefix
        tracker = self._visibility.get(prefix) if exact else None
        place = Place(watched, exact, tracker, self._watch.covers_address(prefix))
        if place.covers_address or (watched is not None and (tracker is not None or not exact)):
            if len(self._places) >= _PLACES_LIMIT:
                self._places.clear()
            self._places[prefix] = place
        return place
