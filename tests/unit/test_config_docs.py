"""docs/configuration.md and examples/routewatch.yaml cannot drift from the config models."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

from routewatch.config.reference import BEGIN, END, main, sections, update_document
from routewatch.config.schema import DEFAULT_RIS_LIVE_URL, Config, RisLiveSource, load_config
from tests.support.tools import SHARED_DATA, require_data

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "configuration.md"
EXAMPLE = REPO / "examples" / "routewatch.yaml"


def documented_keys() -> dict[str, set[str]]:
    """Section heading -> the keys its table lists."""
    found: dict[str, set[str]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"### `(.+)`", line)
        if heading:
            current = found.setdefault(heading.group(1), set())
        row = re.match(r"\| `([a-z_]+)` \|", line)
        if row and current is not None:
            current.add(row.group(1))
    return found


def test_reference_block_is_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert update_document(text) == text, "run: python -m routewatch.config.reference docs/configuration.md"


def test_doc_mentions_every_field_of_every_section() -> None:
    documented = documented_keys()
    for path, model in sections():
        assert documented.get(path) == set(model.model_fields), path


def test_sections_reach_every_model_in_the_config() -> None:
    every_model = set(Config.model_json_schema()["$defs"]) | {"Config"}
    assert {model.__name__ for _, model in sections()} == every_model


def test_every_field_has_a_meaning() -> None:
    for path, model in sections():
        for name, field in model.model_fields.items():
            assert field.description, f"{path}.{name} has no description"


def test_check_mode_reports_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(f"intro\n{BEGIN}\nold table\n{END}\nend\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0
    text = stale.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith(f"{END}\nend\n") and "old table" not in text


def test_example_config_watches_the_facebook_dns_prefixes() -> None:
    facts = json.loads(require_data(SHARED_DATA / "dns" / "facebook.com.delegation.json").read_text())
    covering = facts["covering_prefixes_origin_as32934"]
    expected = {ipaddress.ip_network(p) for p in covering["ipv4_from_routeviews_show_ip_bgp_text"]}
    expected |= {ipaddress.ip_network(p) for p in covering["ipv6_unverified_guess"]}

    config = load_config(EXAMPLE)
    assert {watch.prefix for watch in config.prefixes} == expected
    assert all(watch.asn == (32934,) for watch in config.prefixes)
    assert [zone.zone for zone in config.zones] == ["facebook.com."]
    assert config.sources == [RisLiveSource(type="ris-live")]
    assert config.sources[0].url == DEFAULT_RIS_LIVE_URL
    assert (config.exporter.listen, config.exporter.port) == ("127.0.0.1", 9724)


def test_example_descriptions_name_the_nameserver_each_prefix_serves() -> None:
    facts = json.loads(require_data(SHARED_DATA / "dns" / "facebook.com.delegation.json").read_text())
    config = load_config(EXAMPLE)
    zone = config.zones[0]
    for name, records in facts["ns"].items():
        for address in records.values():
            ip = ipaddress.ip_address(address)
            serving = [w for w in config.prefixes if ip in w.prefix]
            assert serving, address
            longest = max(serving, key=lambda w: w.prefix.prefixlen)
            assert name.rstrip(".") in longest.description, (address, longest.description)
            assert longest.prefix in zone.service_prefixes[str(ip)]
