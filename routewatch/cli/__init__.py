"""The ``routewatch`` command line: thin click commands over the library.

Each command family lives in its own module and is registered here in one
explicit list, so that ``routewatch --help`` and this file tell the same story.
"""

from __future__ import annotations

import click

from routewatch import __version__
from routewatch.cli.alerts_cmd import alerts_group
from routewatch.cli.check_prefix import check_asn, check_prefix
from routewatch.cli.check_zone import check_zone
from routewatch.cli.config_cmd import config_group
from routewatch.cli.demo_cmd import demo
from routewatch.cli.generate_cmd import generate
from routewatch.cli.replay_cmd import replay
from routewatch.cli.run_cmd import run


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="routewatch")
def main() -> None:
    """Watch the BGP routes and authoritative DNS a network depends on."""


@main.group("check")
def check_group() -> None:
    """One-off checks at the terminal (exit 0 healthy, 1 degraded, 2 down, 3 could not check)."""


main.add_command(config_group)
main.add_command(run)
main.add_command(generate)
main.add_command(alerts_group)
main.add_command(replay)
main.add_command(demo)
check_group.add_command(check_zone)
check_group.add_command(check_prefix)
check_group.add_command(check_asn)
