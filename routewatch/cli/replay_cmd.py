"""``routewatch replay``: archives through the live core, detections as a timeline."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import orjson

from routewatch.config.schema import load_config
from routewatch.config.to_core import build_engine, withdrawal_thresholds
from routewatch.core.detection import DetectionChange
from routewatch.errors import ConfigError, DependencyError
from routewatch.rpki.validation import VrpIndex
from routewatch.tools.replay import replay_files


class _Progress:
    """One status line on stderr, refreshed twice a second; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.last = 0.0
        self.report_events = 0

    def tick(self, data_time: float, events: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.5:
            return
        self.last = now
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(data_time))
        rate = events / max(now - self.started, 1e-9)
        click.echo(f"\r  {events:>12,} events  {rate:>10,.0f}/s  data time {stamp}", nl=False, err=True)

    def done(self) -> None:
        if self.enabled and self.last:
            click.echo("", err=True)


@click.command("replay")
@click.option("-c", "--config", "config_path", required=True, type=click.Path(dir_okay=False),
              help="routewatch config: what to watch and its thresholds.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per detection change, per line.")
@click.option("--metrics-out", type=click.Path(dir_okay=False), help="Write the final state as Prometheus text.")
@click.option("--plot", "plot_out", type=click.Path(dir_okay=False), help="Draw visibility over time to a PNG.")
@click.option("--collector", help="Collector name for every file (default: from the file name).")
@click.option("--progress/--no-progress", default=None, help="Progress line on stderr (default: when a terminal).")
def replay(config_path: str, files: tuple[str, ...], as_json: bool, metrics_out: str | None,
           plot_out: str | None, collector: str | None, progress: bool | None) -> None:
    """Replay MRT FILES (RIB dumps and updates, any collectors) in time order.

    With an ``rpki`` section, its VRP sources are loaded once at start (JSON
    files or URLs, RTR caches) and every route is validated against that set.

    Prints every detection opened and closed. Exits 0 when every file was
    read whole; 1 when the run finished with damaged input (a damaged file's
    good records are applied; the damage is listed with file and byte offset,
    and counted); 2 when no file could be read at all, or on a bad config.
    """
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"{config_path}: invalid config:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    monitor = build_engine(config)
    vrps: VrpIndex | None = None
    problems: list[str] = []
    if config.rpki.sources:  # the VRP clients (httpx, RTR) are imported only for a config that names a source
        from routewatch.sources.vrp.feeds import load_vrps_once

        vrps, problems = load_vrps_once(config.rpki)
    for problem in problems:
        click.echo(f"warning: {problem}; RPKI states stay unknown where no set loaded", err=True)
    bar = _Progress(sys.stderr.isatty() if progress is None else progress)
    counter = {"events": 0}

    def on_change(change: DetectionChange) -> None:
        if as_json:
            click.echo(orjson.dumps(change.as_json(), option=orjson.OPT_NON_STR_KEYS).decode())
        else:
            click.echo(change.as_text())

    def on_tick(data_time: float) -> None:
        counter["events"] += 4096
        bar.tick(data_time, counter["events"])

    report = replay_files(monitor, files, collector=collector, on_change=on_change, on_tick=on_tick,
                          sample_every=60.0 if plot_out else None, vrps=vrps)
    bar.done()
    if metrics_out:  # the exposition imports the DNS snapshot (dnspython's DNSSEC) and prometheus_client
        from routewatch.exporter.offline import render_core

        default = withdrawal_thresholds(config.bgp.thresholds)
        Path(metrics_out).write_bytes(render_core(monitor.snapshot(), default))
    if plot_out:
        from routewatch.tools.plot import plot_visibility

        try:
            ratios = {str(s.prefix): s.thresholds.withdrawn_ratio for s in monitor.snapshot().prefixes}
            plot_visibility(report.samples, report.changes, plot_out, end=report.last_time, withdrawn_ratios=ratios,
                            min_hold=config.bgp.baseline_min_hold)
        except DependencyError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
    rate = report.elements / report.seconds if report.seconds else 0.0
    click.echo(
        f"replayed {len(files)} file(s): {report.elements:,} elements ({rate:,.0f}/s), "
        f"{len(report.changes)} detection change(s), {len(monitor.open_detections())} open at the end",
        err=True,
    )
    for path, count in report.outliers.items():
        click.echo(f"{path}: {count} record(s) stamped far ahead of their neighbours were judged at the "
                   "neighbours' data time", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    for path in report.unreadable():
        if not any(path in str(e) for e in report.errors):
            click.echo(f"error: {path}: no readable record", err=True)
    if report.damaged:
        click.echo(report.damage_summary(), err=True)
    sys.exit(report.exit_code())
