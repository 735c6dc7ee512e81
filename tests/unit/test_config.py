"""Config validation: every invalid example maps to its exact messages, all reported at once.

Like blackbox_exporter's ``testdata/invalid-*.yml``: each file under
``tests/fixtures/config/`` is one kind of mistake, and the table below is the
whole of what routewatch must say about it, in order.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from routewatch.config.schema import (
    DEFAULT_EXPORTER_PORT,
    DEFAULT_RIS_LIVE_URL,
    AsnWatch,
    BgpSettings,
    Config,
    ExporterSettings,
    Limits,
    MrtSource,
    PrefixWatch,
    RisLiveSource,
    ThresholdOverrides,
    Thresholds,
    ZoneWatch,
    load_config,
    parse_config,
)
from routewatch.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "config"

INVALID: dict[str, list[str]] = {
    "invalid-asn.yaml": [
        'prefixes[0].asn: AS number 4294967296 is out of range (0 to 4294967295)',
        'prefixes[1].asn: AS number -1 is out of range (0 to 4294967295)',
        "prefixes[2].asn: expected an integer AS number, got 'AS32934x'",
        'prefixes[3].asn: AS0 is reserved (RFC 7607) and is never a valid origin',
        'prefixes[4].asn: AS23456 is AS_TRANS (RFC 6793), a placeholder that is never a real origin',
        "prefixes[5].asn: expected an AS number such as 32934 or 'AS32934', got a boolean (true)",
        'prefixes[6].asn: AS64500 is listed more than once',
        'prefixes[7].asn: must not be empty',
        'prefixes[8].asn: required key is missing',
        "prefixes[9].asn: expected an AS number such as 32934 or 'AS32934', got a number (1.5)",
        'asns[0].asn: AS number 99999999999 is out of range (0 to 4294967295)',
    ],
    "invalid-duplicates.yaml": [
        'prefixes[2].prefix: 192.0.2.0/24 is already listed at prefixes[0]',
        'prefixes[3].asn: AS64500 is listed more than once',
        'prefixes[3].prefix: 2001:db8::/32 is already listed at prefixes[1]',
        'asns[1].asn: AS32934 is already listed at asns[0]',
        'zones[1].zone: example.com. is already listed at zones[0]',
        'sources[1].name: ris-live is already listed at sources[0]',
        'sources[3].name: archive is already listed at sources[2]',
    ],
    "invalid-host-bits.yaml": [
        'prefixes[0].prefix: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?',
        'prefixes[1].prefix: 2001:db8::1/32 has host bits set; did you mean 2001:db8::/32?',
        "prefixes[2].prefix: '192.0.2.0/33' is not a valid prefix (expected e.g. 192.0.2.0/24 or 2001:db8::/32)",
        "prefixes[3].prefix: 'not-a-prefix' is not a valid prefix (expected e.g. 192.0.2.0/24 or 2001:db8::/32)",
        'zones[0].service_prefixes["192.0.2.53"][0]: 192.0.2.53/24 has host bits set; did you mean 192.0.2.0/24?',
    ],
    "invalid-limits.yaml": [
        'limits.max_watched_prefixes: this config can watch up to 434 prefixes (2 configured, 400 from asns[].max_prefixes, 32 nameserver addresses of zones), over the cap of 400; raise the cap or lower asns[].max_prefixes',  # noqa: E501
    ],
    "invalid-must-be-signed.yaml": [
        "zones[0].must_be_signed: needs the DNSSEC check, which dns.dnssec.enabled turns off",
        "zones[1].must_be_signed: expected true or false, got a string ('yes')",
    ],
    "invalid-repeated-keys.yaml": [
        "line 5, column 5: key 'asn' appears again in the same mapping (first at line 4); YAML would keep only the last value",  # noqa: E501
        "line 8, column 1: key 'exporter' appears again in the same mapping (first at line 6); YAML would keep only the last value",  # noqa: E501
    ],
    "invalid-six-problems.yaml": [
        'prefixes[2].prefix: 129.134.31.1/24 has host bits set; did you mean 129.134.31.0/24?',
        'prefixes[3].asn: AS number 4294967296 is out of range (0 to 4294967295)',
        "prefixes[4].ignore_more_specific: unknown key (did you mean 'ignore_more_specifics'?)",
        'prefixes[4].prefix: 129.134.30.0/23 is already listed at prefixes[0]',
        "zones[0].watch_nameserver_prefixes: expected true or false, got a string ('sometimes')",
        'exporter.port: must be at most 65535, got 97240',
    ],
    "invalid-sources.yaml": [
        "sources[1].type: unknown source type 'foo' (expected one of: ris-live, bgpstream, mrt, bmp)",
        'sources[2].type: required key is missing (expected one of: ris-live, bgpstream, mrt, bmp)',
        'sources[3].files: an mrt source needs files for `routewatch run` (replay and the checks take them from the command line)',  # noqa: E501
        "sources[4].record_type: expected 'updates' or 'ribs', got a string ('rib')",
        'sources[5].name: must not be empty',
    ],
    "invalid-thresholds-defaults.yaml": [
        'bgp.thresholds.recovered_ratio: must be above withdrawn_ratio (0.9), got 0.5 (without that gap a prefix at the threshold would flap)',  # noqa: E501
        'bgp.thresholds.hold_down: must be greater than 0, got -5',
    ],
    "invalid-thresholds.yaml": [
        'prefixes[0].thresholds.recovered_ratio: must be above withdrawn_ratio (0.7), got 0.7 (without that gap a prefix at the threshold would flap)',  # noqa: E501
        'prefixes[1].thresholds: combined with bgp.thresholds, recovered_ratio must be above withdrawn_ratio (0.95), got 0.9 (without that gap a prefix at the threshold would flap)',  # noqa: E501
        'prefixes[2].thresholds.recovered_ratio: must be at most 1, got 1.5',
        'prefixes[2].thresholds.hold_down: must be greater than 0, got 0',
        'prefixes[2].thresholds.min_baseline_peers: must be at least 1, got 0',
    ],
    "invalid-top-level.yaml": [
        '(top level): expected a mapping of sections, got a list',
    ],
    "invalid-types.yaml": [
        'prefixes[0].description: expected a string, got an integer (42)',
        "prefixes[0].ignore_more_specifics: expected true or false, got a string ('yes')",
        "prefixes[0].thresholds: expected a mapping (key: value), got a string ('strict')",
        "prefixes[1]: expected a mapping (key: value), got a string ('192.0.2.0/24')",
        "asns: expected a list, got a string ('AS64500')",
        'zones[0].zone: expected a zone name such as example.com, got an integer (53)',
        "zones[0].parent_servers: expected a list, got a string ('192.0.2.1')",
        "sources[0].queue_size: expected an integer, got a string ('lots')",
        "sources[0].ping_interval: expected a number, got a string ('30')",
        "bgp.baseline_window: expected a number, got a string ('1d')",
        'dns.retries: expected an integer, got a number (1.0)',
        'dns.port: must be at least 1, got 0',
        "exporter.listen: 'localhost' is not an IP address (expected e.g. 127.0.0.1 or ::)",
        'exporter.port: expected an integer, got a boolean (true)',
        "logging.level: expected 'debug', 'info', 'warning' or 'error', got a string ('verbose')",
        "state: expected a mapping (key: value), got a string ('/var/lib/routewatch')",
    ],
    "invalid-unknown-keys.yaml": [
        "prefix: unknown key (did you mean 'prefixes'?)",
        "prefixes[0].thresholds.withdrawn: unknown key (did you mean 'withdrawn_ratio'?)",
        "prefixes[0].ignore_more_specific: unknown key (did you mean 'ignore_more_specifics'?)",
        "asns[0].max_prefix: unknown key (did you mean 'max_prefixes'?)",
        "zones[0].nameserver: unknown key (did you mean 'nameservers'?)",
        "sources[0].urll: unknown key (did you mean 'url'?)",
        "sources[1].colector: unknown key (did you mean 'collector'?)",
        "bgp.thresholds.holddown: unknown key (did you mean 'hold_down'?)",
        'bgp.bootstrap.mrt: unknown key (expected one of: mrt_files, ripestat)',
        "bgp.baseline: unknown key (did you mean 'baseline_window'?)",
        "dns.intervall: unknown key (did you mean 'interval'?)",
        'exporter.address: unknown key (expected one of: listen, port, web_config_file)',
        "limits.max_prefixes: unknown key (did you mean 'max_watched_prefixes'?)",
        'state.file: unknown key (expected one of: path, save_interval)',
        "logging.lvl: unknown key (did you mean 'level'?)",
        'ripestat.colour: unknown key (expected one of: url, sourceapp, timeout, retries, concurrency)',
    ],
    "invalid-yaml.yaml": [
        "line 4, column 11: invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence)",
    ],
}


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, daemon=True)
    assert caught.value.source == str(path)
    return caught.value.problems


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_example_gives_exactly_its_messages(name: str) -> None:
    assert problems_of(FIXTURES / name) == INVALID[name]


def test_every_invalid_example_has_expected_messages() -> None:
    on_disk = {path.name for path in FIXTURES.glob("invalid-*.yaml")}
    assert on_disk == set(INVALID)


def test_six_problems_are_six_messages_in_one_run() -> None:
    problems = problems_of(FIXTURES / "invalid-six-problems.yaml")
    assert len(problems) == 6
    assert "prefixes[3].asn: AS number 4294967296 is out of range (0 to 4294967295)" in problems


def test_error_text_names_the_file_and_every_problem() -> None:
    path = FIXTURES / "invalid-six-problems.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert all(problem in text for problem in caught.value.problems)


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize("asn", [32934, "32934", "AS32934", "as32934", " AS32934 "])
def test_asn_is_accepted_as_number_or_as_text(asn: object) -> None:
    config = parse_config({"prefixes": [{"prefix": "129.134.30.0/23", "asn": asn}], "asns": [{"asn": asn}]})
    assert config.prefixes[0].asn == (32934,)
    assert config.asns[0].asn == 32934


def test_asn_list_mixes_forms_and_keeps_order() -> None:
    config = parse_config({"prefixes": [{"prefix": "192.0.2.0/24", "asn": ["AS64501", 64500]}]})
    assert config.prefixes[0].asn == (64501, 64500)


@pytest.mark.parametrize("asn", [1, 4294967295])
def test_asn_range_ends_are_valid(asn: int) -> None:
    assert parse_config({"asns": [{"asn": asn}]}).asns[0].asn == asn


def test_prefixes_are_canonical() -> None:
    config = parse_config(
        {"prefixes": [{"prefix": "2001:DB8:0:0::/32", "asn": 64500}, {"prefix": " 192.0.2.0/24", "asn": 64500}]}
    )
    assert config.prefixes[0].prefix == ipaddress.ip_network("2001:db8::/32")
    assert config.prefixes[1].prefix == ipaddress.ip_network("192.0.2.0/24")


def test_zone_names_are_lower_case_with_final_dot() -> None:
    config = parse_config({"zones": [{"zone": "FaceBook.COM"}]})
    assert config.zones[0].zone == "facebook.com."


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("a..com", "'a..com' is not a valid zone name (empty, over-long or blank-containing label)"),
        ("exa mple.com", "'exa mple.com' is not a valid zone name (empty, over-long or blank-containing label)"),
        ("x" * 64 + ".com", f"'{'x' * 64}.com' is not a valid zone name (empty, over-long or blank-containing label)"),
        ("", "expected a zone name such as example.com, got a string ('')"),
    ],
)
def test_bad_zone_names(zone: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"zones": [{"zone": zone}]})
    assert caught.value.problems == [f"zones[0].zone: {message}"]


def test_must_be_signed_goes_with_the_dnssec_check_on() -> None:
    config = parse_config({"zones": [{"zone": "example.com", "must_be_signed": True}]})
    assert config.zones[0].must_be_signed is True and config.dns.dnssec.enabled is True
    off = parse_config({"dns": {"dnssec": {"enabled": False}}, "zones": [{"zone": "example.com"}]})
    assert off.zones[0].must_be_signed is False


def test_addresses_are_canonical() -> None:
    config = parse_config(
        {"zones": [{"zone": "example.com", "service_prefixes": {"2001:DB8:0::53": ["2001:db8::/48"]}}]}
    )
    assert list(config.zones[0].service_prefixes) == ["2001:db8::53"]


# --- defaults -----------------------------------------------------------------------------


def test_empty_file_is_a_valid_config_of_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    assert load_config(path) == Config()


def test_minimal_config_takes_documented_defaults() -> None:
    config = load_config(FIXTURES / "valid-minimal.yaml")
    watch = config.prefixes[0]
    assert watch == PrefixWatch(prefix=ipaddress.ip_network("192.0.2.0/24"), asn=(64500,))
    assert (watch.description, watch.group, watch.ignore_more_specifics) == ("", "default", False)
    assert watch.thresholds == ThresholdOverrides()
    assert config.thresholds_for(watch) == Thresholds(
        withdrawn_ratio=0.5, recovered_ratio=0.8, hold_down=60.0, min_baseline_peers=3
    )
    assert config.bgp == BgpSettings()
    assert config.exporter == ExporterSettings(listen="127.0.0.1", port=9724)
    assert DEFAULT_EXPORTER_PORT == 9724
    assert config.limits == Limits()
    assert (config.asns, config.zones, config.sources) == ([], [], [])


def test_source_defaults_come_from_the_model() -> None:
    config = parse_config({"sources": [{"type": "ris-live"}, {"type": "mrt", "files": ["a.gz"]}]})
    ris, mrt = config.sources
    assert isinstance(ris, RisLiveSource) and isinstance(mrt, MrtSource)
    assert (ris.name, ris.url, ris.host) == ("ris-live", DEFAULT_RIS_LIVE_URL, None)
    assert (mrt.name, mrt.collector) == ("mrt", None)


def test_null_section_means_all_defaults() -> None:
    config = parse_config({"bgp": None, "exporter": None, "prefixes": None, "sources": None})
    assert config == Config()


def test_full_config_keeps_every_value() -> None:
    config = load_config(FIXTURES / "valid-full.yaml")
    first, second = config.prefixes
    assert first.asn == (64500, 64501)
    assert (first.description, first.group, first.ignore_more_specifics) == ("anycast DNS", "dns", True)
    assert second.prefix == ipaddress.ip_network("2001:db8::/32")
    assert config.asns == [
        AsnWatch(asn=64502, description="customer", group="customers", max_prefixes=50, ignore_more_specifics=True)
    ]
    zone = config.zones[0]
    assert zone == ZoneWatch(
        zone="example.com.",
        description="main zone",
        watch_nameserver_prefixes=False,
        service_prefixes={"2001:db8::53": [ipaddress.ip_network("2001:db8::/48")]},
        parent_servers=["192.0.2.1"],
        nameservers=["ns1.example.com"],
    )
    assert [source.name for source in config.sources] == ["ris-live", "bgpstream", "archive"]
    assert config.bgp.thresholds == Thresholds(
        withdrawn_ratio=0.4, recovered_ratio=0.9, hold_down=30, min_baseline_peers=5
    )
    assert config.bgp.bootstrap.mrt_files == ["rib.gz"] and config.bgp.bootstrap.ripestat is False
    assert config.dns.port == 5353 and config.dns.resolvers == ["::1"]
    assert (config.exporter.listen, config.exporter.port) == ("::", 9800)
    assert config.limits.max_watched_prefixes == 1000
    assert config.state.path == "state.json"
    assert (config.logging.format, config.logging.level) == ("json", "debug")
    assert config.ripestat.concurrency == 2


def test_per_prefix_override_merges_over_the_defaults() -> None:
    config = load_config(FIXTURES / "valid-full.yaml")
    first, second = config.prefixes
    assert config.thresholds_for(first) == Thresholds(
        withdrawn_ratio=0.3, recovered_ratio=0.9, hold_down=120, min_baseline_peers=5
    )
    assert config.thresholds_for(second) == config.bgp.thresholds


def test_override_that_only_works_with_other_defaults_is_fine() -> None:
    raw = {
        "bgp": {"thresholds": {"withdrawn_ratio": 0.2, "recovered_ratio": 0.3}},
        "prefixes": [{"prefix": "192.0.2.0/24", "asn": 64500, "thresholds": {"recovered_ratio": 0.25}}],
    }
    config = parse_config(raw)
    assert config.thresholds_for(config.prefixes[0]).recovered_ratio == 0.25


def test_override_against_custom_defaults_is_checked() -> None:
    raw = {
        "bgp": {"thresholds": {"withdrawn_ratio": 0.2, "recovered_ratio": 0.3}},
        "prefixes": [{"prefix": "192.0.2.0/24", "asn": 64500, "thresholds": {"recovered_ratio": 0.1}}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.problems == [
        "prefixes[0].thresholds: combined with bgp.thresholds, recovered_ratio must be above withdrawn_ratio "
        "(0.2), got 0.1 (without that gap a prefix at the threshold would flap)"
    ]


# --- limits -------------------------------------------------------------------------------


def test_series_exactly_at_the_cap_is_accepted() -> None:
    raw = {
        "limits": {"max_watched_prefixes": 202},
        "prefixes": [{"prefix": "192.0.2.0/24", "asn": 64500}, {"prefix": "198.51.100.0/24", "asn": 64500}],
        "asns": [{"asn": 64500}],
    }
    assert parse_config(raw).max_prefix_series() == 202


def test_series_one_over_the_cap_is_rejected() -> None:
    raw = {
        "limits": {"max_watched_prefixes": 201},
        "prefixes": [{"prefix": "192.0.2.0/24", "asn": 64500}, {"prefix": "198.51.100.0/24", "asn": 64500}],
        "asns": [{"asn": 64500}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.problems == [
        "limits.max_watched_prefixes: this config can watch up to 202 prefixes (2 configured, 200 from "
        "asns[].max_prefixes, 0 nameserver addresses of zones), over the cap of 201; raise the cap or lower "
        "asns[].max_prefixes"
    ]


def test_zone_and_source_caps() -> None:
    raw = {
        "limits": {"max_zones": 1, "max_sources": 1},
        "zones": [{"zone": "a.example", "watch_nameserver_prefixes": False}, {"zone": "b.example"}],
        "sources": [{"type": "ris-live"}, {"type": "mrt", "files": ["a.gz"]}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.problems == [
        "zones: 2 zones exceed limits.max_zones (1)",
        "sources: 2 sources exceed limits.max_sources (1)",
    ]


def test_cap_is_checked_even_when_other_entries_are_invalid() -> None:
    raw = {
        "limits": {"max_watched_prefixes": 10},
        "prefixes": [{"prefix": "10.0.0.1/8", "asn": 64500}],
        "asns": [{"asn": 64500, "max_prefixes": 50}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert caught.value.problems == [
        "limits.max_watched_prefixes: this config can watch up to 51 prefixes (1 configured, 50 from "
        "asns[].max_prefixes, 0 nameserver addresses of zones), over the cap of 10; raise the cap or lower "
        "asns[].max_prefixes",
        "prefixes[0].prefix: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?",
    ]


# --- files --------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "absent.yaml") == ["(file): cannot read: No such file or directory"]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == ["(file): cannot read: Is a directory"]


def test_path_through_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    assert problems_of(tmp_path / "plain" / "routewatch.yaml") == ["(file): cannot read: Not a directory"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"prefixes:\n  - description: caf\xe9\n")
    assert problems_of(path) == ["(file): not UTF-8 text: byte 0xe9 at offset 30 (line 2)"]


def test_two_yaml_documents(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("prefixes: []\n---\nasns: []\n")
    assert problems_of(path) == [
        "line 2, column 1: invalid YAML: expected a single document in the stream, but found another document"
    ]


def test_tabs_are_reported_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "tabs.yaml"
    path.write_text("exporter:\n\tport: 9724\n")
    assert problems_of(path) == [
        "line 2, column 1: invalid YAML: found character '\\t' that cannot start any token "
        "(while scanning for the next token)"
    ]


def test_repeated_keys_are_reported_with_validation_problems(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text("exporter:\n  port: 1\n  port: 70000\n")
    assert problems_of(path) == [
        "line 3, column 3: key 'port' appears again in the same mapping (first at line 2); "
        "YAML would keep only the last value",
        "exporter.port: must be at most 65535, got 70000",
    ]


def test_config_is_frozen() -> None:
    config = load_config(FIXTURES / "valid-minimal.yaml")
    with pytest.raises(ValueError):
        config.prefixes[0].description = "changed"  # type: ignore[misc]
