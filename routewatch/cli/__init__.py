"""The ``routewatch`` command line: thin click commands over the library.

Each command family lives in its own module and is named here in one explicit
map, so that ``routewatch --help`` and this file tell the same story. A
module is imported only when its command runs or shows its own help
(:mod:`routewatch.cli.lazy_group` says why); each entry carries the summary
the listing shows, held to the command's own help by a test.
"""

from __future__ import annotations

import click

from routewatch import __version__
from routewatch.cli.lazy_group import LazyGroup, LazySubcommand

COMMANDS = {
    "alerts": LazySubcommand(
        "routewatch.cli.alerts_cmd:alerts_group",
        "Alert rules: one definition, a Prometheus rules file and Grafana provisioning.",
    ),
    "config": LazySubcommand("routewatch.cli.config_cmd:config_group", "Validate and convert configuration files."),
    "demo": LazySubcommand(
        "routewatch.cli.demo_cmd:demo",
        "The daemon fed a reconstruction of the 2021-10-04 AS32934 outage, on loopback.",
    ),
    "generate": LazySubcommand(
        "routewatch.cli.generate_cmd:generate",
        "Write a routewatch config listing the prefixes the given ASes announce.",
    ),
    "replay": LazySubcommand(
        "routewatch.cli.replay_cmd:replay",
        "Replay MRT FILES (RIB dumps and updates, any collectors) in time order.",
    ),
    "run": LazySubcommand(
        "routewatch.cli.run_cmd:run",
        "Watch continuously and serve Prometheus metrics (SIGHUP reloads, SIGTERM stops).",
    ),
}

CHECK_COMMANDS = {
    "asn": LazySubcommand(
        "routewatch.cli.check_prefix:check_asn",
        "The prefixes ASN originates and how visible each is; those below the threshold are flagged.",
    ),
    "prefix": LazySubcommand(
        "routewatch.cli.check_prefix:check_prefix",
        "Is PREFIX (and its more-specifics) visible, from where, and from the expected origin?",
    ),
    "zone": LazySubcommand(
        "routewatch.cli.check_zone:check_zone",
        "Probe every nameserver address of ZONE directly and judge the zone.",
    ),
}


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="routewatch")
def main() -> None:
    """Watch the BGP routes and authoritative DNS a network depends on."""


@main.group("check", cls=LazyGroup, lazy_subcommands=CHECK_COMMANDS)
def check_group() -> None:
    """One-off checks at the terminal (exit 0 healthy, 1 degraded, 2 down, 3 could not check)."""
