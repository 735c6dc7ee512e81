"""``routewatch config``: validate a config file, import BGPalerter's prefixes.yml and config.yml."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click

from routewatch.config.bgpalerter import convert, render
from routewatch.config.schema import load_config
from routewatch.config.yamlfile import read_yaml
from routewatch.errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Validate and convert configuration files."""


def _fail(path: str, headline: str, problems: list[str]) -> None:
    click.echo(f"{path}: {headline}:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@config_group.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--archives", is_flag=True,
              help="The config is for `replay` or the checks, which take MRT files from the command line.")
def validate(path: str, archives: bool) -> None:
    """Check PATH as `routewatch run` reads it; print every problem with its location and exit 1 if any."""
    try:
        config = load_config(path, daemon=not archives)
    except ConfigError as exc:
        _fail(path, f"{len(exc.problems)} problem(s)", exc.problems)
        return
    click.echo(
        f"{path}: OK ({len(config.prefixes)} prefixes, {len(config.asns)} ASNs, "
        f"{len(config.zones)} zones, {len(config.sources)} sources)"
    )


@config_group.command("import-bgpalerter")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the config to this file instead of stdout."
)
@click.option(
    "--config-yml", "settings_path", type=click.Path(dir_okay=False),
    help="BGPalerter's config.yml: its RIS connector, blacklistSources, thresholdMinPeers and fadeOffSeconds "
    "are imported too.",
)
def import_bgpalerter(path: str, output: str | None, settings_path: str | None) -> None:
    """Convert BGPalerter's prefixes.yml at PATH (and its config.yml) into a routewatch config.

    Every key that has no routewatch equivalent is named in a warning on
    stderr (and in the output's header); nothing is dropped silently.
    """
    document = _read(path)
    settings = None if settings_path is None else _read(settings_path)
    try:
        conversion = convert(document, settings)
    except ConfigError as exc:
        what = ("not a BGPalerter prefixes file" if settings_path is None
                else "not BGPalerter's prefixes.yml and config.yml")
        _fail(path, what, exc.problems)
        return
    for warning in conversion.warnings:
        click.echo(f"warning: {warning}", err=True)
    names = Path(path).name + ("" if settings_path is None else f" and {Path(settings_path).name}")
    text = render(conversion, names)
    summary = (
        f"{len(conversion.config['prefixes'])} prefixes, {len(conversion.config.get('asns', []))} ASNs, "
        f"{len(conversion.warnings)} warning(s)"
    )
    if output is None:
        click.echo(text, nl=False)
        click.echo(f"{path}: converted ({summary})", err=True)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(output, "cannot write", [exc.strerror or str(exc)])
    click.echo(f"{path}: converted to {output} ({summary})", err=True)


def _read(path: str) -> object:
    """The parsed YAML at ``path``; exits 1 naming every problem if it cannot be read."""
    document, problems = read_yaml(Path(path))
    if problems:
        unreadable = document is None and problems[0].startswith("(file)")
        _fail(path, "cannot be read" if unreadable else "cannot be read as YAML", problems)
    return document


@config_group.command("shards")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--shards", type=click.IntRange(1, 1024), default=None,
              help="Show this many shards instead of the config's sharding.shards (to review a rebalance).")
def shards(path: str, shards: int | None) -> None:
    """Print what each shard of PATH watches: counts, and a digest of each list to compare before a change."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        _fail(path, f"{len(exc.problems)} problem(s)", exc.problems)
        return
    n = shards or config.sharding.shards
    whole = config.model_copy(update={"sharding": config.sharding.model_copy(update={"shards": n, "shard": None})})
    click.echo(f"{path}: {n} shard(s); {len(config.prefixes)} prefixes, {len(config.asns)} ASNs, "
               f"{len(config.zones)} zones in all")
    click.echo(f"{'shard':>5}  {'prefixes':>8}  {'asns':>5}  {'zones':>5}  {'max series':>10}  digest")
    for index in range(n):
        part = whole.part(index)
        items = sorted([*(str(w.prefix) for w in part.prefixes), *(f"AS{a.asn}" for a in part.asns),
                        *(z.zone for z in part.zones)])
        digest = hashlib.sha256("\n".join(items).encode()).hexdigest()[:12]
        click.echo(f"{index:>5}  {len(part.prefixes):>8}  {len(part.asns):>5}  {len(part.zones):>5}  "
                   f"{part.max_prefix_series():>10}  {digest}")
