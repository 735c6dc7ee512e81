"""VRP_SOURCES: each ``rpki.sources`` type builds its own kind of source from its own settings."""

from __future__ import annotations

import typing

import pytest

from routewatch.config.rpki import JsonVrpSourceConfig, RpkiSettings, RpkiSource, RtrVrpSource
from routewatch.sources.vrp.feeds import VRP_SOURCES, build_vrp_feeds
from routewatch.sources.vrp.json_source import JsonVrpSource
from routewatch.sources.vrp.rtr_client import RtrClient


def test_every_configurable_type_has_a_source_kind() -> None:
    types = {typing.get_args(cls.model_fields["type"].annotation)[0] for cls in typing.get_args(RpkiSource)}
    assert types == set(VRP_SOURCES) == {"rtr", "json"}


def test_each_entry_builds_its_source_from_its_settings() -> None:
    settings = RpkiSettings.model_validate({"refresh": 30, "sources": [
        {"type": "rtr", "name": "cache", "host": "127.0.0.1", "port": 8282},
        {"type": "json", "name": "export", "path": "/var/lib/vrps.json"},
    ]})
    rtr, json = build_vrp_feeds(settings).feeds
    assert isinstance(rtr, RtrClient) and (rtr.name, rtr.host, rtr.port) == ("cache", "127.0.0.1", 8282)
    assert isinstance(json, JsonVrpSource) and (json.name, json.location) == ("export", "/var/lib/vrps.json")


def test_settings_of_another_type_are_refused() -> None:
    with pytest.raises(TypeError, match="a JsonVrpSourceConfig is not a RtrVrpSource"):
        VRP_SOURCES["rtr"](JsonVrpSourceConfig(type="json", path="/var/lib/vrps.json"), 30.0)
    assert isinstance(VRP_SOURCES["rtr"](RtrVrpSource(type="rtr", host="127.0.0.1"), 30.0), RtrClient)
