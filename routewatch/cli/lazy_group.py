"""A click group that imports a subcommand's module only when that subcommand is used.

Every ``routewatch`` invocation used to import every command module, and with
them dnspython's DNSSEC code and cryptography (``check zone``), the RPKI and
pydantic config schemas, the demo and the daemon: about 0.4 s before
``--version`` could print, and before ``replay`` read its first byte. This is
click's documented lazy-loading pattern ("Lazily Loading Subcommands": a group
overriding ``list_commands`` and ``get_command`` with an import-path map),
plus one thing it leaves out: the group's own ``--help`` lists each lazy
subcommand from the summary its map entry carries, so that listing them
imports none of them. ``tests/unit/test_cli_lazy.py`` holds each summary to
the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from gettext import gettext as _
from typing import Any

import click


@dataclass(frozen=True, slots=True)
class LazySubcommand:
    """Where a subcommand lives and what the group's ``--help`` says of it."""

    #: ``"package.module:attribute"``, the click command or group object.
    target: str
    #: The first sentence of the command's help, as click shortens it for the listing.
    summary: str


class LazyGroup(click.Group):
    """A ``click.Group`` whose ``lazy_subcommands`` are imported when resolved (Python keeps the module)."""

    def __init__(self, *args: Any, lazy_subcommands: Mapping[str, LazySubcommand] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        """Import the module of ``cmd_name`` and return its command object."""
        module_name, _sep, attribute = self.lazy_subcommands[cmd_name].target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_subcommands[cmd_name].target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing, with each lazy subcommand shown by its map summary instead of its object."""
        rows: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in self.lazy_subcommands:
                rows.append((name, click.Command(name, help=self.lazy_subcommands[name].summary)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command))
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _command in rows)
            with formatter.section(_("Commands")):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in rows])
