"""The lazy command map tells the truth: each summary is what the command's own help would list.

``routewatch --help`` lists the subcommands from the summaries in ``routewatch.cli``'s maps so
that it imports none of them; these tests hold every summary to the help of the command it
names, and the whole listing to what click prints from the command objects themselves.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from routewatch.cli import CHECK_COMMANDS, COMMANDS, check_group, main
from routewatch.cli.lazy_group import LazyGroup, LazySubcommand

GROUPS = {"routewatch": (main, COMMANDS), "routewatch check": (check_group, CHECK_COMMANDS)}
ENTRIES = [(group, name) for group, (_command, entries) in GROUPS.items() for name in entries]


@pytest.mark.parametrize(("group", "name"), ENTRIES)
def test_each_summary_lists_as_the_commands_own_help(group: str, name: str) -> None:
    lazy, entries = GROUPS[group]
    command = lazy.get_command(click.Context(lazy, info_name=group), name)
    assert command is not None
    assert (command.name, command.hidden) == (name, False)
    stand_in = click.Command(name, help=entries[name].summary)
    for limit in range(1, 200):  # click cuts the listing to the terminal's width: every cut agrees
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), limit


def listing(group: click.Group, width: int) -> str:
    formatter = click.HelpFormatter(width=width)
    group.format_commands(click.Context(group), formatter)
    return formatter.getvalue()


@pytest.mark.parametrize("group", sorted(GROUPS))
@pytest.mark.parametrize("width", [50, 80, 100])
def test_the_listing_is_what_click_prints_from_the_commands(group: str, width: int) -> None:
    lazy, _entries = GROUPS[group]
    context = click.Context(lazy, info_name=group)
    eager = click.Group(commands={name: lazy.get_command(context, name) for name in lazy.list_commands(context)})
    assert "Commands:" in listing(lazy, width)
    assert listing(lazy, width) == listing(eager, width)


def test_listing_imports_nothing_and_running_imports_the_module() -> None:
    group = LazyGroup("probe", lazy_subcommands={
        "absent": LazySubcommand("routewatch.cli.no_such_module:absent", "Lives in a module that does not exist."),
    })
    listing = CliRunner().invoke(group, ["--help"])
    assert listing.exit_code == 0, listing.output
    assert "absent  Lives in a module that does not exist." in listing.output
    run = CliRunner().invoke(group, ["absent"])
    assert isinstance(run.exception, ModuleNotFoundError)
    assert run.exception.name == "routewatch.cli.no_such_module"


def test_a_target_that_is_not_a_command_is_refused() -> None:
    group = LazyGroup("probe", lazy_subcommands={"map": LazySubcommand("routewatch.cli:COMMANDS", "Not a command.")})
    with pytest.raises(TypeError, match="routewatch.cli:COMMANDS is not a click command"):
        group.get_command(click.Context(group), "map")
