"""Every source type the config accepts is built from the SOURCES registry, and reports health before it runs."""

from __future__ import annotations

from routewatch.config.schema import SOURCE_TYPES, parse_config
from routewatch.sources.base import SOURCES, SourceContext, build_source
from routewatch.sources.health import SourceHealth


def test_every_config_type_has_a_source_and_every_source_a_config_type() -> None:
    assert set(SOURCES) == set(SOURCE_TYPES)


def test_each_configured_source_is_built_by_type_and_is_not_up_before_it_runs() -> None:
    config = parse_config({"prefixes": [{"prefix": "129.134.30.0/23", "asn": 32934}], "sources": [
        {"type": "ris-live", "name": "live"},
        {"type": "bgpstream", "name": "stream", "until_time": 2.0},
        {"type": "mrt", "name": "files", "files": ["updates.*.gz"], "follow": True},
    ]})
    context = SourceContext(config)
    built = {settings.name: build_source(settings, context) for settings in config.sources}
    assert {name: type(source).__name__ for name, source in built.items()} == \
        {"live": "RisLiveFeed", "stream": "BgpStreamFeed", "files": "MrtFeed"}
    assert {name: source.health() for name, source in built.items()} == \
        {name: SourceHealth(name, None) for name in built}
    assert [(s.follows_present, s.needs_snapshot) for s in config.sources] == \
        [(True, True), (False, False), (True, False)]
