"""BGPalerter config.yml -> routewatch bgp settings and sources, on BGPalerter's own example file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.config.bgpalerter import convert
from routewatch.config.bgpalerter_settings import SETTINGS_KEYS, convert_settings, is_settings_file
from routewatch.config.schema import load_config, parse_config
from routewatch.config.to_core import build_engine
from routewatch.config.yamlfile import read_yaml
from routewatch.errors import ConfigError
from routewatch.model import Peer, parse_prefix
from tests.support.events import announce

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bgpalerter"
EXAMPLE = FIXTURES / "config.yml.example"  # BGPalerter's own, source noted in its header
PREFIXES = FIXTURES / "prefixes-handwritten.yml"


def load(path: Path) -> Any:
    document, problems = read_yaml(path)
    assert problems == []
    return document


def test_the_example_config_maps_its_tuned_settings() -> None:
    conversion = convert(load(PREFIXES), load(EXAMPLE))
    config = conversion.config
    assert config["bgp"] == {
        "exclude_peers": ["123.0.0.0/24", "AS3453"],
        "thresholds": {"min_baseline_peers": 40, "hold_down": 360},
        "anomaly_min_peers": 3,
    }
    assert config["sources"] == [{"type": "ris-live", "name": "ris"}]
    parsed = parse_config(config)
    assert parsed.bgp.exclude_peers == ["123.0.0.0/24", "AS3453"]
    assert (parsed.bgp.thresholds.hold_down, parsed.bgp.anomaly_min_peers) == (360, 3)
    warnings = conversion.warnings
    assert "config.yml: connectors[0].params.blacklistSources[0]: host bits set; imported as 123.0.0.0/24" in warnings
    assert any(w.startswith("config.yml: connectors[0].params.url: the public RIS Live service") for w in warnings)
    assert any(w.startswith("config.yml: monitors[1].params.thresholdMinPeers: not imported (monitorPath wants 1")
               for w in warnings)


def test_every_top_level_key_of_the_example_is_mapped_or_warned_about() -> None:
    document = load(EXAMPLE)
    assert set(document) <= SETTINGS_KEYS
    warned = "\n".join(convert_settings(document).warnings)
    for key in set(document) - {"connectors", "monitors", "fadeOffSeconds"}:
        assert f"\n{key}: not imported" in f"\n{warned}", key


def test_the_imported_blacklist_keeps_those_peers_out_of_visibility() -> None:
    engine = build_engine(parse_config(convert(load(PREFIXES), load(EXAMPLE)).config))
    prefix = "129.134.30.0/23"
    peers = [Peer("rrc00", f"192.0.2.{i}", 64500 + i) for i in range(40)]
    peers += [Peer("rrc00", "198.51.100.1", 3453), Peer("rrc01", "123.0.0.9", 64999)]
    engine.apply_all(announce(0.0, p, prefix, (p.asn, 32934)) for p in peers)
    engine.advance(1000.0)
    status = engine.snapshot().status(parse_prefix(prefix))
    assert status is not None and (status.visible_peers, status.baseline_peers) == (40, 40)


def test_only_the_hijack_monitor_sets_the_anomaly_threshold_when_they_differ() -> None:
    monitors = [{"file": "monitorPath", "params": {"thresholdMinPeers": 1}},
                {"file": "monitorHijack", "params": {"thresholdMinPeers": 5}},
                {"file": "monitorNewPrefix", "params": {"thresholdMinPeers": 5}}]
    conversion = convert_settings({"monitors": monitors})
    assert conversion.bgp == {"anomaly_min_peers": 5}
    assert [w.split(":")[0] for w in conversion.warnings] == ["monitors[0].params.thresholdMinPeers"]


def test_a_private_ris_live_url_and_collector_are_carried() -> None:
    connectors = [{"file": "connectorRIS", "name": "mirror",
                   "params": {"url": "wss://ris.example.net/v1/ws/", "subscription": {"host": "rrc21"}}}]
    conversion = convert_settings({"connectors": connectors})
    assert conversion.sources == [{"type": "ris-live", "name": "mirror", "url": "wss://ris.example.net/v1/ws/",
                                   "host": "rrc21"}]
    assert conversion.warnings == []


def test_without_a_ris_connector_the_default_source_is_named() -> None:
    settings = {"connectors": [{"file": "connectorRISDump", "name": "dmp"}], "environment": "production"}
    conversion = convert(load(PREFIXES), settings)
    assert conversion.config["sources"] == [{"type": "ris-live"}]
    assert any(w.startswith("config.yml: connectors[0]: not imported") for w in conversion.warnings)
    assert any(w.startswith("config.yml: no connectorRIS") for w in conversion.warnings)


def test_every_problem_is_reported_with_its_path() -> None:
    settings = {
        "connectors": [{"file": "connectorRIS", "params": {"blacklistSources": [3453, "not-a-peer", None]}}, "ris"],
        "monitors": [{"file": "monitorHijack", "params": {"thresholdMinPeers": "three"}}],
        "fadeOffSeconds": -1,
    }
    with pytest.raises(ConfigError) as caught:
        convert(load(PREFIXES), settings)
    assert [p.split(": ")[1] for p in caught.value.problems] == [
        "connectors[0].params.blacklistSources[1]",
        "connectors[0].params.blacklistSources[2]",
        "connectors[1]",
        "monitors[0].params.thresholdMinPeers",
        "fadeOffSeconds",
    ]
    assert all(p.startswith("config.yml: ") for p in caught.value.problems)


def test_a_config_yml_given_as_the_prefixes_file_says_what_to_do() -> None:
    assert is_settings_file(load(EXAMPLE)) and not is_settings_file(load(PREFIXES))
    with pytest.raises(ConfigError) as caught:
        convert(load(EXAMPLE))
    assert caught.value.problems == [
        "(top level): this is BGPalerter's config.yml (how it runs), not its prefixes.yml (what to watch); "
        "give the prefixes.yml, and this file with --config-yml"
    ]


def test_the_cli_imports_both_files(tmp_path: Path) -> None:
    target = tmp_path / "routewatch.yaml"
    result = CliRunner().invoke(main, ["config", "import-bgpalerter", str(PREFIXES), "--config-yml", str(EXAMPLE),
                                       "-o", str(target)])
    assert result.exit_code == 0, result.stderr
    assert "warning: config.yml: reports: not imported" in result.stderr
    config = load_config(target)
    assert config.bgp.exclude_peers == ["123.0.0.0/24", "AS3453"]
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header == "# routewatch config converted from BGPalerter's prefixes-handwritten.yml and config.yml.example"
    assert yaml.safe_load(target.read_text(encoding="utf-8"))["sources"] == [{"type": "ris-live", "name": "ris"}]


def test_the_cli_names_the_config_yml_problems() -> None:
    result = CliRunner().invoke(main, ["config", "import-bgpalerter", str(PREFIXES), "--config-yml",
                                       str(PREFIXES)])
    assert result.exit_code == 1
    assert "not BGPalerter's prefixes.yml and config.yml" in result.stderr
    assert "config.yml: (top level): expected BGPalerter's config.yml" in result.stderr


def test_problems_of_both_files_are_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        convert({"192.0.2.0/24": {"description": "no asn"}}, {"fadeOffSeconds": "soon"})
    assert caught.value.problems == [
        "192.0.2.0/24.asn: required (the expected origin AS, a number or a list)",
        "config.yml: fadeOffSeconds: expected a positive number of seconds, got a string ('soon')",
    ]
