"""The exception tree of routewatch.

    RoutewatchError
    ├── ConfigError          a configuration file is invalid (carries every problem)
    ├── SourceError          a feed failed (carries ``source``); supervised and retried
    │   └── MrtDecodeError   an MRT file is damaged (carries ``path`` and ``offset``)
    ├── DependencyError      an optional dependency is missing (says what to install)
    ├── RipestatError        RIPEstat could not be reached or answered badly
    ├── StateError           a saved state file is invalid (carries every problem with its path)
    └── DnsError             a DNS check could not be run (carries ``zone``)

Errors carry data rather than only a message, so that the CLI can print a clear
line and metrics can count by field without parsing text.
"""

from __future__ import annotations


class RoutewatchError(Exception):
    """Base of every error routewatch raises on purpose."""


class ConfigError(RoutewatchError):
    """A configuration is invalid; ``problems`` lists every ``path: message``."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(self.problems))


class SourceError(RoutewatchError):
    """A feed failed; the supervisor reconnects it with backoff."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class MrtDecodeError(SourceError):
    """An MRT file is damaged at ``offset``; every record before it was delivered."""

    def __init__(self, path: str, offset: int, message: str) -> None:
        self.path = path
        self.offset = offset
        super().__init__("mrt", f"{path}: byte offset {offset}: {message}")


class DependencyError(RoutewatchError):
    """An optional dependency is missing; the message says how to install it."""


class RipestatError(RoutewatchError):
    """RIPEstat could not be reached or returned something unusable."""


class StateError(RoutewatchError):
    """A saved state file fails validation; ``problems`` lists every ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class DnsError(RoutewatchError):
    """A DNS check could not be run at all (as opposed to a server failing a probe)."""

    def __init__(self, zone: str, message: str) -> None:
        self.zone = zone
        super().__init__(f"{zone}: {message}")
