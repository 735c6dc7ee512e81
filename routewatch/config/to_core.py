"""The core built from a configuration: the one place that turns the schema into the core's plain values.

The core (``routewatch.core``) never imports the configuration schema, so it
can be driven by tests, tools and the daemon alike from frozen dataclasses;
this module is the bridge the daemon, the CLI and the tools go through.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TypeVar, overload

from routewatch.config.schema import Config, PathRuleSettings, PrefixWatch, Thresholds
from routewatch.core.engine import Engine
from routewatch.core.path_policy import PathPolicies, PathPolicy, PathRule
from routewatch.core.peer_filter import PeerFilter
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import Address, Prefix

EngineT = TypeVar("EngineT", bound=Engine)


def withdrawal_thresholds(thresholds: Thresholds) -> WithdrawalThresholds:
    return WithdrawalThresholds(
        withdrawn_ratio=thresholds.withdrawn_ratio,
        recovered_ratio=thresholds.recovered_ratio,
        hold_down=thresholds.hold_down,
        min_baseline_peers=thresholds.min_baseline_peers,
    )


def core_settings(config: Config) -> CoreSettings:
    bgp = config.bgp
    return CoreSettings(
        baseline_window=bgp.baseline_window,
        baseline_min_hold=bgp.baseline_min_hold,
        peer_settle=bgp.peer_settle,
        anomaly_min_peers=bgp.anomaly_min_peers,
        max_more_specifics=config.limits.max_more_specifics,
        rpki=bool(config.rpki.sources),
        rpki_expiry_warning=config.rpki.expiry_warning,
        paths=path_policies(config),
        exclude=peer_filter(bgp.exclude_peers, bgp.exclude_collectors),
    )


def peer_filter(peers: Iterable[str], collectors: Iterable[str] = ()) -> PeerFilter:
    """The configured peers (``AS<n>``, addresses, networks: as the schema made them) and collectors as a filter."""
    peers = list(peers)
    asns = frozenset(int(p[2:]) for p in peers if p.startswith("AS"))
    networks = tuple(ipaddress.ip_network(p) for p in peers if not p.startswith("AS"))
    return PeerFilter(networks, asns, frozenset(collectors))


def prefix_exclusions(config: Config) -> dict[Prefix, PeerFilter]:
    """Each configured prefix's own peer exclusions together with those of the configured prefixes covering it."""
    own = [(p.prefix, peer_filter(p.exclude_peers)) for p in config.prefixes if p.exclude_peers]
    found: dict[Prefix, PeerFilter] = {}
    for watch in config.prefixes:
        inherited = PeerFilter()
        for prefix, rules in own:
            if _within(watch, prefix):
                inherited = inherited.union(rules)
        if inherited:
            found[watch.prefix] = inherited
    return found


def _within(watch: PrefixWatch, prefix: Prefix) -> bool:
    inner = watch.prefix
    return inner.version == prefix.version and inner.subnet_of(prefix)  # type: ignore[arg-type]


def _optional(asns: tuple[int, ...] | None) -> frozenset[int] | None:
    return None if asns is None else frozenset(asns)


def path_rule(rule: PathRuleSettings) -> PathRule:
    return PathRule(
        match=re.compile(rule.match) if rule.match is not None else None,
        not_match=re.compile(rule.not_match) if rule.not_match is not None else None,
        min_length=rule.min_length, max_length=rule.max_length, description=rule.description,
    )


def path_policies(config: Config) -> PathPolicies:
    """The neighbour and path policies of the configured prefixes and watched ASes (only those that set one)."""
    by_prefix = {
        p.prefix: PathPolicy(_optional(p.upstreams), rules=tuple(map(path_rule, p.path)))
        for p in config.prefixes if p.upstreams is not None or p.path
    }
    by_asn = {
        a.asn: PathPolicy(_optional(a.upstreams), _optional(a.downstreams), new_prefixes=a.new_prefixes)
        for a in config.asns if a.upstreams is not None or a.downstreams is not None or a.new_prefixes
    }
    return PathPolicies(by_prefix, by_asn)


def watch_set(config: Config) -> WatchSet:
    """The configured prefixes, watched ASNs and the zones' nameserver addresses and service prefixes."""
    default = withdrawal_thresholds(config.bgp.thresholds)
    excluded = prefix_exclusions(config)
    watches = [
        WatchedPrefix(
            prefix=p.prefix,
            origins=frozenset(p.asn),
            thresholds=withdrawal_thresholds(config.thresholds_for(p)),
            description=p.description,
            group=p.group,
            ignore_more_specifics=p.ignore_more_specifics,
            exclude=excluded.get(p.prefix),
        )
        for p in config.prefixes
    ]
    watch = WatchSet(
        watches,
        asns={a.asn: a.max_prefixes for a in config.asns},
        asn_thresholds=default,
        asn_ignore_more_specifics=frozenset(a.asn for a in config.asns if a.ignore_more_specifics),
        carriers={a.asn: frozenset(a.downstreams or ()) for a in config.asns if a.downstreams is not None},
    )
    for zone in config.zones:
        for address, service in zone.service_prefixes.items():
            watch.add_address(ipaddress.ip_address(address))
            for prefix in service:
                watch.add_service_prefix(prefix, frozenset(), zone.zone, zone.watch_nameserver_prefixes, default)
    return watch


def service_prefixes(config: Config) -> dict[Address, tuple[Prefix, ...]]:
    """The service prefixes each configured nameserver address is designated."""
    return {
        ipaddress.ip_address(address): tuple(prefixes)
        for zone in config.zones for address, prefixes in zone.service_prefixes.items()
    }


@overload
def build_engine(config: Config, *, bootstrapped: bool = True) -> Engine: ...


@overload
def build_engine(config: Config, *, bootstrapped: bool = True, kind: type[EngineT]) -> EngineT: ...


def build_engine(config: Config, *, bootstrapped: bool = True, kind: type[Engine] = Engine) -> Engine:
    """An engine (or a subclass of it, ``kind``) watching what ``config`` says, with its settings."""
    return kind(watch_set(config), core_settings(config), bootstrapped=bootstrapped,
                service_prefixes=service_prefixes(config))
