"""The ``rpki`` section: where VRPs come from (RTR caches, JSON exports) and how often they are refreshed.

Split from :mod:`routewatch.config.schema` so each stays readable; that module
re-exports everything here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from routewatch.config.sources import Section
from routewatch.config.values import Name, Seconds

DEFAULT_RTR_PORT = 323
"""The port IANA assigned to RTR (RFC 6810 7); StayRTR and Routinator listen on 8282/3323 by default."""


class RtrVrpSource(Section):
    """An RPKI-to-Router cache (StayRTR, Routinator, FORT, rpki-client with StayRTR): RFC 8210, falling back to 6810."""

    type: Literal["rtr"] = Field(description="`rtr`.")
    name: Name = Field(default="rtr", description="The source's name in metrics and logs; unique in `rpki.sources`.")
    host: str = Field(description="The cache's address or host name.")
    port: Annotated[int, Field(ge=1, le=65535)] = Field(default=DEFAULT_RTR_PORT, description="The cache's TCP port.")


class JsonVrpSourceConfig(Section):
    """A VRP JSON export (rpki-client `json`, Routinator `json`/`jsonext`, StayRTR `rpki.json`), a file or a URL."""

    type: Literal["json"] = Field(description="`json`.")
    name: Name = Field(default="json", description="The source's name in metrics and logs; unique in `rpki.sources`.")
    path: str = Field(
        min_length=1, description="A file, or an `http://`/`https://` URL (asked again with its ETag/Last-Modified)."
    )


RpkiSource = RtrVrpSource | JsonVrpSourceConfig
RpkiSourceConfig = Annotated[RpkiSource, Field(discriminator="type")]


class RpkiSettings(Section):
    """RPKI route origin validation (RFC 6811): VRP sources, merged; empty = no validation."""

    sources: list[RpkiSourceConfig] = Field(
        default=[], max_length=16, description="VRP sources; their sets are merged. Names must be unique."
    )
    refresh: Seconds = Field(
        default=600.0, description="Seconds between reloads of a JSON source, and between Serial Queries to an RTR "
        "cache until its End of Data gives its own refresh interval (version 0 caches give none).",
    )
    expiry_warning: Seconds = Field(
        default=7 * 86400.0, description="A watched prefix's ROA expiring within this many seconds is reported.",
    )
    load_timeout: Seconds = Field(
        default=60.0, description="Seconds `replay` and the checks wait for every source's first set.",
    )

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[RpkiSource]) -> list[RpkiSource]:
        seen: dict[str, int] = {}
        for index, source in enumerate(sources):
            if source.name in seen:
                raise ValueError(
                    f"names must be unique: {source.name!r} is both sources[{seen[source.name]}] and sources[{index}]"
                )
            seen[source.name] = index
        return sources
