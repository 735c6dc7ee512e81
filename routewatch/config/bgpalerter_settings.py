"""Convert BGPalerter's ``config.yml`` (how it runs) into the matching parts of a routewatch config.

BGPalerter keeps what to watch (``prefixes.yml``, ``routewatch.config.bgpalerter_prefixes``)
apart from how to run (``config.yml``); the second carries the knobs an
on-call team tuned: how many peers make an alert, how long a withdrawal must
last, which peers not to listen to. The mapping:

======================================================  ===================================================
BGPalerter ``config.yml``                               routewatch
======================================================  ===================================================
``connectors[]`` with ``file: connectorRIS``            a ``ris-live`` source (``params.url`` unless it is
                                                        the public service's, and ``params.subscription.host``
                                                        as its ``host``)
``connectors[].params.blacklistSources``                ``bgp.exclude_peers`` (numbers are peer ASes;
                                                        addresses and prefixes kept, host bits cleared)
``monitorHijack`` ``params.thresholdMinPeers``          ``bgp.anomaly_min_peers`` (routewatch has one for
                                                        every route detection; other monitors' values
                                                        that differ are warned about)
``monitorVisibility`` ``params.thresholdMinPeers``      ``bgp.thresholds.min_baseline_peers``
``fadeOffSeconds``                                      ``bgp.thresholds.hold_down``
======================================================  ===================================================

Everything else (reports, other connectors, other monitor parameters,
``environment``, ``rest``, ``logging``...) has no routewatch equivalent and
is named in a warning. A document is recognised as a ``config.yml`` by its
keys (:func:`is_settings_file`). Pure: a parsed document in, config parts and
warnings out; ConfigError with every problem and its path otherwise.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from routewatch.config.messages import describe
from routewatch.config.sources import DEFAULT_RIS_LIVE_URL
from routewatch.config.values import parse_peer
from routewatch.errors import ConfigError

SETTINGS_KEYS = frozenset({
    "connectors", "monitors", "reports", "environment", "notificationIntervalSeconds", "persistStatus", "rest",
    "logging", "checkForUpdatesAtBoot", "generatePrefixListEveryDays", "monitoredPrefixesFiles", "rpki",
    "alertOnlyOnce", "fadeOffSeconds", "checkFadeOffGroupsSeconds", "pidFile", "maxMessagesPerSecond",
    "multiProcess", "configVersion",
})
"""Top-level keys of BGPalerter's config.yml (``config.yml.example``, ``src/config/config.js``)."""

_ANOMALY_MONITORS = ("monitorHijack", "monitorNewPrefix", "monitorPath", "monitorPathNeighbors", "monitorAS",
                     "monitorRPKI")
_WHY_NOT = {
    "reports": "routewatch exports state as Prometheus metrics; alerts are Grafana's or Alertmanager's",
    "notificationIntervalSeconds": "repeat intervals belong to Grafana or Alertmanager",
    "alertOnlyOnce": "repeat intervals belong to Grafana or Alertmanager",
    "monitoredPrefixesFiles": "the prefixes come from the prefixes.yml given to the import",
    "rpki": "configure rpki.sources (an RTR cache or a JSON VRP file)",
}


@dataclass(slots=True)
class SettingsConversion:
    """The routewatch ``bgp`` section and ``sources`` a config.yml gives, and what it could not carry."""

    bgp: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def is_settings_file(document: object) -> bool:
    """Does this parsed YAML look like BGPalerter's config.yml (and not its prefixes.yml)?"""
    return isinstance(document, Mapping) and bool(SETTINGS_KEYS & {str(key) for key in document})


def convert_settings(document: object) -> SettingsConversion:
    """Convert a parsed config.yml; ConfigError listing every problem with its path."""
    if not is_settings_file(document):
        raise ConfigError([f"(top level): expected BGPalerter's config.yml (connectors, monitors, reports, ...), "
                           f"got {describe(document)}"])
    assert isinstance(document, Mapping)
    found = SettingsConversion()
    for key, value in document.items():
        if key == "connectors":
            _connectors(value, found)
        elif key == "monitors":
            _monitors(value, found)
        elif key == "fadeOffSeconds":
            _fade_off(value, found)
        else:
            found.warnings.append(unmapped(str(key), value, _WHY_NOT.get(str(key))))
    if found.problems:
        raise ConfigError(found.problems)
    return found


def _entries(where: str, value: object, found: SettingsConversion) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The plugin entries of ``connectors``/``monitors`` (mappings, each with a ``file``), in order with the
    problems of those that are not."""
    if value is None:
        return
    if not isinstance(value, list):
        found.problems.append(f"{where}: expected a list of {{file, name, params}} entries, got {describe(value)}")
        return
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("file"), str):
            found.problems.append(f"{at}: expected a mapping with a file (e.g. file: connectorRIS), "
                                  f"got {describe(entry)}")
            continue
        params = entry.get("params")
        if params is not None and not isinstance(params, Mapping):
            found.problems.append(f"{at}.params: expected a mapping, got {describe(params)}")
            continue
        yield at, entry


def _connectors(value: object, found: SettingsConversion) -> None:
    for at, entry in _entries("connectors", value, found):
        params = entry.get("params") or {}
        if "blacklistSources" in params:
            _blacklist(f"{at}.params.blacklistSources", params["blacklistSources"], found)
        if entry["file"] != "connectorRIS":
            found.warnings.append(unmapped(at, dict(entry), "routewatch has no such source; see sources[] types"))
            continue
        source: dict[str, Any] = {"type": "ris-live"}
        if entry.get("name"):
            source["name"] = str(entry["name"])
        _url(at, params.get("url"), source, found)
        subscription = params.get("subscription") or {}
        if isinstance(subscription, Mapping):
            host = subscription.get("host")
            if isinstance(host, str) and host:
                source["host"] = host
            for key, setting in subscription.items():
                if key != "host":
                    found.warnings.append(unmapped(f"{at}.params.subscription.{key}", setting,
                                                   "routewatch subscribes to what it watches itself"))
        for key, setting in params.items():
            if key not in ("url", "subscription", "blacklistSources"):
                found.warnings.append(unmapped(f"{at}.params.{key}", setting, None))
        if any(s.get("name", "ris-live") == source.get("name", "ris-live") for s in found.sources):
            found.warnings.append(f"{at}: a second RIS connector named like an earlier one; not imported")
            continue
        found.sources.append(source)


def _url(at: str, url: object, source: dict[str, Any], found: SettingsConversion) -> None:
    """The connector's URL; the public RIS Live service's is left to routewatch's default (TLS, client name)."""
    if url is None:
        return
    if not isinstance(url, str) or not url.strip():
        found.problems.append(f"{at}.params.url: expected a websocket URL, got {describe(url)}")
    elif urlsplit(url.strip()).hostname == urlsplit(DEFAULT_RIS_LIVE_URL).hostname:
        found.warnings.append(f"{at}.params.url: the public RIS Live service; routewatch's default URL "
                              f"{DEFAULT_RIS_LIVE_URL} is used (was: {url})")
    else:
        source["url"] = url.strip()


def _blacklist(where: str, value: object, found: SettingsConversion) -> None:
    """``blacklistSources``: integers are peer ASes, strings peer addresses or prefixes (BGPalerter's reading)."""
    if value is None:
        return
    if not isinstance(value, list):
        found.problems.append(f"{where}: expected a list of peer ASes, addresses and prefixes, got {describe(value)}")
        return
    peers: list[str] = found.bgp.setdefault("exclude_peers", [])
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, str) and "/" in text:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                pass
            else:
                if str(network) != text:
                    found.warnings.append(f"{at}: host bits set; imported as {network}")
                text = str(network)
        try:
            peer = parse_peer(text)
        except ValueError as exc:
            found.problems.append(f"{at}: {exc}")
            continue
        if peer not in peers:
            peers.append(peer)
    if not peers:
        del found.bgp["exclude_peers"]


def _threshold(where: str, params: Mapping[str, Any], found: SettingsConversion) -> int | None:
    value = params.get("thresholdMinPeers")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        found.problems.append(f"{where}.params.thresholdMinPeers: expected a whole number of peers, "
                              f"got {describe(value)}")
        return None
    return max(value, 1)  # BGPalerter alerts on 0 as on 1: a detection needs one peer


def _monitors(value: object, found: SettingsConversion) -> None:
    anomaly: list[tuple[str, str, int]] = []  # (where, monitor file, peers)
    for at, entry in _entries("monitors", value, found):
        monitor = str(entry["file"])
        params = entry.get("params") or {}
        peers = _threshold(at, params, found)
        if peers is not None and monitor == "monitorVisibility":
            found.bgp.setdefault("thresholds", {})["min_baseline_peers"] = peers
            found.warnings.append(
                f"{at}.params.thresholdMinPeers: imported as bgp.thresholds.min_baseline_peers: {peers}; routewatch "
                f"judges the share of a prefix's baseline peers that lost it (bgp.thresholds.withdrawn_ratio), and "
                f"reports a prefix with fewer baseline peers as insufficient-baseline, as BGPalerter could never "
                f"alert on it"
            )
        elif peers is not None and monitor in _ANOMALY_MONITORS:
            anomaly.append((at, monitor, peers))
        elif peers is not None:
            found.warnings.append(unmapped(f"{at}.params.thresholdMinPeers", peers, None))
        for key, setting in params.items():
            if key != "thresholdMinPeers":
                found.warnings.append(unmapped(f"{at}.params.{key}", setting, None))
        for key, setting in entry.items():
            if key not in ("file", "params", "name", "channel"):
                found.warnings.append(unmapped(f"{at}.{key}", setting, None))
    _anomaly_min_peers(anomaly, found)


def _anomaly_min_peers(anomaly: list[tuple[str, str, int]], found: SettingsConversion) -> None:
    """One routewatch value for every route detection: the hijack monitor's, else the first one given."""
    if not anomaly:
        return
    chosen = next((item for item in anomaly if item[1] == "monitorHijack"), anomaly[0])
    found.bgp["anomaly_min_peers"] = chosen[2]
    for at, monitor, peers in anomaly:
        if peers != chosen[2]:
            found.warnings.append(
                f"{at}.params.thresholdMinPeers: not imported ({monitor} wants {peers} peer(s); routewatch has one "
                f"bgp.anomaly_min_peers for every route detection, set to {chosen[2]} from {chosen[1]})"
            )


def _fade_off(value: object, found: SettingsConversion) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        found.problems.append(f"fadeOffSeconds: expected a positive number of seconds, got {describe(value)}")
        return
    found.bgp.setdefault("thresholds", {})["hold_down"] = value


def unmapped(where: str, value: object, reason: str | None) -> str:
    """The warning for a key that is not carried over: where, why, and what it was."""
    dumped = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000)
    shown = dumped.strip().removesuffix("...").strip()
    if len(shown) > 120:
        shown = shown[:117] + "..."
    why = reason or "not a key routewatch knows how to import"
    return f"{where}: not imported ({why}); was: {shown}"
