"""The ``rpki`` section: sources of both types, defaults, and each mistake's exact message."""

from __future__ import annotations

import pytest
import yaml

from routewatch.config.schema import JsonVrpSourceConfig, RtrVrpSource, parse_config
from routewatch.errors import ConfigError

VALID = """
rpki:
  refresh: 300
  sources:
    - {type: rtr, host: 127.0.0.1, port: 8282}
    - {type: json, name: routinator, path: https://rpki.example/json}
    - {type: json, name: local, path: /var/lib/rpki-client/json}
"""


def test_sources_of_both_types_and_defaults() -> None:
    rpki = parse_config(yaml.safe_load(VALID)).rpki
    assert rpki.refresh == 300 and rpki.expiry_warning == 7 * 86400
    rtr, url, local = rpki.sources
    assert isinstance(rtr, RtrVrpSource) and (rtr.name, rtr.host, rtr.port) == ("rtr", "127.0.0.1", 8282)
    assert isinstance(url, JsonVrpSourceConfig) and url.path == "https://rpki.example/json"
    assert isinstance(local, JsonVrpSourceConfig) and local.name == "local"
    assert parse_config({}).rpki.sources == []


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("rpki: {sources: [{type: rtr, host: a}, {type: rtr, host: b}]}",
         ["rpki.sources: names must be unique: 'rtr' is both sources[0] and sources[1]"]),
        ("rpki: {refresh: 0, sources: [{type: rtr}, {type: json, path: ''}, {type: rrdp}]}",
         ["rpki.refresh: must be greater than 0, got 0", "rpki.sources[0].host: required key is missing",
          "rpki.sources[1].path: must not be empty",
          "rpki.sources[2].type: unknown source type 'rrdp' (expected one of: rtr, json)"]),
        ("rpki: {sources: [{type: rtr, host: a, port: 70000, refresh: 5}]}",
         ["rpki.sources[0].port: must be at most 65535, got 70000",
          "rpki.sources[0].refresh: unknown key (expected one of: type, name, host, port)"]),
    ],
)
def test_mistakes_and_their_messages(text: str, problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_load(text))
    assert caught.value.problems == problems
