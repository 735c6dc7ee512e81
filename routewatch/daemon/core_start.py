"""What ``routewatch run``'s core starts from: the saved state, else the bootstrap MRT files, else nothing.

A state file that cannot be used is set aside (kept for a look, never
overwritten) and the daemon starts without it rather than not at all. A
daemon following a live feed judges the saved state's data time, and the
bootstrap files' timestamps, against the wall clock: data from the future
is refused, not trusted. How the start went is returned with the core, for
the process status the exporter serves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from routewatch.config.schema import Config
from routewatch.daemon.bootstrap import bootstrap_from_mrt
from routewatch.daemon.persist import restore_state, set_aside
from routewatch.daemon.tapped import Sink, TappedEngine, build_tapped, watched_state
from routewatch.errors import RoutewatchError, StateError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StartedCore:
    """The daemon's core, and what its start reports: a damaged bootstrap file, a rejected state file, and
    whether the rejected file could not be moved aside (then no state is saved over it)."""

    monitor: TappedEngine
    bootstrap_degraded: bool = False
    state_rejected: bool = False
    save_blocked: bool = False


def follows_present(config: Config) -> bool:
    """Does a source follow the present (a live feed)? Then data time is held to the wall clock."""
    return any(s.follows_present for s in config.sources)


def _wall_clock(config: Config, clock: Callable[[], float]) -> float | None:
    """The time no saved or bootstrap data may be ahead of: now, for a live daemon; none for a replaying one."""
    return clock() if follows_present(config) else None


def start_core(config: Config, sink: Sink, clock: Callable[[], float]) -> StartedCore:
    """The core for ``config``, its changes going to ``sink``: restored, bootstrapped or empty."""
    needs_snapshot = any(s.needs_snapshot for s in config.sources)
    monitor = build_tapped(config, bootstrapped=not needs_snapshot)
    monitor.sink = sink
    restored = rejected = blocked = False
    if config.state.path is not None:
        try:
            restored = restore_state(monitor, config.state.path, wall_clock=_wall_clock(config, clock),
                                     narrow=partial(watched_state, config=config, new=monitor))
        except (OSError, RoutewatchError, ValueError, KeyError, TypeError) as exc:
            # validated before use, so the monitor is untouched unless loading itself failed: rebuild anyway
            rejected = True
            blocked = not _set_state_aside(config.state.path, exc, clock())
            monitor = build_tapped(config, bootstrapped=not needs_snapshot)
            monitor.sink = sink
        if restored:
            monitor.bootstrapped = True
            log.info("state restored from %s (data time %.0f)", config.state.path, monitor.now)
    files = config.bgp.bootstrap.mrt_files
    if not files or restored:
        return StartedCore(monitor, state_rejected=rejected, save_blocked=blocked)
    # Once, at start, and never over a restored state (that would bring back routes withdrawn
    # since the dump): a RIB dump counts as established, the update files after it do not.
    report = bootstrap_from_mrt(monitor, files, wall_clock=_wall_clock(config, clock))
    monitor.bootstrapped = True
    log.info("bootstrapped from %d MRT files (%d events)", len(files), report.events)
    return StartedCore(monitor, report.damaged, rejected, blocked)


def _set_state_aside(path: str, exc: Exception, now: float) -> bool:
    """Set a state file that cannot be used aside and say why; returns whether it could be moved."""
    problems = exc.problems if isinstance(exc, StateError) else [str(exc)]
    try:
        aside = set_aside(path, now)
    except OSError as move:
        log.error("state file %s rejected and cannot be moved aside (%s); it will not be overwritten, "
                  "state is not saved until it is moved: %s", path, move, "; ".join(problems))
        return False
    log.error("state file %s rejected, kept as %s; starting without it (prefixes unknown until data "
              "arrives): %d problem(s): %s", path, aside, len(problems), "; ".join(problems[:20]))
    return True
