"""Every option with a default says it in ``--help``: a newcomer should not read code to learn a timeout.

Walks every click command under ``routewatch`` and asks each option for the help line click prints.
Flags (off unless given), repeatable options (empty unless given) and options without a default say
nothing; every other default is shown, by ``show_default`` or written in the help text.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from routewatch.cli import main


def commands(group: click.Command, path: tuple[str, ...] = ("routewatch",)) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), group
    if isinstance(group, click.Group):  # through list/get_command: the lazy groups import a command only then
        context = click.Context(group, info_name=path[-1])
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None, f"{' '.join(path)} lists {name} but has no such command"
            yield from commands(command, (*path, name))


COMMANDS = dict(commands(main))


def has_default(option: click.Option) -> bool:
    if option.is_flag or option.multiple or option.hidden or option.name == "help":
        return False
    default = option.to_info_dict()["default"]  # click's public view of it: None when there is none
    return default is not None and default != ()


def test_the_walk_reaches_every_command() -> None:
    assert {"routewatch demo", "routewatch check zone", "routewatch check prefix", "routewatch generate",
            "routewatch replay", "routewatch run"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_default_is_in_the_help(name: str) -> None:
    command = COMMANDS[name]
    context = click.Context(command, info_name=name)
    unshown = []
    for param in command.params:
        if isinstance(param, click.Option) and has_default(param):
            record = param.get_help_record(context)
            if record is None or "default:" not in record[1]:
                unshown.append(f"{'/'.join(param.opts)} (default {param.default!r})")
    assert not unshown, f"{name} --help does not show the default of {', '.join(unshown)}"
