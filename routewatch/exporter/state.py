"""The one object the HTTP thread reads: every snapshot the exporter needs, swapped atomically.

The event loop builds a new :class:`ExportState` (frozen, made of frozen
snapshots) and replaces the reference in :class:`SnapshotBox`; a scrape reads
the reference once and renders from it, so one scrape never mixes two
moments and never sees state being mutated.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from routewatch.core.detection import Detection
from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import CoreSnapshot
from routewatch.dns.snapshot import DnsSnapshot
from routewatch.rpki.vrp import VrpSourceStatus
from routewatch.sources.health import SourceHealth


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    """A supervised part of the daemon: running or not, and how often it was restarted."""

    component: str
    up: bool
    restarts: int = 0
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """Build and configuration facts, and the supervised components."""

    version: str
    reload_successful: bool = True
    reload_success_time: float | None = None
    components: tuple[ComponentStatus, ...] = ()
    bootstrap_degraded: bool = False
    """The start-up snapshot came from damaged archives: some routes may be missing."""
    state_rejected: bool = False
    """The saved state failed validation at start and was set aside: the daemon started without it."""
    shard: tuple[int, int] = (0, 1)
    """(this process's shard, how many shards) from ``sharding``."""


@dataclass(frozen=True, slots=True)
class ExportState:
    """Everything a scrape renders. ``None`` snapshots are exported as absent, never as zeros.

    ``max_collectors`` and ``max_ignored_types`` bound the label sets whose
    values come from a feed rather than from the config.
    """

    process: ProcessStatus
    core: CoreSnapshot | None = None
    dns: DnsSnapshot | None = None
    sources: tuple[SourceHealth, ...] = ()
    rpki_sources: tuple[VrpSourceStatus, ...] = ()
    """The configured VRP sources, each with its last good set (empty while ``rpki.sources`` is)."""
    default_thresholds: WithdrawalThresholds = WithdrawalThresholds()
    """``bgp.thresholds``: exported once; a prefix's own thresholds only where they differ."""
    max_collectors: int = 64
    max_ignored_types: int = 16
    closed_detections: tuple[Detection, ...] = ()
    """The most recently closed detections, newest last (bounded by the daemon), for the JSON API."""


class SnapshotBox:
    """Holds the current ``ExportState``; writers replace it whole, readers just read ``current``."""

    def __init__(self, state: ExportState) -> None:
        self._state = state
        self._write = threading.Lock()

    @property
    def current(self) -> ExportState:
        return self._state

    def update(self, **changes: Any) -> ExportState:
        """Swap in a copy of the current state with ``changes`` applied."""
        with self._write:
            self._state = replace(self._state, **changes)
            return self._state
