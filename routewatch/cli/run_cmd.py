"""``routewatch run -c CONFIG``: the daemon (``--shards N``: N of them, one per shard, on this machine)."""

from __future__ import annotations

import asyncio
import sys

import click

from routewatch.daemon.runner import Daemon
from routewatch.daemon.sharding import LocalShard, ShardSupervisor
from routewatch.errors import ConfigError


@click.command("run")
@click.option("-c", "--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="The routewatch YAML config.")
@click.option("--shards", type=click.IntRange(1, 1024), default=None,
              help="Run this many shards on this machine, each a worker process with its metrics on "
                   "exporter.port + its shard number (default: one process, sharded as the config says).")
@click.option("--shard", type=click.IntRange(0), default=None,
              help="Run only this shard of --shards (what each worker of --shards runs).")
def run(config_path: str, shards: int | None, shard: int | None) -> None:
    """Watch continuously and serve Prometheus metrics (SIGHUP reloads, SIGTERM stops)."""
    if shard is not None and (shards is None or shard >= shards):
        raise click.BadParameter("needs --shards N with the shard below N", param_hint="--shard")
    try:
        if shards is not None and shard is None:
            code = asyncio.run(ShardSupervisor(config_path, shards).run())
        else:
            local = LocalShard(shard, shards) if shard is not None and shards is not None else None
            code = asyncio.run(Daemon(config_path, shard=local).run())
    except ConfigError as exc:
        click.echo(f"{exc.source or config_path}: {len(exc.problems)} problem(s):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"routewatch: {exc}", err=True)
        sys.exit(2)
    sys.exit(code)
