"""At most ``limits.max_collectors`` collectors per source: those beyond are counted and their messages ignored.

Collector names come from the input (a RIS Live ``host``, a BGPStream elem's
collector, an MRT file's name, a BMP router's address). Each admitted one is
tracked for liveness, exported, and its going stale or fresh is work for the
core, so a feed inventing names must not make any of that unbounded. The
first ``limit`` distinct names a source sees are admitted for the life of the
source; a message naming another is ignored and counted under
``ignored["collector_over_cap"]`` (``routewatch_source_messages_ignored_total``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from routewatch.model import Event

MAX_COLLECTORS = 64
"""Default ``limits.max_collectors``."""
OVER_CAP = "collector_over_cap"
"""The ignored-message counter key for messages from collectors beyond the cap."""


class CollectorCap:
    """Admits the first ``limit`` distinct collectors; counts messages naming others in ``ignored``."""

    def __init__(self, limit: int = MAX_COLLECTORS, ignored: Counter[str] | None = None) -> None:
        self.limit = limit
        self.ignored: Counter[str] = ignored if ignored is not None else Counter()
        self.admitted: set[str] = set()

    def admit(self, collector: str, messages: int = 1) -> bool:
        """May messages of ``collector`` be used? If not, ``messages`` of them are counted as ignored."""
        if collector in self.admitted:
            return True
        if len(self.admitted) < self.limit:
            self.admitted.add(collector)
            return True
        self.ignored[OVER_CAP] += messages
        return False

    def events(self, events: Iterable[Event]) -> list[Event]:
        """The events of admitted collectors (each dropped one counted); events naming no collector are kept."""
        kept: list[Event] = []
        for event in events:
            peer = getattr(event, "peer", None)
            collector = peer.collector if peer is not None else getattr(event, "collector", None)
            if collector is None or self.admit(collector):
                kept.append(event)
        return kept
