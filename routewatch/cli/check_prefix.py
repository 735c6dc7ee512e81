"""``routewatch check prefix`` and ``routewatch check asn``: one-off visibility answers.

Exit codes are for scripts: 0 visible as expected, 1 degraded (visibility below
``--min-visibility``), 2 withdrawn (below the withdrawn ratio, the config's or
0.5), not visible or originated by an unexpected AS, 3 the
check could not be run (unreachable RIPEstat, unreadable file, bad argument,
or a prefix that update files without a RIB never mention); a failure is one
line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click
import orjson

from routewatch.cli.check_render import asn_text, prefix_text, to_json
from routewatch.cli.route_inputs import load_vrps, replay_bgpstream, replay_files, ripestat_asn, ripestat_prefix
from routewatch.config.schema import Config, RipestatSettings, load_config
from routewatch.errors import ConfigError, RoutewatchError
from routewatch.model import Prefix, parse_asn, parse_prefix
from routewatch.sources.mrt.reader import collector_from_path
from routewatch.tools.reports import (
    DEFAULT_WITHDRAWN_RATIO,
    EXIT_UNCHECKED,
    AsnReport,
    PrefixReport,
    VisibilityObservation,
    VisibilityVerdict,
    asn_report,
    prefix_report,
)
from routewatch.tools.route_rpki import with_vrps

DEFAULT_MIN_VISIBILITY = 0.5


def data_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every check shares: where the data comes from and how to print."""
    options = [
        click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                     help="routewatch config: expected origins and RIPEstat settings."),
        click.option("--mrt", "mrt", multiple=True, metavar="FILE",
                     help="Read MRT files (RIB dumps plus updates) instead of asking RIPEstat; repeatable, "
                          "and further file arguments are read too."),
        click.option("--bgpstream", is_flag=True,
                     help="Read through BGPStream (needs pybgpstream): the --mrt files, or else the latest RIB "
                          "dumps of --project."),
        click.option("--project", default="ris", show_default=True, help="BGPStream project (with --bgpstream)."),
        click.option("--collector", "collectors", multiple=True,
                     help="Only this collector (repeatable): BGPStream's, or of the archive files the one their "
                          "name gives (rrc06, route-views2, ...)."),
        click.option("--min-visibility", default=None, type=float, metavar="RATIO",
                     help=f"Degraded below this visibility ratio [default: {DEFAULT_MIN_VISIBILITY}]."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def fail(message: str, as_json: bool) -> NoReturn:
    """Could not check: one line on stderr (and a JSON object on stdout for scripts)."""
    click.echo(f"routewatch: could not check: {message}", err=True)
    if as_json:
        click.echo(orjson.dumps({"error": message, "exit_code": EXIT_UNCHECKED}).decode())
    sys.exit(EXIT_UNCHECKED)


def _config(path: str | None) -> Config | None:
    if path is None:
        return None
    try:
        return load_config(path)
    except ConfigError as exc:
        raise RoutewatchError(f"{path}: " + "; ".join(exc.problems)) from None


def _ratio(value: float | None) -> float:
    if value is None:
        return DEFAULT_MIN_VISIBILITY
    if not 0.0 <= value <= 1.0:
        raise RoutewatchError(f"--min-visibility must be a ratio between 0 and 1, got {value}")
    return value


def _parse(kind: str, parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except ValueError as exc:
        raise RoutewatchError(f"{kind} {text!r}: {exc}") from None


def _expected(prefix: Prefix, origins: Sequence[str], config: Config | None) -> tuple[int, ...]:
    """``--origin``, else the config's entry for exactly this prefix, else nothing expected."""
    if origins:
        return tuple(sorted({_parse("origin", parse_asn, o) for o in origins}))
    for watch in config.prefixes if config else []:
        if watch.prefix == prefix:
            return tuple(sorted(set(watch.asn)))
    return ()


def _withdrawn_ratio(prefix: Prefix, config: Config | None) -> float:
    """The prefix's withdrawn ratio in the config (its own, else the config's default), else the default."""
    if config is None:
        return DEFAULT_WITHDRAWN_RATIO
    for watch in config.prefixes:
        if watch.prefix == prefix:
            return config.thresholds_for(watch).withdrawn_ratio
    return config.bgp.thresholds.withdrawn_ratio


def _settings(config: Config | None) -> RipestatSettings:
    return config.ripestat if config else RipestatSettings()


def _emit(report: PrefixReport | AsnReport, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(to_json(report))
    else:
        lines = prefix_text(report) if isinstance(report, PrefixReport) else asn_text(report)
        click.echo("\n".join(lines))
    sys.exit(report.exit_code)


def _files(mrt: Sequence[str], extra: Sequence[str], collectors: Sequence[str], bgpstream: bool) -> list[str]:
    """The archive files to read: all of them, or with ``--collector`` those whose name gives one of them."""
    paths = [*mrt, *extra]
    if collectors and not paths and not bgpstream:
        raise RoutewatchError("--collector chooses archive files or BGPStream's collectors; RIPEstat answers for "
                              "every RIS collector at once")
    if not collectors or not paths:
        return paths
    unnamed = [path for path in paths if collector_from_path(path) == "mrt"]
    if unnamed:
        raise RoutewatchError(f"--collector chooses archives by the collector in their name, and {unnamed[0]} "
                              "names none (RIS: rrcNN, Route Views: route-viewsN)")
    chosen = [path for path in paths if collector_from_path(path) in collectors]
    if not chosen:
        named = sorted({collector_from_path(path) for path in paths})
        raise RoutewatchError(f"no file of collector {', '.join(collectors)} among the files (they are of "
                              f"{', '.join(named)})")
    return chosen


def _not_seen(report: PrefixReport) -> None:
    """Say on stderr why there is no answer; the report still goes to stdout."""
    if report.verdict is VisibilityVerdict.NOT_SEEN:
        click.echo(f"routewatch: could not check: {report.prefix} not seen in these files (no RIB given); update "
                   "files hold only changes, so add a RIB dump of the same collector", err=True)


@click.command("prefix")
@click.argument("prefix")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--origin", "origins", multiple=True, metavar="ASN",
              help="Expected origin AS (repeatable); default: the config's entry for the prefix.")
@data_options
def check_prefix(prefix: str, files: tuple[str, ...], origins: tuple[str, ...], config_path: str | None,
                 mrt: tuple[str, ...], bgpstream: bool, project: str, collectors: tuple[str, ...],
                 min_visibility: float | None, as_json: bool) -> None:
    """Is PREFIX (and its more-specifics) visible, from where, and from the expected origin?

    Asks RIPEstat by default; with --mrt reads archives offline. Each route's RPKI state comes from RIPEstat's
    validator, or offline from the config's rpki sources (unknown without them).
    """
    try:
        network: Prefix = _parse("prefix", parse_prefix, prefix)
        config = _config(config_path)
        expected = _expected(network, origins, config)
        threshold = _ratio(min_visibility)
        withdrawn = _withdrawn_ratio(network, config)
        paths = _files(mrt, files, collectors, bgpstream)
        if paths or bgpstream:
            observation = VisibilityObservation.of_prefix(network, expected)
            if paths:
                replay_files(observation, paths, bgpstream=bgpstream)
            else:
                asyncio.run(replay_bgpstream(observation, [network], project=project, collectors=collectors))
            report = prefix_report(observation, network, expected, threshold,
                                   source="bgpstream" if bgpstream else "mrt", withdrawn_ratio=withdrawn)
            report = with_vrps(report, *asyncio.run(load_vrps(config.rpki if config else None)))
        else:
            report = asyncio.run(ripestat_prefix(_settings(config), network, expected, threshold, withdrawn))
    except (RoutewatchError, OSError) as exc:
        fail(str(exc), as_json)
    _not_seen(report)
    _emit(report, as_json)


@click.command("asn")
@click.argument("asn")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option("--max-prefixes", default=200, show_default=True, type=click.IntRange(min=1),
              help="Check at most this many prefixes of the AS.")
@data_options
def check_asn(asn: str, files: tuple[str, ...], max_prefixes: int, config_path: str | None, mrt: tuple[str, ...],
              bgpstream: bool, project: str, collectors: tuple[str, ...], min_visibility: float | None,
              as_json: bool) -> None:
    """The prefixes ASN originates and how visible each is; those below the threshold are flagged."""
    try:
        number: int = _parse("AS number", parse_asn, asn)
        config = _config(config_path)
        threshold = _ratio(min_visibility)
        paths = _files(mrt, files, collectors, bgpstream)
        if paths or bgpstream:
            observation = VisibilityObservation.of_asns([number], max_prefixes)
            if paths:
                replay_files(observation, paths, bgpstream=bgpstream)
            else:
                asyncio.run(replay_bgpstream(observation, [], project=project, collectors=collectors))
            report = asn_report(observation, number, threshold, source="bgpstream" if bgpstream else "mrt")
        else:
            report = asyncio.run(ripestat_asn(_settings(config), number, threshold, max_prefixes))
    except (RoutewatchError, OSError) as exc:
        fail(str(exc), as_json)
    _emit(report, as_json)
