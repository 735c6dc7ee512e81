"""Configuration sections shared by every part of the file, and the BGP sources.

Split from :mod:`routewatch.config.schema` so each stays readable; that module
re-exports everything here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from routewatch.config.values import AddressField, Name, Seconds

DEFAULT_RIS_LIVE_URL = "wss://ris-live.ripe.net/v1/ws/?client=routewatch"
_SKEW = ("Seconds a message may be stamped ahead of the wall clock; a later one is counted as clock skew "
         "(`malformed`, reason `clock_skew`) and judged at the wall clock.")


class Section(BaseModel):
    """Every section: frozen, strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, data: Any) -> Any:
        """``bgp:`` with every key commented out is YAML null: it means "all defaults"."""
        if not isinstance(data, Mapping):
            return data
        fields = cls.model_fields
        return {
            key: fields[key].default
            if value is None and key in fields and isinstance(fields[key].default, BaseModel | list | dict)
            else value
            for key, value in data.items()
        }


class RisLiveSource(Section):
    """RIPE RIS Live: the public real-time BGP feed of RIPE's route collectors."""

    type: Literal["ris-live"] = Field(description="`ris-live`.")
    name: Name = Field(default="ris-live", description="The source's name in metrics and logs; unique.")
    url: str = Field(default=DEFAULT_RIS_LIVE_URL, description="The RIS Live websocket URL.")
    host: str | None = Field(default=None, description="Only this collector (e.g. `rrc00`); unset = all collectors.")
    queue_size: Annotated[int, Field(ge=100)] = Field(
        default=100_000, description="Messages buffered between the socket and the core; drops are counted."
    )
    ping_interval: Seconds = Field(
        default=30.0, description="Seconds between pings; a websocket ping unanswered for as long drops the connection."
    )
    clock_skew_tolerance: Seconds = Field(default=300.0, description=_SKEW)
    collector_stale_after: Seconds = Field(
        default=300.0, description="Seconds without a message after which a collector's peers stop counting."
    )
    reconcile_interval: Seconds = Field(
        default=3600.0, description="Seconds between reconciliations of the state with a snapshot."
    )
    reconcile: Literal["ripestat", "none"] = Field(
        default="ripestat", description="Where reconciliation snapshots come from (`ripestat` or `none`)."
    )

    @property
    def follows_present(self) -> bool:
        """A live feed: the core's clock then follows the wall clock."""
        return True

    @property
    def needs_snapshot(self) -> bool:
        """It sends only changes, so stable prefixes stay unknown until a snapshot is loaded."""
        return True

    @property
    def where_from(self) -> str:
        """Where its routes come from, for the start-up log."""
        return f"RIS Live at {self.url}" + (f", collector {self.host}" if self.host else ", every collector")


class BgpStreamSource(Section):
    """CAIDA BGPStream (needs the optional ``pybgpstream`` package)."""

    type: Literal["bgpstream"] = Field(description="`bgpstream`.")
    name: Name = Field(default="bgpstream", description="The source's name in metrics and logs; unique.")
    project: str = Field(default="ris-live", description="BGPStream project (`ris`, `routeviews`, `ris-live`, ...).")
    collectors: list[str] = Field(default=[], description="Collectors to read; empty = all of the project's.")
    from_time: float | None = Field(default=None, description="Start, epoch seconds; unset = live.")
    until_time: float | None = Field(default=None, description="End, epoch seconds; unset = keep following.")
    record_type: Literal["updates", "ribs"] = Field(default="updates", description="`updates` or `ribs`.")
    clock_skew_tolerance: Seconds = Field(default=300.0, description=_SKEW + " Live (no `until_time`) only.")

    @property
    def follows_present(self) -> bool:
        return self.until_time is None

    @property
    def needs_snapshot(self) -> bool:
        return self.until_time is None

    @property
    def where_from(self) -> str:
        collectors = ", ".join(self.collectors) or "every collector"
        until = "following" if self.until_time is None else f"until {self.until_time:.0f}"
        return f"BGPStream project {self.project} ({collectors}), {self.record_type}, {until}"


class MrtSource(Section):
    """MRT archive files (RIS, RouteViews), read in time order."""

    type: Literal["mrt"] = Field(description="`mrt`.")
    name: Name = Field(default="mrt", description="The source's name in metrics and logs; unique.")
    files: list[str] = Field(
        default=[], description="MRT files (plain, .gz or .bz2); glob patterns allowed. Needed by `routewatch run`; "
        "`replay` and the checks take theirs from the command line.",
    )
    collector: str | None = Field(default=None, description="Collector name for the peers; unset = from the file name.")
    follow: bool = Field(
        default=False, description="Keep watching the patterns and replay new files as they appear (a collector's "
        "dump directory); the core's clock then follows the wall clock."
    )
    poll_interval: Seconds = Field(default=5.0, description="Seconds between looks for new files when following.")
    clock_skew_tolerance: Seconds = Field(default=300.0, description=_SKEW + " When following only.")

    @property
    def follows_present(self) -> bool:
        return self.follow

    @property
    def needs_snapshot(self) -> bool:
        """The files are their own snapshot (a RIB dump and the updates since)."""
        return False

    @property
    def where_from(self) -> str:
        shown = ", ".join(self.files[:2]) + (f" and {len(self.files) - 2} more" if len(self.files) > 2 else "")
        return f"MRT files {shown}" + (" (following new ones)" if self.follow else "")


def _network(value: object) -> str:
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError as exc:
        raise ValueError(f"expected a router address or network, got {value!r}") from exc


class BmpSource(Section):
    """A BMP station (RFC 7854): your routers connect and stream what they and their peers see."""

    type: Literal["bmp"] = Field(description="`bmp`.")
    name: Name = Field(default="bmp", description="The source's name in metrics and logs; unique.")
    listen: AddressField = Field(default="127.0.0.1", description="Address to listen on (`::` for all).")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(description="TCP port the routers connect to.")
    routers: list[Annotated[str, BeforeValidator(_network)]] = Field(
        min_length=1, description="Router addresses or networks allowed to connect (BMP has no authentication); "
        "others are refused and counted."
    )
    policy: Literal["pre-policy", "post-policy", "loc-rib"] = Field(
        default="pre-policy", description="Which stream of each peer to read: what it sent (`pre-policy`), what the "
        "router kept (`post-policy`), or the router's best paths (`loc-rib`, RFC 9069)."
    )
    clock_skew_tolerance: Seconds = Field(default=300.0, description=_SKEW + " Routers stamp BMP with their "
                                          "own clocks.")

    @property
    def follows_present(self) -> bool:
        return True

    @property
    def needs_snapshot(self) -> bool:
        """A router sends its peers' whole tables when it connects: no snapshot from elsewhere is needed."""
        return False

    @property
    def where_from(self) -> str:
        return f"BMP station on {self.listen} port {self.port} ({self.policy}), routers {', '.join(self.routers)}"


SourceSettings = RisLiveSource | BgpStreamSource | MrtSource | BmpSource
"""Every BGP source's settings; a new source adds its class here (``routewatch.sources.base.SOURCES`` its runtime)."""

#: Config ``type`` -> its settings, read off each class's ``type`` literal.
SOURCE_TYPES: dict[str, type[SourceSettings]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls for cls in get_args(SourceSettings)
}
SourceConfig = Annotated[SourceSettings, Field(discriminator="type")]
