"""Several VRP sources merged into one set, with each source's health.

The merged set is the union of every source that ever loaded: a source that
fails keeps contributing its last good set (and is exported as stale), so a
cache restart does not make every route not-found. The index is rebuilt only
when the merged set changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from routewatch.config.rpki import JsonVrpSourceConfig, RpkiSettings, RpkiSource, RtrVrpSource
from routewatch.rpki.validation import VrpIndex
from routewatch.rpki.vrp import VrpSet, VrpSourceStatus, merge_vrps
from routewatch.sources.vrp.json_source import JsonVrpSource
from routewatch.sources.vrp.rtr_client import RtrClient

SettingsT = TypeVar("SettingsT", bound=RpkiSource)


class VrpFeed(Protocol):
    """What every VRP source offers (:class:`RtrClient`, :class:`JsonVrpSource`)."""

    name: str
    changed: asyncio.Event

    def status(self) -> VrpSourceStatus: ...

    async def run(self) -> None: ...


class VrpFeeds:
    """The configured VRP sources; :meth:`index` is the merged set ready for validation."""

    def __init__(self, feeds: list[VrpFeed]) -> None:
        self.feeds = feeds
        self._merged: VrpSet | None = None
        self._index: VrpIndex | None = None

    def statuses(self) -> list[VrpSourceStatus]:
        return [feed.status() for feed in self.feeds]

    def merged(self) -> VrpSet | None:
        return merge_vrps(self.statuses())

    def index(self) -> VrpIndex | None:
        """The validation index of the merged set, None while no source has loaded."""
        merged = self.merged()
        if merged is None:
            return None
        if merged != self._merged or self._index is None:
            self._merged, self._index = merged, VrpIndex(merged)
        return self._index

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for feed in self.feeds:
                group.create_task(feed.run(), name=f"rpki:{feed.name}")

    async def first_load(self, timeout: float) -> VrpIndex | None:
        """Run the sources until each has loaded once or ``timeout`` passed (for replay and checks)."""
        tasks = [asyncio.create_task(feed.run()) for feed in self.feeds]
        try:
            async with asyncio.timeout(timeout):
                while not all(status.loaded for status in self.statuses()):
                    waiters = [asyncio.create_task(feed.changed.wait()) for feed in self.feeds]
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    for waiter in waiters:
                        waiter.cancel()
                    for feed in self.feeds:
                        feed.changed.clear()
        except TimeoutError:
            pass
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.index()


class VrpFeedFactory(Protocol):
    """Builds the VRP source of one ``rpki.sources`` entry, refreshed every ``refresh`` seconds by default."""

    def __call__(self, source: RpkiSource, refresh: float) -> VrpFeed: ...


@dataclass(frozen=True, slots=True)
class VrpSourceBuilder(Generic[SettingsT]):
    """A kind of VRP source: its settings class and how a source is built from them.

    Generic in the settings class, so mypy checks each ``build`` against the
    fields of its own settings; :meth:`__call__` is what the registry offers,
    for any entry of the ``rpki.sources`` union.
    """

    settings: type[SettingsT]
    build: Callable[[SettingsT, float], VrpFeed]

    def __call__(self, source: RpkiSource, refresh: float) -> VrpFeed:
        if not isinstance(source, self.settings):
            raise TypeError(f"a {type(source).__name__} is not a {self.settings.__name__}")
        return self.build(source, refresh)


#: Config ``type`` -> the VRP source built for one ``rpki.sources`` entry and the refresh interval.
VRP_SOURCES: dict[str, VrpFeedFactory] = {
    "rtr": VrpSourceBuilder(RtrVrpSource,
                         lambda source, refresh: RtrClient(source.name, source.host, source.port, refresh=refresh)),
    "json": VrpSourceBuilder(JsonVrpSourceConfig,
                          lambda source, refresh: JsonVrpSource(source.name, source.path, refresh=refresh)),
}


def build_vrp_feeds(settings: RpkiSettings) -> VrpFeeds:
    """The configured sources, each refreshed every ``settings.refresh`` until a cache says otherwise."""
    return VrpFeeds([VRP_SOURCES[source.type](source, settings.refresh) for source in settings.sources])


def load_vrps_once(settings: RpkiSettings) -> tuple[VrpIndex | None, list[str]]:
    """The configured sources' merged set, loaded once (replay, checks), and a line per source that did not load.

    None when no source is configured or none loaded within ``load_timeout``:
    routes are then ``unknown``, never invalid.
    """
    if not settings.sources:
        return None, []
    feeds = build_vrp_feeds(settings)
    index = asyncio.run(feeds.first_load(settings.load_timeout))
    problems = [f"rpki source {s.name}: no VRP set within {settings.load_timeout:g} s"
                + (f" ({s.detail})" if s.detail else "") for s in feeds.statuses() if not s.loaded]
    return index, problems
