"""Load and validate routewatch's YAML configuration; every default lives here.

Validation reports every problem at once, each with its path
(``prefixes[3].asn: ...``), because an operator fixing a config file one error
per run is an operator who stops using the tool. Unknown keys are errors: a
misspelt ``ignore_more_specific`` must not silently watch more-specifics. Types
are strict (YAML already types its scalars): ``hold_down: "60"`` is a mistake to
report, not a string to guess at. Each field's description is the reference
documentation (``docs/configuration.md`` is generated from it).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from routewatch.config.dns_queries import MAX_QUERIES_PER_ZONE, ZoneQuery
from routewatch.config.messages import describe, problem_lines
from routewatch.config.rpki import JsonVrpSourceConfig, RpkiSettings, RtrVrpSource
from routewatch.config.shards import asn_key, owner, prefix_key, zone_key
from routewatch.config.sources import (
    DEFAULT_RIS_LIVE_URL,
    SOURCE_TYPES,
    BgpStreamSource,
    MrtSource,
    RisLiveSource,
    Section,
    SourceConfig,
)
from routewatch.config.values import (
    AddressField,
    AsnField,
    AsnListField,
    Name,
    PeerField,
    PrefixField,
    Ratio,
    Seconds,
    ZoneField,
    parse_config_asn,
    parse_config_prefix,
    parse_zone_name,
)
from routewatch.config.yamlfile import read_yaml
from routewatch.errors import ConfigError

__all__ = [
    "DEFAULT_RIS_LIVE_URL", "SOURCE_TYPES", "BgpStreamSource", "MrtSource", "RisLiveSource", "Section",
    "SourceConfig", "Config", "load_config", "parse_config", "JsonVrpSourceConfig", "RpkiSettings", "RtrVrpSource",
]

DEFAULT_EXPORTER_PORT = 9724

def _check_hysteresis(withdrawn: float | None, recovered: float | None) -> None:
    if withdrawn is not None and recovered is not None and recovered <= withdrawn:
        raise ValueError(
            f"must be above withdrawn_ratio ({withdrawn}), got {recovered} "
            "(without that gap a prefix at the threshold would flap)"
        )


class Thresholds(Section):
    """When a watched prefix counts as withdrawn, and when as recovered."""

    withdrawn_ratio: Ratio = Field(
        default=0.5, description="Withdrawn when visible peers / baseline peers falls below this ratio."
    )
    recovered_ratio: Ratio = Field(
        default=0.8, description="Recovered when the ratio is back above this; must be above `withdrawn_ratio`."
    )
    hold_down: Seconds = Field(
        default=60.0, description="Seconds (of data time) the ratio must stay low before a withdrawal opens."
    )
    min_baseline_peers: Annotated[int, Field(ge=1)] = Field(
        default=3, description="Fewer baseline peers than this is reported as `insufficient-baseline`, not judged."
    )

    @field_validator("recovered_ratio")
    @classmethod
    def _hysteresis(cls, recovered: float, info: ValidationInfo) -> float:
        _check_hysteresis(info.data.get("withdrawn_ratio"), recovered)
        return recovered


class ThresholdOverrides(Section):
    """Per-prefix overrides; a missing key takes the ``bgp.thresholds`` default."""

    withdrawn_ratio: Ratio | None = Field(default=None, description="Overrides `bgp.thresholds.withdrawn_ratio`.")
    recovered_ratio: Ratio | None = Field(default=None, description="Overrides `bgp.thresholds.recovered_ratio`.")
    hold_down: Seconds | None = Field(default=None, description="Overrides `bgp.thresholds.hold_down`.")
    min_baseline_peers: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Overrides `bgp.thresholds.min_baseline_peers`."
    )

    @field_validator("recovered_ratio")
    @classmethod
    def _hysteresis(cls, recovered: float | None, info: ValidationInfo) -> float | None:
        _check_hysteresis(info.data.get("withdrawn_ratio"), recovered)
        return recovered

    def over(self, defaults: Thresholds) -> Thresholds:
        """The thresholds in force: these overrides on top of ``defaults`` (re-validated together)."""
        merged = defaults.model_dump() | self.model_dump(exclude_none=True)
        return Thresholds(**merged)


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
    return value


class PathRuleSettings(Section):
    """A rule over the AS path (BGPalerter's `path`): a route triggers it when its path matches `match`, does
    not match `not_match`, and, where a length bound is given, breaks it."""

    match: str | None = Field(
        default=None, description="Regular expression over the path as AS numbers, `1 2 3` (or `1,2,3` when the "
        "expression has commas, as BGPalerter writes them)."
    )
    not_match: str | None = Field(default=None, description="Regular expression the path must not match.")
    min_length: Annotated[int, Field(ge=1)] | None = Field(default=None, description="Shorter paths trigger.")
    max_length: Annotated[int, Field(ge=1)] | None = Field(default=None, description="Longer paths trigger.")
    description: str = Field(default="", description="What a triggered rule means, shown in the detection.")

    _check_match = field_validator("match", "not_match")(_regex)


class PrefixWatch(Section):
    """A prefix to watch and the origin AS(es) expected to announce it."""

    prefix: PrefixField = Field(description="The prefix, without host bits (`192.0.2.0/24`, `2001:db8::/32`).")
    asn: AsnListField = Field(
        min_length=1,
        description="Expected origin AS: `32934`, `\"AS32934\"` or a list of them (e.g. a scrubbing provider).",
    )
    description: str = Field(default="", description="Free text shown with detections, e.g. what the prefix serves.")
    group: Name = Field(default="default", description="A label to route alerts by (team, customer).")
    ignore_more_specifics: bool = Field(
        default=False, description="Do not report more-specifics of this prefix announced by an expected origin."
    )
    thresholds: ThresholdOverrides = Field(
        default=ThresholdOverrides(), description="Per-prefix overrides of `bgp.thresholds`."
    )
    upstreams: AsnListField | None = Field(
        default=None, description="ASes allowed directly left of the origin; another is a `neighbor` detection "
        "(a forged origin, a new upstream). Unset = not checked; `[]` = none allowed."
    )
    path: list[PathRuleSettings] = Field(default=[], description="Path rules; a route triggering one is a `path` "
                                         "detection.")
    exclude_peers: list[PeerField] = Field(
        default=[], description="Peers that count for nothing at this prefix and its more-specifics (as "
        "`bgp.exclude_peers`, which applies everywhere besides). A watched prefix inside this one inherits them."
    )


class AsnWatch(Section):
    """An AS whose originated prefixes are discovered in the data and watched."""

    asn: AsnField = Field(description="The AS number: `32934` or `\"AS32934\"`.")
    description: str = Field(default="", description="Free text shown with detections.")
    group: Name = Field(default="default", description="A label to route alerts by (team, customer).")
    max_prefixes: Annotated[int, Field(ge=1)] = Field(
        default=200, description="At most this many discovered prefixes are tracked; more are counted, not tracked. "
        "With `downstreams` declared, as many again of the prefixes this AS carries through an undeclared one."
    )
    ignore_more_specifics: bool = Field(
        default=False, description="Do not report more-specifics of discovered prefixes originated by this AS."
    )
    upstreams: AsnListField | None = Field(
        default=None, description="ASes allowed directly left of this AS wherever it appears in a path of a "
        "watched prefix; another is a `neighbor` detection. Unset = not checked; `[]` = none allowed."
    )
    downstreams: AsnListField | None = Field(
        default=None, description="ASes allowed directly right of this AS in a path (its customers); another is a "
        "`neighbor` detection (a leak through an undeclared customer). Any prefix this AS is seen carrying "
        "through another AS is watched from then on (at most `max_prefixes` of them, beside its own), so a "
        "customer's leaked route is seen though nobody listed the customer's prefix; with a `ris-live` source "
        "this is a subscription to every path through this AS (see \"What a path subscription costs\"). Unset = "
        "not checked; `[]` = none allowed (a stub network)."
    )
    new_prefixes: bool = Field(
        default=False, description="A prefix this AS originates that no `prefixes[]` entry lists is a `new-prefix` "
        "detection (BGPalerter's monitorASns), not only watched."
    )

    @property
    def discovered_cap(self) -> int:
        """The most prefixes this entry can add: its own, and as many carried ones when it declares downstreams."""
        return self.max_prefixes * (2 if self.downstreams is not None else 1)


class ZoneWatch(Section):
    """A DNS zone whose nameservers are probed and whose routes are watched."""

    zone: ZoneField = Field(description="The zone name, e.g. `facebook.com` (stored lower-case, with a final dot).")
    description: str = Field(default="", description="Free text shown with detections.")
    watch_nameserver_prefixes: bool = Field(
        default=True, description="Also watch the routes of every nameserver address (longest-prefix match per peer)."
    )
    service_prefixes: dict[AddressField, list[PrefixField]] = Field(
        default={},
        description="Nameserver address -> the prefixes meant to serve it; unset, the prefixes seen "
        "covering it in the baseline are used.",
    )
    parent_servers: list[AddressField] = Field(
        default=[], description="Addresses of the parent zone's servers to ask for the delegation; empty = discover."
    )
    nameservers: list[ZoneField] = Field(
        default=[], description="Nameserver names to probe in addition to those the delegation lists."
    )
    must_be_signed: bool = Field(
        default=False, description="The zone must be DNSSEC-signed: with no DS at the parent its DNSSEC state is "
        "`unsigned`, a failure, instead of `insecure` (a DS removed at the registrar, a signer switched off). "
        "Needs `dns.dnssec.enabled`.",
    )
    queries: list[ZoneQuery] = Field(
        default=[], max_length=MAX_QUERIES_PER_ZONE,
        description="Extra queries asked of every nameserver address (see `zones[].queries[]`); "
        f"at most {MAX_QUERIES_PER_ZONE}, with distinct name and type.",
    )

    @field_validator("queries")
    @classmethod
    def _distinct_queries(cls, queries: list[ZoneQuery]) -> list[ZoneQuery]:
        labels = [q.label for q in queries]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"each query may appear once; repeated: {', '.join(repeated)}")
        return queries


class BootstrapSettings(Section):
    """Where the initial state comes from before live updates are applied."""

    mrt_files: list[str] = Field(default=[], description="RIB dump and update files to load first.")
    ripestat: bool = Field(default=True, description="Load the initial state from RIPEstat's looking glass.")


class BgpSettings(Section):
    """How routes are judged."""

    thresholds: Thresholds = Field(default=Thresholds(), description="Default thresholds for every watched prefix.")
    baseline_window: Seconds = Field(
        default=86_400.0, description="Seconds: a peer that held the prefix within this window is in its baseline."
    )
    baseline_min_hold: Seconds = Field(
        default=300.0, description="Seconds a peer must hold a route to join the baseline (ignores path hunting)."
    )
    peer_settle: Seconds = Field(
        default=900.0, description="Seconds after a peer session returns before it rejoins the baseline without "
        "re-sending the route.",
    )
    anomaly_min_peers: Annotated[int, Field(ge=1)] = Field(
        default=2, description="Peers that must see an unexpected origin or more-specific before it is a detection."
    )
    exclude_peers: list[PeerField] = Field(
        default=[], description="Peers whose routes count for nothing anywhere: not in visibility, baselines or any "
        "detection (a peer known to leak, a route server). Each an address, a network of them (`192.0.2.0/24`) or "
        "a peer AS (`AS3453`: every session of that AS). BGPalerter's `blacklistSources`."
    )
    exclude_collectors: list[Name] = Field(
        default=[], description="Collectors whose peers count for nothing anywhere, by name: a RIS collector "
        "(`rrc00`) or the collector name of a BMP router or BGP session source."
    )
    bootstrap: BootstrapSettings = Field(default=BootstrapSettings(), description="Initial state.")


class DnssecSettings(Section):
    """The DNSSEC check of every zone: keys, signatures and the parent's DS."""

    enabled: bool = Field(default=True, description="Check DNSSEC (DNSKEY, RRSIGs, the parent's DS) of every zone.")
    interval: Seconds = Field(default=300.0, description="Seconds between DNSSEC checks of an address.")
    expiry_warning: Seconds = Field(
        default=259_200.0,
        description="Seconds before the earliest RRSIG expiry at which a zone counts as `expiring` (3 days).",
    )


class DnsSettings(Section):
    """How nameservers are probed."""

    interval: Annotated[float, Field(ge=1.0)] = Field(
        default=60.0, description="Seconds between UDP probes of an address."
    )
    jitter: Ratio = Field(default=0.1, description="Random spread of the interval, as a fraction of it.")
    timeout: Seconds = Field(default=2.0, description="Seconds to wait for an answer.")
    retries: Annotated[int, Field(ge=0, le=5)] = Field(default=1, description="Retries before a probe fails.")
    tcp_interval: Seconds = Field(default=300.0, description="Seconds between TCP probes of an address.")
    concurrency: Annotated[int, Field(ge=1)] = Field(default=64, description="Probes in flight at once.")
    rediscover_interval: Seconds = Field(default=3600.0, description="Seconds between delegation discoveries.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(default=53, description="Port nameservers are probed on.")
    root_servers: list[AddressField] = Field(
        default=[], description="Root server addresses; empty = the built-in hints."
    )
    resolvers: list[AddressField] = Field(
        default=[], description="Recursive resolvers to also resolve each zone through (what users see)."
    )
    serial_grace: Seconds = Field(
        default=600.0, description="Seconds SOA serials may disagree between nameservers before it counts."
    )
    dnssec: DnssecSettings = Field(default=DnssecSettings(), description="The DNSSEC check.")


class ExporterSettings(Section):
    """The Prometheus endpoint."""

    listen: AddressField = Field(default="127.0.0.1", description="Address to serve `/metrics` on (`::` for all).")
    port: Annotated[int, Field(ge=0, le=65535)] = Field(default=DEFAULT_EXPORTER_PORT, description="TCP port.")
    web_config_file: str | None = Field(
        default=None, description="Prometheus exporter-toolkit style web config (TLS, basic auth)."
    )


class Limits(Section):
    """Caps on every label set, so that the series count is known in advance."""

    max_watched_prefixes: Annotated[int, Field(ge=1)] = Field(
        default=20_000,
        description="Cap on watched prefixes: configured + every `asns[].max_prefixes` (twice with `downstreams`) + "
        "`max_nameserver_addresses` per zone; a config that could exceed it is rejected.",
    )
    max_zones: Annotated[int, Field(ge=1)] = Field(default=500, description="Cap on `zones`.")
    max_nameserver_addresses: Annotated[int, Field(ge=1)] = Field(
        default=32, description="Cap on nameserver addresses tracked per zone."
    )
    max_sources: Annotated[int, Field(ge=1)] = Field(default=16, description="Cap on `sources`.")
    max_collectors: Annotated[int, Field(ge=1)] = Field(
        default=64, description="Cap on route collectors tracked and exported per source (RIS Live hosts, "
        "BGPStream and MRT collectors, BMP routers); messages from more are ignored and counted "
        "(`routewatch_source_messages_ignored_total{type=\"collector_over_cap\"}`)."
    )
    max_path_subscriptions: Annotated[int, Field(ge=0)] = Field(
        default=16, description="Cap on `asns[]` entries declaring `downstreams` while a `ris-live` source is "
        "configured: each is a RIS Live subscription to every path through that AS (a transit AS's paths are a "
        "large share of the whole feed; see docs/configuration.md), exported as "
        "`routewatch_source_path_subscriptions`. A config over it is rejected."
    )
    max_more_specifics: Annotated[int, Field(ge=1)] = Field(
        default=1_000, description="Cap on distinct more-specifics whose routes are kept per watched prefix; "
        "announcements of more are refused and counted (`routewatch_bgp_prefix_more_specifics_refused_total`), "
        "and detections the kept ones opened stay open."
    )


class StateSettings(Section):
    """Persistence across restarts."""

    path: str | None = Field(default=None, description="File the state is saved to; unset = not saved.")
    save_interval: Seconds = Field(default=60.0, description="Seconds between saves.")


class ShardingSettings(Section):
    """Dividing the work between processes (see docs/scaling.md): each shard watches its part."""

    shards: Annotated[int, Field(ge=1, le=1024)] = Field(
        default=1, description="How many shards divide the prefixes, ASNs and zones (rendezvous hashing)."
    )
    shard: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="This process's shard; unset = `ROUTEWATCH_SHARD`, else a StatefulSet pod's "
        "ordinal (the hostname's `-N` suffix), else 0.",
    )

    @field_validator("shard")
    @classmethod
    def _within(cls, value: int | None, info: ValidationInfo) -> int | None:
        shards = info.data.get("shards", 1)
        if value is not None and value >= shards:
            raise ValueError(f"must be below sharding.shards ({shards}), got {value}")
        return value


class LoggingSettings(Section):
    """Logs and the detection log."""

    format: Literal["human", "json"] = Field(default="human", description="`human` or `json` lines.")
    level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Least severe level logged."
    )
    detection_log: str | None = Field(
        default=None, description="File detections are appended to as JSON lines; unset = not written."
    )


class RipestatSettings(Section):
    """RIPEstat, for bootstrap and reconciliation snapshots."""

    url: str = Field(default="https://stat.ripe.net", description="Base URL.")
    sourceapp: str = Field(default="routewatch", description="`sourceapp` parameter sent with every request.")
    timeout: Seconds = Field(default=20.0, description="Seconds per request.")
    retries: Annotated[int, Field(ge=0, le=10)] = Field(default=3, description="Retries per request.")
    concurrency: Annotated[int, Field(ge=1, le=8)] = Field(default=4, description="Requests in flight at once.")


class Config(Section):
    """The whole configuration: what to watch, where from, and how to export it."""

    prefixes: list[PrefixWatch] = Field(default=[], description="Prefixes to watch.")
    asns: list[AsnWatch] = Field(default=[], description="ASes whose originated prefixes are discovered and watched.")
    zones: list[ZoneWatch] = Field(default=[], description="DNS zones to probe.")
    sources: list[SourceConfig] = Field(default=[], description="BGP feeds; names must be unique.")
    bgp: BgpSettings = Field(default=BgpSettings(), description="How routes are judged.")
    dns: DnsSettings = Field(default=DnsSettings(), description="How nameservers are probed.")
    exporter: ExporterSettings = Field(default=ExporterSettings(), description="The Prometheus endpoint.")
    limits: Limits = Field(default=Limits(), description="Caps on label sets.")
    state: StateSettings = Field(default=StateSettings(), description="Persistence across restarts.")
    logging: LoggingSettings = Field(default=LoggingSettings(), description="Logs.")
    ripestat: RipestatSettings = Field(default=RipestatSettings(), description="RIPEstat access.")
    sharding: ShardingSettings = Field(default=ShardingSettings(), description="Dividing the work between processes.")
    rpki: RpkiSettings = Field(default=RpkiSettings(), description="RPKI route origin validation.")

    def part(self, shard: int) -> Config:
        """What shard ``shard`` of ``sharding.shards`` watches: its prefixes, ASNs and zones (caps count its part)."""
        n = self.sharding.shards
        return self.model_copy(update={
            "prefixes": [w for w in self.prefixes if owner(prefix_key(w.prefix), n) == shard],
            "asns": [a for a in self.asns if owner(asn_key(a.asn), n) == shard],
            "zones": [z for z in self.zones if owner(zone_key(z.zone), n) == shard],
            "sharding": self.sharding.model_copy(update={"shard": shard}),
        })

    def thresholds_for(self, watch: PrefixWatch) -> Thresholds:
        return watch.thresholds.over(self.bgp.thresholds)

    def max_prefix_series(self) -> int:
        """The most watched-prefix series this config can ever create."""
        per_zone = self.limits.max_nameserver_addresses
        auto = sum(per_zone for zone in self.zones if zone.watch_nameserver_prefixes)
        return len(self.prefixes) + sum(a.discovered_cap for a in self.asns) + auto


def _source_name(entry: Mapping[str, Any]) -> object:
    """The name a source entry will have: its own, or its type's default."""
    if "name" in entry:
        return entry["name"]
    model = SOURCE_TYPES.get(entry.get("type"))  # type: ignore[arg-type]
    return model.model_fields["name"].default if model is not None else None


def _duplicates(raw: Mapping[str, Any]) -> list[str]:
    """Cross-entry problems pydantic cannot see entry by entry."""
    problems: list[str] = []

    def check(section: str, key: str, identity: Callable[[Mapping[str, Any]], object]) -> None:
        entries = raw.get(section)
        if not isinstance(entries, list):
            return
        first: dict[object, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            try:
                value = identity(entry)
            except (ValueError, TypeError, KeyError):
                continue  # reported by validation
            if value is None or not isinstance(value, str | int | ipaddress.IPv4Network | ipaddress.IPv6Network):
                continue
            if value in first:
                shown = f"AS{value}" if isinstance(value, int) else str(value)
                problems.append(f"{section}[{index}].{key}: {shown} is already listed at {section}[{first[value]}]")
            else:
                first[value] = index

    check("prefixes", "prefix", lambda entry: parse_config_prefix(entry["prefix"]))
    check("asns", "asn", lambda entry: parse_config_asn(entry["asn"]))
    check("zones", "zone", lambda entry: parse_zone_name(entry["zone"]))
    check("sources", "name", _source_name)
    return problems


def _salvage(raw: Mapping[str, Any]) -> Config:
    """The config made of the parts of ``raw`` that are valid on their own.

    Cross-section checks (the series cap) then still run on an invalid file,
    so that fixing one problem does not reveal the next on the following run.
    """
    kept: dict[str, Any] = {}
    for name in Config.model_fields:
        if name not in raw:
            continue
        value = raw[name]
        if isinstance(value, list):
            value = [entry for entry in value if _valid(name, [entry])]
        if _valid(name, value):
            kept[name] = value
    return Config.model_validate(kept)


def _valid(section: str, value: object) -> bool:
    try:
        Config.model_validate({section: value})
    except ValidationError:
        return False
    return True


def _parts(config: Config) -> list[Config]:
    """The config each shard runs (just the config when it is not sharded): the caps apply to each."""
    n = config.sharding.shards
    return [config] if n == 1 else [config.part(shard) for shard in range(n)]


def _limits(config: Config, invalid: int) -> list[str]:
    """The caps on one shard's part; ``invalid`` counts prefix entries that failed (each will be watched too)."""
    problems: list[str] = []
    configured = len(config.prefixes) + invalid
    discovered = sum(a.discovered_cap for a in config.asns)
    twice = " (twice where downstreams are declared)" if any(a.downstreams is not None for a in config.asns) else ""
    nameservers = config.max_prefix_series() - len(config.prefixes) - discovered
    series = configured + discovered + nameservers
    shard = f" (shard {config.sharding.shard} of {config.sharding.shards})" if config.sharding.shards > 1 else ""
    cap = config.limits.max_watched_prefixes
    if series > cap:
        problems.append(
            f"limits.max_watched_prefixes: this config can watch up to {series} prefixes{shard} "
            f"({configured} configured, {discovered} from asns[].max_prefixes{twice}, "
            f"{nameservers} nameserver addresses of zones), "
            f"over the cap of {cap}; raise the cap or lower asns[].max_prefixes"
        )
    if len(config.zones) > config.limits.max_zones:
        problems.append(f"zones: {len(config.zones)} zones exceed limits.max_zones ({config.limits.max_zones})")
    if len(config.sources) > config.limits.max_sources:
        problems.append(
            f"sources: {len(config.sources)} sources exceed limits.max_sources ({config.limits.max_sources})"
        )
    return problems


def _path_subscriptions(config: Config) -> list[str]:
    """Each watched AS declaring downstreams is a RIS Live subscription to every path through it: capped."""
    shard = f" (shard {config.sharding.shard} of {config.sharding.shards})" if config.sharding.shards > 1 else ""
    carriers = [a.asn for a in config.asns if a.downstreams is not None]
    cap = config.limits.max_path_subscriptions
    if len(carriers) <= cap or not any(s.type == "ris-live" for s in config.sources):
        return []
    return [f"limits.max_path_subscriptions: {len(carriers)} asns[] entries declare downstreams{shard} "
            f"(AS{', AS'.join(map(str, carriers))}), each a RIS Live subscription to every path through that AS, "
            f"over the cap of {cap}; raise the cap knowing the cost, or drop downstreams where a leak through "
            f"a customer need not be seen"]


def _merged_thresholds(raw: Mapping[str, Any], config: Config) -> list[str]:
    """A per-prefix override valid on its own may still break hysteresis against the defaults."""
    entries = raw.get("prefixes")
    bgp = raw.get("bgp")
    defaults = bgp.get("thresholds") if isinstance(bgp, Mapping) else None
    if not isinstance(entries, list) or (defaults is not None and not _valid("bgp", {"thresholds": defaults})):
        return []  # without valid defaults there is nothing to merge with
    problems = []
    for index, entry in enumerate(entries):
        overrides = entry.get("thresholds") if isinstance(entry, Mapping) else None
        if not isinstance(overrides, Mapping):
            continue
        try:
            valid_alone = ThresholdOverrides.model_validate(overrides)
        except ValidationError:
            continue  # reported by validation
        try:
            valid_alone.over(config.bgp.thresholds)
        except ValidationError as exc:
            for line in problem_lines(Thresholds, exc.errors()):
                field, text = line.split(": ", 1)
                problems.append(f"prefixes[{index}].thresholds: combined with bgp.thresholds, {field} {text}")
    return problems


def _in_document_order(raw: Mapping[str, Any], problems: list[str]) -> list[str]:
    """Sort by section as the file orders them, then by entry index, so the list reads top to bottom."""
    sections = {str(key): position for position, key in enumerate(raw)}

    def key(problem: str) -> tuple[int, int]:
        head = problem.split(":", 1)[0]
        name, _, rest = head.partition("[")
        name = name.split(".", 1)[0]
        index = rest.split("]", 1)[0]
        return sections.get(name, len(sections)), int(index) if index.isdigit() else -1

    return sorted(problems, key=key)


def _mrt_without_files(raw: Mapping[str, Any]) -> list[str]:
    sources = raw.get("sources")
    return [f"sources[{i}].files: an mrt source needs files for `routewatch run` "
            "(replay and the checks take them from the command line)"
            for i, source in enumerate(sources if isinstance(sources, list) else [])
            if isinstance(source, Mapping) and source.get("type") == "mrt" and not source.get("files")]


def _signing_required_without_check(raw: Mapping[str, Any], config: Config) -> list[str]:
    """A zone that must be signed cannot be judged with the DNSSEC check turned off."""
    zones = raw.get("zones")
    if config.dns.dnssec.enabled or not isinstance(zones, list):
        return []
    return [f"zones[{i}].must_be_signed: needs the DNSSEC check, which dns.dnssec.enabled turns off"
            for i, zone in enumerate(zones) if isinstance(zone, Mapping) and zone.get("must_be_signed") is True]


def parse_config(raw: object, source: str = "", *, daemon: bool = False) -> Config:
    """Validate an already-parsed YAML document; raise ConfigError with every problem.

    ``daemon`` adds what only ``routewatch run`` needs: files for every mrt
    source (``replay`` and the checks take theirs from the command line).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([f"(top level): expected a mapping of sections, got {describe(raw)}"], source)
    problems: list[str] = []
    config: Config | None = None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems.extend(problem_lines(Config, exc.errors()))
    problems.extend(_duplicates(raw))
    checked = config if config is not None else _salvage(raw)
    entries = raw.get("prefixes")
    invalid = (len(entries) if isinstance(entries, list) else len(checked.prefixes)) - len(checked.prefixes)
    problems.extend(_limits(max(_parts(checked), key=lambda part: part.max_prefix_series()), invalid))
    problems.extend(next(filter(None, map(_path_subscriptions, _parts(checked))), []))
    problems.extend(_merged_thresholds(raw, checked))
    problems.extend(_signing_required_without_check(raw, checked))
    if daemon:
        problems.extend(_mrt_without_files(raw))
    if problems or config is None:
        raise ConfigError(_in_document_order(raw, problems), source)
    return config


def load_config(path: str | Path, *, daemon: bool = False) -> Config:
    """Read and validate a YAML config file; ConfigError lists every problem, YAML ones first.

    ``daemon``: as for ``routewatch run`` (see :func:`parse_config`).
    """
    document, problems = read_yaml(Path(path))
    if problems and document is None:
        raise ConfigError(problems, str(path))
    try:
        config = parse_config(document, str(path), daemon=daemon)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems, str(path)) from None
    if problems:
        raise ConfigError(problems, str(path))
    return config
