"""Load and validate routewatch's YAML configuration; every default lives here.

Validation reports every problem at once, each with its path
(``prefixes[3].asn: ...``), because an operator fixing a config file one error
per run is an operator who stops using the tool. Unknown keys are errors: a
misspelt ``ignore_more_specific`` must not silently watch more-specifics.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .model import Prefix, canonical_address, parse_asn

DEFAULT_RIS_LIVE_URL = "wss://ris-live.ripe.net/v1/ws/?client=routewatch"
DEFAULT_EXPORTER_PORT = 9724


def _prefix(value: object) -> Prefix:
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a prefix such as 192.0.2.0/24, got {value!r}")
    text = value.strip()
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid prefix") from None
    raise ValueError(f"{text} has host bits set; did you mean {loose}?")


def _asn(value: object) -> int:
    return parse_asn(value)


def _asn_list(value: object) -> tuple[int, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    asns = tuple(parse_asn(item) for item in items)
    repeated = sorted({asn for asn in asns if asns.count(asn) > 1})
    if repeated:
        raise ValueError(f"AS{repeated[0]} is listed more than once")
    return asns


def _zone_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip(".").strip():
        raise ValueError(f"expected a zone name such as example.com, got {value!r}")
    return value.strip().rstrip(".").lower() + "."


def _address(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address, got {value!r}")
    try:
        return canonical_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


PrefixField = Annotated[Prefix, BeforeValidator(_prefix)]
AsnField = Annotated[int, BeforeValidator(_asn)]
AsnListField = Annotated[tuple[int, ...], BeforeValidator(_asn_list)]
ZoneField = Annotated[str, BeforeValidator(_zone_name)]
AddressField = Annotated[str, BeforeValidator(_address)]
Ratio = Annotated[float, Field(ge=0.0, le=1.0)]
Seconds = Annotated[float, Field(gt=0)]


class Section(BaseModel):
    """Every section: frozen, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(Section):
    """When a watched prefix counts as withdrawn, and when as recovered."""

    withdrawn_ratio: Ratio = 0.5
    recovered_ratio: Ratio = 0.8
    hold_down: Seconds = 60.0
    min_baseline_peers: Annotated[int, Field(ge=1)] = 3

    @model_validator(mode="after")
    def _hysteresis(self) -> Thresholds:
        if self.recovered_ratio < self.withdrawn_ratio:
            raise ValueError(
                f"recovered_ratio ({self.recovered_ratio}) must not be below "
                f"withdrawn_ratio ({self.withdrawn_ratio})"
            )
        return self


class ThresholdOverrides(Section):
    """Per-prefix overrides; a missing key takes the ``bgp.thresholds`` default."""

    withdrawn_ratio: Ratio | None = None
    recovered_ratio: Ratio | None = None
    hold_down: Seconds | None = None
    min_baseline_peers: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _hysteresis(self) -> ThresholdOverrides:
        low, high = self.withdrawn_ratio, self.recovered_ratio
        if low is not None and high is not None and high < low:
            raise ValueError(f"recovered_ratio ({high}) must not be below withdrawn_ratio ({low})")
        return self

    def over(self, defaults: Thresholds) -> Thresholds:
        merged = defaults.model_dump() | self.model_dump(exclude_none=True)
        return Thresholds(**merged)


class PrefixWatch(Section):
    """A prefix to watch and the origin AS(es) expected to announce it."""

    prefix: PrefixField
    asn: AsnListField = Field(min_length=1)
    description: str = ""
    group: str = "default"
    ignore_more_specifics: bool = False
    thresholds: ThresholdOverrides = ThresholdOverrides()


class AsnWatch(Section):
    """An AS whose originated prefixes are discovered in the data and watched."""

    asn: AsnField
    description: str = ""
    max_prefixes: Annotated[int, Field(ge=1)] = 200
    ignore_more_specifics: bool = False


class ZoneWatch(Section):
    """A DNS zone whose nameservers are probed and whose routes are watched."""

    zone: ZoneField
    description: str = ""
    watch_nameserver_prefixes: bool = True
    service_prefixes: dict[AddressField, list[PrefixField]] = {}
    parent_servers: list[AddressField] = []
    nameservers: list[str] = []


class RisLiveSource(Section):
    type: Literal["ris-live"]
    name: str = "ris-live"
    url: str = DEFAULT_RIS_LIVE_URL
    host: str | None = None
    queue_size: Annotated[int, Field(ge=100)] = 100_000
    ping_interval: Seconds = 30.0
    collector_stale_after: Seconds = 300.0
    reconcile_interval: Seconds = 3600.0
    reconcile: Literal["ripestat", "none"] = "ripestat"


class BgpStreamSource(Section):
    type: Literal["bgpstream"]
    name: str = "bgpstream"
    project: str = "ris-live"
    collectors: list[str] = []
    from_time: float | None = None
    until_time: float | None = None
    record_type: Literal["updates", "ribs"] = "updates"


class MrtSource(Section):
    type: Literal["mrt"]
    name: str = "mrt"
    files: list[str] = Field(min_length=1)
    collector: str | None = None


SourceConfig = Annotated[RisLiveSource | BgpStreamSource | MrtSource, Field(discriminator="type")]


class BootstrapSettings(Section):
    """Where the initial state comes from before live updates are applied."""

    mrt_files: list[str] = []
    ripestat: bool = True


class BgpSettings(Section):
    thresholds: Thresholds = Thresholds()
    baseline_window: Seconds = 86_400.0
    baseline_min_hold: Seconds = 300.0
    peer_settle: Seconds = 900.0
    bootstrap: BootstrapSettings = BootstrapSettings()


class DnsSettings(Section):
    interval: Annotated[float, Field(ge=1.0)] = 60.0
    jitter: Ratio = 0.1
    timeout: Seconds = 2.0
    retries: Annotated[int, Field(ge=0, le=5)] = 1
    tcp_interval: Seconds = 300.0
    concurrency: Annotated[int, Field(ge=1)] = 64
    rediscover_interval: Seconds = 3600.0
    port: Annotated[int, Field(ge=1, le=65535)] = 53
    root_servers: list[AddressField] = []
    resolvers: list[AddressField] = []
    serial_grace: Seconds = 600.0


class ExporterSettings(Section):
    listen: AddressField = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = DEFAULT_EXPORTER_PORT
    web_config_file: str | None = None


class Limits(Section):
    """Caps on every label set, so that the series count is known in advance."""

    max_watched_prefixes: Annotated[int, Field(ge=1)] = 20_000
    max_zones: Annotated[int, Field(ge=1)] = 500
    max_nameserver_addresses: Annotated[int, Field(ge=1)] = 32
    max_sources: Annotated[int, Field(ge=1)] = 16


class StateSettings(Section):
    path: str | None = None
    save_interval: Seconds = 60.0


class LoggingSettings(Section):
    format: Literal["human", "json"] = "human"
    level: Literal["debug", "info", "warning", "error"] = "info"
    detection_log: str | None = None


class RipestatSettings(Section):
    url: str = "https://stat.ripe.net"
    sourceapp: str = "routewatch"
    timeout: Seconds = 20.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    concurrency: Annotated[int, Field(ge=1, le=8)] = 4


class Config(Section):
    """The whole configuration: what to watch, where from, and how to export it."""

    prefixes: list[PrefixWatch] = []
    asns: list[AsnWatch] = []
    zones: list[ZoneWatch] = []
    sources: list[SourceConfig] = []
    bgp: BgpSettings = BgpSettings()
    dns: DnsSettings = DnsSettings()
    exporter: ExporterSettings = ExporterSettings()
    limits: Limits = Limits()
    state: StateSettings = StateSettings()
    logging: LoggingSettings = LoggingSettings()
    ripestat: RipestatSettings = RipestatSettings()

    @field_validator("prefixes", "asns", "zones", "sources", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    def thresholds_for(self, watch: PrefixWatch) -> Thresholds:
        return watch.thresholds.over(self.bgp.thresholds)

    def max_prefix_series(self) -> int:
        """The most watched-prefix series this config can ever create."""
        per_zone = self.limits.max_nameserver_addresses
        auto = sum(per_zone for zone in self.zones if zone.watch_nameserver_prefixes)
        return len(self.prefixes) + sum(a.max_prefixes for a in self.asns) + auto


def _location(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("ris-live", "bgpstream", "mrt", "[key]") or part.startswith("function-"):
            continue  # pydantic's tag for the union member, not a key the user wrote
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error.get("msg", ""))
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing", "string_type", "bool_type",
                "bool_parsing", "list_type", "dict_type", "model_type"):
        message += f", got {error.get('input')!r}"
    return message


def _duplicates(raw: Mapping[str, Any]) -> list[str]:
    """Cross-entry problems pydantic cannot see entry by entry."""
    problems: list[str] = []

    def check(section: str, key: str, normalise: Any) -> None:
        entries = raw.get(section)
        if not isinstance(entries, list):
            return
        first: dict[Any, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping) or key not in entry:
                continue
            try:
                value = normalise(entry[key])
            except (ValueError, TypeError):
                continue
            if value in first:
                problems.append(
                    f"{section}[{index}].{key}: duplicate of {section}[{first[value]}] ({value})"
                )
            else:
                first[value] = index

    check("prefixes", "prefix", _prefix)
    check("asns", "asn", _asn)
    check("zones", "zone", _zone_name)
    check("sources", "name", lambda v: v if isinstance(v, str) else None)
    return problems


def _limits(config: Config) -> list[str]:
    problems: list[str] = []
    series = config.max_prefix_series()
    if series > config.limits.max_watched_prefixes:
        problems.append(
            f"limits.max_watched_prefixes: this config can watch up to {series} prefixes "
            f"(configured + per-ASN max_prefixes + nameserver prefixes), over the cap of "
            f"{config.limits.max_watched_prefixes}; raise the cap or lower max_prefixes"
        )
    if len(config.zones) > config.limits.max_zones:
        problems.append(f"zones: {len(config.zones)} zones exceed limits.max_zones ({config.limits.max_zones})")
    if len(config.sources) > config.limits.max_sources:
        problems.append(
            f"sources: {len(config.sources)} sources exceed limits.max_sources ({config.limits.max_sources})"
        )
    return problems


def _merged_thresholds(config: Config) -> list[str]:
    """A per-prefix override may break hysteresis only against the defaults."""
    problems = []
    for index, watch in enumerate(config.prefixes):
        try:
            config.thresholds_for(watch)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(f"prefixes[{index}].thresholds: {_message(error)} (with bgp.thresholds defaults)")
    return problems


def parse_config(raw: object, source: str = "") -> Config:
    """Validate an already-parsed YAML document; raise ConfigError with every problem."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([f"(top level): expected a mapping of sections, got {type(raw).__name__}"], source)
    problems: list[str] = []
    config: Config | None = None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems.extend(f"{_location(e['loc'])}: {_message(e)}" for e in exc.errors())
    problems.extend(_duplicates(raw))
    if config is not None:
        problems.extend(_limits(config))
        problems.extend(_merged_thresholds(config))
    if problems or config is None:
        raise ConfigError(problems, source)
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"(file): cannot read: {exc.strerror or exc}"], str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError([f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}"], str(path)) from None
    return parse_config(raw, str(path))
