"""Convert BGPalerter's ``prefixes.yml`` (and its ``config.yml``) into a routewatch config, losing nothing silently.

BGPalerter keeps what to watch (``prefixes.yml``) apart from how to run
(``config.yml``); each has its module, with its mapping:
``routewatch.config.bgpalerter_prefixes`` gives the ``prefixes`` and
``asns``, ``routewatch.config.bgpalerter_settings`` the ``bgp`` section and
the sources. This one puts them together, reports the problems of both files
at once, and checks the result against the schema. The conversion is pure: a
parsed YAML document in, a config dict and warnings out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from routewatch.config.bgpalerter_prefixes import convert_prefixes
from routewatch.config.bgpalerter_settings import SettingsConversion, convert_settings
from routewatch.config.schema import AsnWatch, Limits, parse_config
from routewatch.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Conversion:
    """A routewatch config (as a plain dict, ready for YAML) and what could not be carried over."""

    config: dict[str, Any]
    warnings: tuple[str, ...]


def convert(document: object, settings: object = None) -> Conversion:
    """Convert a parsed BGPalerter prefixes.yml, and its config.yml if given; ConfigError if they are not those.

    The problems of both files are reported together, the config.yml's after
    a ``config.yml:`` prefix, so that each names its file.
    """
    tuned, settings_problems = _settings(settings)
    try:
        found = convert_prefixes(document, settings)
    except ConfigError as exc:
        raise ConfigError([*exc.problems, *settings_problems]) from None
    if settings_problems:
        raise ConfigError(settings_problems)
    config: dict[str, Any] = {"prefixes": found.prefixes}
    if found.asns:
        config["asns"] = found.asns
    config["sources"] = [{"type": "ris-live"}]
    if tuned is not None:
        if tuned.bgp:
            config["bgp"] = tuned.bgp
        if tuned.sources:
            config["sources"] = tuned.sources
        else:
            found.warnings.append("config.yml: no connectorRIS; a ris-live source with routewatch's defaults is "
                                  "configured")
        found.warnings.extend(f"config.yml: {warning}" for warning in tuned.warnings)
    _fit_limits(config, found.warnings)
    try:
        parse_config(config)
    except ConfigError as exc:  # every input problem is caught above, so this is a bug here
        raise ConfigError(["the converted config does not validate (please report this):", *exc.problems]) from None
    return Conversion(config, tuple(found.warnings))


def _settings(settings: object) -> tuple[SettingsConversion | None, list[str]]:
    """The config.yml converted, or its problems (each after ``config.yml:``)."""
    if settings is None:
        return None, []
    try:
        return convert_settings(settings), []
    except ConfigError as exc:
        return None, [f"config.yml: {problem}" for problem in exc.problems]


def _fit_limits(config: dict[str, Any], warnings: list[str]) -> None:
    per_asn = AsnWatch.model_fields["max_prefixes"].default
    default_cap = Limits.model_fields["max_watched_prefixes"].default
    series = len(config["prefixes"]) + per_asn * len(config.get("asns", []))
    if series > default_cap:
        config["limits"] = {"max_watched_prefixes": series}
        warnings.append(
            f"limits.max_watched_prefixes: set to {series} (default {default_cap}) so that "
            f"{len(config['prefixes'])} prefixes and {per_asn} per watched AS fit"
        )


def render(conversion: Conversion, source: str) -> str:
    """The config as YAML, with a header saying where it came from and what was left out."""
    lines = [
        f"# routewatch config converted from BGPalerter's {source}",
        "# by `routewatch config import-bgpalerter`. BGPalerter's RIS Live connector",
        "# became the ris-live source below.",
    ]
    if conversion.warnings:
        lines.append("#")
        lines.append("# Not carried over, or changed on the way:")
        lines.extend(f"#   - {warning}" for warning in conversion.warnings)
    body = yaml.safe_dump(conversion.config, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n\n" + body
