"""Convert BGPalerter's ``prefixes.yml`` (what it watches) into routewatch's ``prefixes`` and ``asns``.

BGPalerter users can switch without rewriting their watch list. The file is a
mapping of prefix -> settings, plus an ``options`` key (``monitorASns``, and
``generate``: the parameters its ``generate`` command used). The mapping:

=========================  ==========================================================
BGPalerter                 routewatch
=========================  ==========================================================
``<prefix>:``              ``prefixes[].prefix`` (host bits cleared, with a warning)
``description``            ``prefixes[].description``
``asn`` (int or list)      ``prefixes[].asn``
``ignoreMorespecifics``    ``prefixes[].ignore_more_specifics``
``group`` (str or list)    ``prefixes[].group`` (one group; extra ones are warned about)
``ignore: true``           not watched (warning naming the prefix)
``path`` (one or a list)   ``prefixes[].path`` (match, not_match, description from
                           ``matchDescription``, min_length, max_length)
``options.monitorASns``    ``asns[]`` with ``new_prefixes: true``: BGPalerter alerts on
                           a prefix of the AS nobody listed (``group`` kept)
``upstreams``              ``asns[].upstreams`` (empty or null: none allowed)
``downstreams``            ``asns[].downstreams`` (empty or null: none allowed)
=========================  ==========================================================

Everything else (``excludeMonitors``, ``includeMonitors``, ``valid``,
``options.generate``, unknown keys) has no routewatch equivalent and is named
in a warning. A file that is not a BGPalerter prefixes file at all is a
ConfigError listing why. Pure: a parsed document in, config entries and
warnings out; ``routewatch.config.bgpalerter`` puts them together with the
``config.yml``'s.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routewatch.config.bgpalerter_settings import is_settings_file, unmapped
from routewatch.config.messages import describe
from routewatch.config.values import parse_config_asn
from routewatch.errors import ConfigError
from routewatch.model import Prefix, ZoneIndexError

_NO_EQUIVALENT = {
    "excludeMonitors": "routewatch runs every detection on every watched prefix",
    "includeMonitors": "routewatch runs every detection on every watched prefix",
    "valid": "the RPKI validity BGPalerter's generate recorded is not used by routewatch",
}
_NEIGHBOUR_KEYS = ("upstreams", "downstreams")


@dataclass(slots=True)
class PrefixesConversion:
    """The watch list converted: prefix and AS entries as config dicts, the ignored prefixes, and what was
    said about them (``problems`` make the file unusable, ``warnings`` do not)."""

    prefixes: list[dict[str, Any]]
    ignored: list[tuple[str, Prefix]]
    asns: list[dict[str, Any]]
    warnings: list[str]
    problems: list[str]


def convert_prefixes(document: object, settings: object) -> PrefixesConversion:
    """The prefixes.yml's entries, checked; ConfigError with every problem.

    ``settings`` (the config.yml, if given) only tells a config.yml given in the prefixes.yml's place.
    """
    if is_settings_file(document) and not is_settings_file(settings):
        raise ConfigError(["(top level): this is BGPalerter's config.yml (how it runs), not its prefixes.yml (what "
                           "to watch); give the prefixes.yml, and this file with --config-yml"])
    if document is None:
        raise ConfigError(["(top level): the file is empty; a BGPalerter prefixes.yml maps prefixes to settings"])
    if not isinstance(document, Mapping):
        raise ConfigError(
            [f"(top level): expected a mapping of prefixes to settings (BGPalerter's prefixes.yml), "
             f"got {describe(document)}"]
        )
    found = PrefixesConversion([], [], [], [], [])
    for key, entry in document.items():
        if key == "options":
            _options(entry, found)
        else:
            _prefix_entry(key, entry, found)
    if not found.problems and not found.prefixes and not found.ignored and not found.asns:
        found.problems.append("(top level): no prefixes to monitor and no options.monitorASns")
    if found.problems:
        if any(key in document for key in ("prefixes", "asns", "zones", "sources")):
            found.problems.append("(top level): this looks like a routewatch config already, not a BGPalerter file")
        raise ConfigError(found.problems)
    _warn_about_ignored(found)
    return found


def _prefix_entry(key: object, entry: object, found: PrefixesConversion) -> None:
    name = str(key)
    prefix = _parse_prefix(name, found)
    if prefix is None:
        return
    if not isinstance(entry, Mapping):
        found.problems.append(f"{name}: expected a mapping of settings (asn, description, ...), got {describe(entry)}")
        return
    asns = _parse_asns(name, entry.get("asn"), found)
    description = entry.get("description", "")
    if not isinstance(description, str | int | float) or isinstance(description, bool):
        found.problems.append(f"{name}.description: expected a string, got {describe(description)}")
    for flag in ("ignoreMorespecifics", "ignore"):
        if flag in entry and not isinstance(entry[flag], bool):
            found.problems.append(f"{name}.{flag}: expected true or false, got {describe(entry[flag])}")
    group = _parse_group(f"{name}.group", entry.get("group", "default"), found)
    rules = _path_rules(f"{name}.path", entry.get("path"), found)
    for extra in entry:
        if extra not in ("asn", "description", "ignoreMorespecifics", "ignore", "group", "path"):
            found.warnings.append(unmapped(f"{name}.{extra}", entry[extra], _NO_EQUIVALENT.get(str(extra))))
    if asns is None or group is None or found.problems:
        return
    if _already_listed(name, prefix, found):
        return
    if entry.get("ignore") is True:
        found.ignored.append((name, prefix))
        return
    watch: dict[str, Any] = {"prefix": str(prefix), "asn": asns[0] if len(asns) == 1 else list(asns)}
    watch["description"] = str(description)
    if group != "default":
        watch["group"] = group
    watch["ignore_more_specifics"] = entry.get("ignoreMorespecifics", False)
    if rules:
        watch["path"] = rules
    found.prefixes.append(watch)


_PATH_KEYS = {"match": "match", "notMatch": "not_match", "matchDescription": "description",
              "minLength": "min_length", "maxLength": "max_length"}


def _path_rules(where: str, value: object, found: PrefixesConversion) -> list[dict[str, Any]]:
    """BGPalerter's ``path`` (one rule or a list of them) as routewatch path rules."""
    if value is None:
        return []
    rules: list[dict[str, Any]] = []
    for i, rule in enumerate(value if isinstance(value, list) else [value]):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        if not isinstance(rule, Mapping):
            found.problems.append(f"{at}: expected a mapping (match, notMatch, matchDescription, ...), "
                                  f"got {describe(rule)}")
            continue
        converted: dict[str, Any] = {}
        for key, setting in rule.items():
            target = _PATH_KEYS.get(str(key))
            if target is None:
                found.warnings.append(unmapped(f"{at}.{key}", setting, None))
            elif target in ("match", "not_match") and not _is_regex(setting):
                found.problems.append(f"{at}.{key}: not a regular expression: {describe(setting)}")
            elif target.endswith("_length") and (not isinstance(setting, int) or isinstance(setting, bool)
                                                 or setting < 1):
                found.problems.append(f"{at}.{key}: expected a positive integer, got {describe(setting)}")
            else:
                converted[target] = str(setting) if target == "description" else setting
        if converted:
            rules.append(converted)
    return rules


def _is_regex(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _parse_prefix(name: str, found: PrefixesConversion) -> Prefix | None:
    if "%" in name:
        found.problems.append(str(ZoneIndexError(name.strip())))
        return None
    try:
        strict = ipaddress.ip_network(name.strip(), strict=True)
    except ValueError:
        pass
    else:
        return strict
    try:
        loose = ipaddress.ip_network(name.strip(), strict=False)
    except ValueError:
        found.problems.append(f"{name!r}: neither a prefix nor 'options'")
        return None
    found.warnings.append(f"{name}: host bits set; imported as {loose}")
    return loose


def _parse_asns(name: str, value: object, found: PrefixesConversion) -> tuple[int, ...] | None:
    if value is None:
        found.problems.append(f"{name}.asn: required (the expected origin AS, a number or a list)")
        return None
    items = value if isinstance(value, list) else [value]
    asns: list[int] = []
    for item in items:
        try:
            asn = parse_config_asn(item)
        except ValueError as exc:
            found.problems.append(f"{name}.asn: {exc}")
            return None
        if asn in asns:
            found.warnings.append(f"{name}.asn: AS{asn} is listed twice; imported once")
        else:
            asns.append(asn)
    if not asns:
        found.problems.append(f"{name}.asn: the list is empty; at least one origin AS is needed")
        return None
    return tuple(asns)


def _parse_group(where: str, value: object, found: PrefixesConversion) -> str | None:
    """BGPalerter allows a list of groups; routewatch has one label per prefix."""
    groups = value if isinstance(value, list) else [value]
    if not groups or not all(isinstance(group, str) and group for group in groups):
        found.problems.append(f"{where}: expected a group name or a list of them, got {describe(value)}")
        return None
    if len(groups) > 1:
        rest = ", ".join(str(group) for group in groups[1:])
        found.warnings.append(
            f"{where}: routewatch keeps one group per entry; imported {groups[0]!r}, not imported: {rest}"
        )
    return str(groups[0])


def _already_listed(name: str, prefix: Prefix, found: PrefixesConversion) -> bool:
    earlier = [entry["prefix"] for entry in found.prefixes] + [str(p) for _, p in found.ignored]
    if str(prefix) in earlier:
        found.warnings.append(f"{name}: the same prefix as an earlier entry once host bits are cleared; not imported")
        return True
    return False


def _options(options: object, found: PrefixesConversion) -> None:
    if options is None:
        return
    if not isinstance(options, Mapping):
        found.problems.append(f"options: expected a mapping (monitorASns, generate), got {describe(options)}")
        return
    for key, value in options.items():
        if key == "monitorASns":
            _monitor_asns(value, found)
        elif key == "generate":
            found.warnings.append(
                unmapped(
                    "options.generate", value, "these are the parameters BGPalerter's generate command used; "
                    "routewatch discovers an AS's prefixes itself from asns[] entries",
                )
            )
        else:
            found.warnings.append(unmapped(f"options.{key}", value, None))


def _monitor_asns(value: object, found: PrefixesConversion) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        expected = "expected a mapping of AS number to settings"
        found.problems.append(f"options.monitorASns: {expected}, got {describe(value)}")
        return
    for key, settings in value.items():
        where = f"options.monitorASns.{key}"
        try:
            asn = parse_config_asn(key)
        except ValueError as exc:
            found.problems.append(f"{where}: {exc}")
            continue
        if settings is not None and not isinstance(settings, Mapping):
            expected = "expected a mapping (group, upstreams, downstreams)"
            found.problems.append(f"{where}: {expected}, got {describe(settings)}")
            continue
        settings = settings or {}
        group = _parse_group(f"{where}.group", settings.get("group", "default"), found)
        neighbours: dict[str, list[int]] = {}
        for extra in settings:
            if extra in _NEIGHBOUR_KEYS:
                listed = _neighbour_list(f"{where}.{extra}", settings[extra], found)
                if listed is not None:
                    neighbours[str(extra)] = listed
            elif extra != "group":
                found.warnings.append(unmapped(f"{where}.{extra}", settings[extra], None))
        if group is None:
            continue
        if any(entry["asn"] == asn for entry in found.asns):
            found.warnings.append(f"{where}: AS{asn} is listed twice; imported once")
            continue
        watch: dict[str, Any] = {"asn": asn}
        if group != "default":
            watch["group"] = group
        found.asns.append({**watch, **neighbours, "new_prefixes": True})


def _neighbour_list(where: str, value: object, found: PrefixesConversion) -> list[int] | None:
    """``upstreams``/``downstreams``: a list of AS numbers; empty or null allows none (BGPalerter's meaning)."""
    if value is None:
        return []
    if not isinstance(value, list):
        found.problems.append(f"{where}: expected a list of AS numbers, got {describe(value)}")
        return None
    asns: list[int] = []
    for item in value:
        try:
            asns.append(parse_config_asn(item))
        except ValueError as exc:
            found.problems.append(f"{where}: {exc}")
            return None
    return asns


def _warn_about_ignored(found: PrefixesConversion) -> None:
    """``ignore: true`` excluded a sub-prefix in BGPalerter; say where routewatch will still see it."""
    watched = [(ipaddress.ip_network(entry["prefix"]), entry) for entry in found.prefixes]
    for name, prefix in found.ignored:
        covering = [
            (net, entry)
            for net, entry in watched
            if net.version == prefix.version and net != prefix and prefix.subnet_of(net)  # type: ignore[arg-type]
        ]
        text = f"{name}: not watched (ignore: true)"
        if covering:
            net, entry = max(covering, key=lambda item: item[0].prefixlen)
            text += (
                f"; it lies inside watched {net}, where routewatch still reports it if another AS originates it"
                + ("" if entry["ignore_more_specifics"] else ", or as a more-specific")
            )
        found.warnings.append(text)
