"""``routewatch config``: validate a config file, import a BGPalerter prefixes.yml."""

from __future__ import annotations

import sys

import click

from ..config import load_config
from ..errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Validate and convert configuration files."""


@config_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
def validate(path: str) -> None:
    """Check PATH; print every problem with its location and exit 1 if any."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        click.echo(f"{path}: {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo(
        f"{path}: OK ({len(config.prefixes)} prefixes, {len(config.asns)} ASNs, "
        f"{len(config.zones)} zones, {len(config.sources)} sources)"
    )
