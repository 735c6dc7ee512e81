"""``routewatch run -c CONFIG``: the daemon."""

from __future__ import annotations

import asyncio
import sys

import click

from routewatch.daemon.runner import Daemon
from routewatch.errors import ConfigError


@click.command("run")
@click.option("-c", "--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The routewatch YAML config.")
def run(config_path: str) -> None:
    """Watch continuously and serve Prometheus metrics (SIGHUP reloads, SIGTERM stops)."""
    try:
        code = asyncio.run(Daemon(config_path).run())
    except ConfigError as exc:
        click.echo(f"{exc.source or config_path}: {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"routewatch: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)
