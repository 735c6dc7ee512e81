"""``routewatch demo``: watch routewatch catch a replayed 2021-10-04 without internet access."""

from __future__ import annotations

import asyncio
import sys

import click

from routewatch.config.schema import DEFAULT_EXPORTER_PORT
from routewatch.demo.run import run_demo
from routewatch.errors import ConfigError


@click.command("demo")
@click.option("--speed", type=click.FloatRange(min=1.0, max=36_000.0), default=90.0, show_default=True,
              help="How many times faster than real time the story runs (90: the withdrawal opens about 10 s in "
                   "and closes under four minutes in).")
@click.option("--listen", default="127.0.0.1", show_default=True, help="Address to serve /metrics on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_EXPORTER_PORT, show_default=True,
              help="Port to serve /metrics on.")
@click.option("--loop", is_flag=True, help="Start the story again when it ends, for a standing demo stack.")
def demo(speed: float, listen: str, port: int, loop: bool) -> None:
    """The daemon fed a reconstruction of the 2021-10-04 AS32934 outage, on loopback.

    A built-in RIS Live endpoint plays the story (the DNS prefixes withdrawn with
    path hunting, a collector restart, a sub-prefix hijack, the recovery) to the
    same source, core and exporter as `routewatch run`. With Knot or NSD
    installed, facebook.com is served on loopback too and its nameservers fall
    silent while their prefixes are withdrawn. Watch /metrics, the detections
    logged here, or Prometheus and Grafana with the shipped rules.
    """
    def say(text: str) -> None:
        click.echo(text, err=True)

    say(f"routewatch demo: 2021-10-04 replayed at {speed:g}x; metrics on http://{listen}:{port}/metrics")
    say("watch: routewatch_bgp_prefix_state{prefix=\"129.134.30.0/23\"} goes visible -> withdrawn -> visible, "
        "while 129.134.0.0/17 stays visible; detections are logged below as they open and close")
    try:
        code = asyncio.run(run_demo(speed, listen, port, loop, say))
    except ConfigError as exc:  # the generated config is ours: this is a bug, said plainly
        say(f"routewatch demo: the generated config was refused: {'; '.join(exc.problems)}")
        sys.exit(3)
    except OSError as exc:
        say(f"routewatch demo: {exc}")
        sys.exit(2)
    sys.exit(code)
