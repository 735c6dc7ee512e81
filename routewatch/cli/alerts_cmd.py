"""``routewatch alerts``: render the alert rules for Prometheus and for Grafana."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from routewatch.alerting.render import (
    DEFAULT_API_BASE,
    DEFAULT_DATASOURCE_UID,
    DEFAULT_FOLDER,
    DEFAULT_RUNBOOK_BASE,
    RenderOptions,
    stale_files,
    write_all,
)
from routewatch.alerting.rules import DEFAULT_JOB


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules: one definition, a Prometheus rules file and Grafana provisioning."""


@alerts_group.command("render")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Directory under which deploy/prometheus/ and grafana/provisioning/alerting/ are written.")
@click.option("--job", default=DEFAULT_JOB, show_default=True, help="Prometheus job that scrapes routewatch.")
@click.option("--runbook-base", default=DEFAULT_RUNBOOK_BASE, show_default=True,
              help="Absolute URL of the runbooks page (docs/runbooks.md as your wiki or repository browser serves it); "
                   "each alert links to an anchor in it.")
@click.option("--api-base", default=DEFAULT_API_BASE, show_default=True,
              help="Absolute URL at which those reading alerts reach routewatch's JSON API (its /metrics address); "
                   "each prefix alert links to /api/v1/prefixes/<prefix> under it.")
@click.option("--datasource-uid", default=DEFAULT_DATASOURCE_UID, show_default=True,
              help="UID of Grafana's Prometheus datasource.")
@click.option("--folder", default=DEFAULT_FOLDER, show_default=True, help="Grafana folder of the alert rules.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file differs from a fresh rendering.")
def render(root: Path, job: str, runbook_base: str, api_base: str, datasource_uid: str, folder: str,
           check: bool) -> None:
    """Write the Prometheus rules file and the Grafana alert provisioning."""
    try:
        options = RenderOptions(job=job, runbook_base=runbook_base, api_base=api_base, datasource_uid=datasource_uid,
                                folder=folder)
    except ValueError as error:
        hint = "--api-base" if str(error).startswith("API") else "--runbook-base"
        raise click.BadParameter(str(error), param_hint=hint) from error
    if check:
        stale = stale_files(root, options)
        for path in stale:
            click.echo(f"{path}: out of date (run `routewatch alerts render`)", err=True)
        sys.exit(1 if stale else 0)
    for path in write_all(root, options):
        click.echo(f"wrote {path}")
