"""BGPalerter prefixes.yml -> routewatch config: mapped exactly, nothing dropped without a warning."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.config.bgpalerter import convert, render
from routewatch.config.schema import parse_config
from routewatch.config.yamlfile import read_yaml
from routewatch.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bgpalerter"
MAPPED_PREFIX_KEYS = {"asn", "description", "ignoreMorespecifics", "ignore", "group", "path"}
MAPPED_ASN_KEYS = {"group", "upstreams", "downstreams"}


def load(name: str) -> Any:
    document, problems = read_yaml(FIXTURES / name)
    assert problems == []
    return document


def test_handwritten_file_maps_every_field() -> None:
    conversion = convert(load("prefixes-handwritten.yml"))
    assert conversion.warnings == ()
    assert conversion.config == {
        "prefixes": [
            {"prefix": "129.134.30.0/23", "asn": 32934, "description": "a.ns.facebook.com",
             "ignore_more_specifics": False},
            {"prefix": "185.89.218.0/23", "asn": 32934, "description": "c.ns.facebook.com",
             "ignore_more_specifics": True},
            {"prefix": "2a03:2880:f0fc::/48", "asn": 32934, "description": "a.ns.facebook.com IPv6",
             "ignore_more_specifics": False},
        ],
        "sources": [{"type": "ris-live"}],
    }


def test_generated_file_keeps_groups_and_monitored_asns() -> None:
    conversion = convert(load("prefixes-generated.yml"))
    prefixes = conversion.config["prefixes"]
    assert [p["prefix"] for p in prefixes] == ["193.0.0.0/21", "193.0.10.0/23", "193.0.12.0/23", "2001:67c:2e8::/48"]
    assert {p["group"] for p in prefixes} == {"noc"}
    assert {p["asn"] for p in prefixes} == {3333}
    assert prefixes[2]["description"] == "No description provided (No ROA available)"
    # monitorASns alerts on an unlisted prefix of the AS: so does the import; null downstreams allow none
    assert conversion.config["asns"] == [{"asn": 3333, "group": "noc", "upstreams": [1299, 2914], "downstreams": [],
                                          "new_prefixes": True}]
    assert conversion.warnings == (
        "options.generate: not imported (these are the parameters BGPalerter's generate command used; routewatch "
        "discovers an AS's prefixes itself from asns[] entries); was: {exclude: [], excludeDelegated: false, "
        "monitoredASes: true, historical: false, group: noc, asnList: ['3333']}",
    )


def test_every_key_file_warns_about_each_unmapped_key() -> None:
    conversion = convert(load("prefixes-every-key.yml"))
    assert conversion.config["prefixes"] == [
        {"prefix": "165.254.255.0/24", "asn": 2914, "description": "Rome peering", "group": "noc",
         "ignore_more_specifics": False,
         "path": [{"match": ".*2194,1234$", "not_match": ".*5054.*", "description": "detected scrubbing center",
                   "max_length": 128, "min_length": 2}]},
        {"prefix": "192.147.168.0/24", "asn": [15562, 20940], "description": "scrubbed",
         "ignore_more_specifics": True},
        {"prefix": "94.5.4.0/22", "asn": 2914, "description": "1234", "ignore_more_specifics": False},
    ]
    assert conversion.config["asns"] == [
        {"asn": 2914, "group": "noc", "upstreams": [174, 3356], "downstreams": [], "new_prefixes": True},
        {"asn": 15562, "new_prefixes": True}, {"asn": 64496, "new_prefixes": True}]
    assert list(conversion.warnings) == [
        "165.254.255.0/24.group: routewatch keeps one group per entry; imported 'noc', not imported: peering",
        "165.254.255.0/24.excludeMonitors: not imported (routewatch runs every detection on every watched "
        "prefix); was: [withdrawal-detection]",
        "192.147.168.0/24.asn: AS15562 is listed twice; imported once",
        "192.147.168.0/24.includeMonitors: not imported (routewatch runs every detection on every watched "
        "prefix); was: [prefix-detection]",
        "192.147.168.0/24.valid: not imported (the RPKI validity BGPalerter's generate recorded is not used by "
        "routewatch); was: true",
        "94.5.4.3/22: host bits set; imported as 94.5.4.0/22",
        "94.5.4.3/22.colour: not imported (not a key routewatch knows how to import); was: blue",
        "options.monitorASns.64496.groupd: not imported (not a key routewatch knows how to import); was: default",
        "options.generate: not imported (these are the parameters BGPalerter's generate command used; "
        "routewatch discovers an AS's prefixes itself from asns[] entries); was: {asnList: ['2914']}",
        "options.notifyEveryone: not imported (not a key routewatch knows how to import); was: true",
        "165.254.255.128/25: not watched (ignore: true); it lies inside watched 165.254.255.0/24, where "
        "routewatch still reports it if another AS originates it, or as a more-specific",
    ]


@pytest.mark.parametrize("name", ["prefixes-handwritten.yml", "prefixes-generated.yml", "prefixes-every-key.yml"])
def test_output_is_a_valid_routewatch_config(name: str) -> None:
    conversion = convert(load(name))
    text = render(conversion, name)
    assert text.startswith(f"# routewatch config converted from BGPalerter's {name}\n")
    assert all(f"#   - {warning}\n" in text for warning in conversion.warnings)
    config = parse_config(yaml.safe_load(text))
    assert len(config.prefixes) == len(conversion.config["prefixes"])
    assert [source.type for source in config.sources] == ["ris-live"]


@pytest.mark.parametrize("name", ["prefixes-handwritten.yml", "prefixes-generated.yml", "prefixes-every-key.yml"])
def test_no_key_is_dropped_without_a_warning(name: str) -> None:
    document = load(name)
    conversion = convert(document)
    _assert_nothing_silently_dropped(document, conversion.warnings)


def _assert_nothing_silently_dropped(document: dict[str, Any], warnings: tuple[str, ...]) -> None:
    for key, entry in document.items():
        if key == "options":
            for option, value in entry.items():
                if option != "monitorASns":
                    assert any(w.startswith(f"options.{option}: not imported") for w in warnings)
                    continue
                for asn, asn_settings in (value or {}).items():
                    for setting in asn_settings or {}:
                        if setting not in MAPPED_ASN_KEYS:
                            assert any(w.startswith(f"options.monitorASns.{asn}.{setting}: ") for w in warnings)
            continue
        for setting in entry:
            if setting not in MAPPED_PREFIX_KEYS:
                assert any(w.startswith(f"{key}.{setting}: not imported") for w in warnings), (key, setting)
        if entry.get("ignore") is True:
            assert any(w.startswith(f"{key}: not watched (ignore: true)") for w in warnings)


def test_ignored_prefix_outside_any_watched_one() -> None:
    conversion = convert({"192.0.2.0/24": {"asn": 64500, "ignoreMorespecifics": False, "ignore": True},
                          "198.51.100.0/24": {"asn": 64500, "ignoreMorespecifics": False}})
    assert [p["prefix"] for p in conversion.config["prefixes"]] == ["198.51.100.0/24"]
    assert conversion.warnings == ("192.0.2.0/24: not watched (ignore: true)",)


def test_ignored_prefix_under_one_that_ignores_more_specifics() -> None:
    conversion = convert({"10.0.0.0/8": {"asn": 64500, "ignoreMorespecifics": True},
                          "10.1.0.0/16": {"asn": 64501, "ignoreMorespecifics": True, "ignore": True}})
    assert conversion.warnings == (
        "10.1.0.0/16: not watched (ignore: true); it lies inside watched 10.0.0.0/8, where routewatch still "
        "reports it if another AS originates it",
    )


def test_same_prefix_written_twice_is_imported_once() -> None:
    conversion = convert({"10.0.0.0/8": {"asn": 64500, "ignoreMorespecifics": False},
                          "10.0.0.1/8": {"asn": 64501, "ignoreMorespecifics": False}})
    assert conversion.config["prefixes"] == [
        {"prefix": "10.0.0.0/8", "asn": 64500, "description": "", "ignore_more_specifics": False}
    ]
    assert conversion.warnings == (
        "10.0.0.1/8: host bits set; imported as 10.0.0.0/8",
        "10.0.0.1/8: the same prefix as an earlier entry once host bits are cleared; not imported",
    )


def test_as_text_and_group_lists() -> None:
    conversion = convert({"2001:db8::/32": {"asn": ["AS64500", "64501"], "group": ["noc"],
                                            "ignoreMorespecifics": False, "description": "lab"}})
    assert conversion.config["prefixes"] == [
        {"prefix": "2001:db8::/32", "asn": [64500, 64501], "description": "lab", "group": "noc",
         "ignore_more_specifics": False}
    ]
    assert conversion.warnings == ()


def test_options_alone_watch_asns() -> None:
    conversion = convert({"options": {"monitorASns": {"AS32934": {"group": "fb"}, 3333: None}}})
    assert conversion.config["prefixes"] == []
    assert conversion.config["asns"] == [{"asn": 32934, "group": "fb", "new_prefixes": True},
                                         {"asn": 3333, "new_prefixes": True}]
    parse_config(conversion.config)


def test_many_monitored_asns_raise_the_cap_so_the_output_loads() -> None:
    document = {"options": {"monitorASns": {64500 + n: {"group": "noc"} for n in range(101)}}}
    conversion = convert(document)
    assert conversion.config["limits"] == {"max_watched_prefixes": 20_200}
    assert conversion.warnings == (
        "limits.max_watched_prefixes: set to 20200 (default 20000) so that 0 prefixes and 200 per watched AS fit",
    )
    assert parse_config(conversion.config).max_prefix_series() == 20_200


@pytest.mark.parametrize(
    ("document", "problems"),
    [
        (None, ["(top level): the file is empty; a BGPalerter prefixes.yml maps prefixes to settings"]),
        ([1, 2], ["(top level): expected a mapping of prefixes to settings (BGPalerter's prefixes.yml), got a list"]),
        ({}, ["(top level): no prefixes to monitor and no options.monitorASns"]),
        (
            {"prefixes": [{"prefix": "192.0.2.0/24", "asn": 64500}], "sources": [{"type": "ris-live"}]},
            [
                "'prefixes': neither a prefix nor 'options'",
                "'sources': neither a prefix nor 'options'",
                "(top level): this looks like a routewatch config already, not a BGPalerter file",
            ],
        ),
        (
            {"192.0.2.0/24": "AS64500", "198.51.100.0/24": {"description": "x"},
             "203.0.113.0/24": {"asn": "AS64500x", "ignore": "yes"}, "10.0.0.0/8": {"asn": [], "group": 5},
             "10.1.0.0/16": {"asn": 64500, "description": ["x"], "ignoreMorespecifics": 1}},
            [
                "192.0.2.0/24: expected a mapping of settings (asn, description, ...), got a string ('AS64500')",
                "198.51.100.0/24.asn: required (the expected origin AS, a number or a list)",
                "203.0.113.0/24.asn: expected an integer AS number, got 'AS64500x'",
                "203.0.113.0/24.ignore: expected true or false, got a string ('yes')",
                "10.0.0.0/8.asn: the list is empty; at least one origin AS is needed",
                "10.0.0.0/8.group: expected a group name or a list of them, got an integer (5)",
                "10.1.0.0/16.description: expected a string, got a list",
                "10.1.0.0/16.ignoreMorespecifics: expected true or false, got an integer (1)",
            ],
        ),
        (
            {"options": {"monitorASns": {"x": {}, 4294967296: {}, 64500: "noc"}}},
            [
                "options.monitorASns.x: expected an integer AS number, got 'x'",
                "options.monitorASns.4294967296: AS number 4294967296 is out of range (0 to 4294967295)",
                "options.monitorASns.64500: expected a mapping (group, upstreams, downstreams), got a string ('noc')",
            ],
        ),
        ({"options": ["monitorASns"]}, ["options: expected a mapping (monitorASns, generate), got a list"]),
        (
            {"192.0.2.0/24": {"asn": 0, "ignoreMorespecifics": False}, "options": {"monitorASns": {23456: None}}},
            [
                "192.0.2.0/24.asn: AS0 is reserved (RFC 7607) and is never a valid origin",
                "options.monitorASns.23456: AS23456 is AS_TRANS (RFC 6793), a placeholder that is never a real origin",
            ],
        ),
    ],
)
def test_not_a_bgpalerter_file(document: object, problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        convert(document)
    assert caught.value.problems == problems


_asn = st.integers(min_value=1, max_value=2**32 - 1).filter(lambda n: n != 23456)
_entry = st.fixed_dictionaries(
    {"asn": st.one_of(_asn, st.lists(_asn, min_size=1, max_size=3)), "ignoreMorespecifics": st.booleans()},
    optional={
        "description": st.text(max_size=20),
        "ignore": st.booleans(),
        "group": st.sampled_from(["noc", "default", "peering"]),
        "excludeMonitors": st.lists(st.sampled_from(["withdrawal-detection", "path-matching"]), max_size=2),
        "includeMonitors": st.lists(st.just("prefix-detection"), max_size=1),
        "path": st.fixed_dictionaries({"match": st.just(".*2914$"), "matchDescription": st.just("x")}),
        "somethingNew": st.integers(),
    },
)
_prefix = st.one_of(
    st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 32)),
    st.tuples(st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address), st.integers(16, 64)),
).map(lambda t: str(ipaddress.ip_network(t, strict=False)))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_prefix, _entry, min_size=1, max_size=8))
def test_any_wellformed_file_converts_to_a_loadable_config(document: dict[str, Any]) -> None:
    conversion = convert(document)
    config = parse_config(yaml.safe_load(render(conversion, "prefixes.yml")))
    watched = {str(w.prefix) for w in config.prefixes}
    assert watched == {p for p, e in document.items() if e.get("ignore") is not True}
    _assert_nothing_silently_dropped(document, conversion.warnings)


def test_path_rules_and_neighbour_lists_are_imported_and_checked() -> None:
    conversion = convert({
        "192.0.2.0/24": {"asn": 64500, "path": [{"match": "^174,", "matchDescription": "via 174"}, {"maxLength": 6}]},
        "options": {"monitorASns": {64500: {"upstreams": [174], "downstreams": None}}},
    })
    assert conversion.config["prefixes"][0]["path"] == [{"match": "^174,", "description": "via 174"},
                                                        {"max_length": 6}]
    assert conversion.config["asns"] == [{"asn": 64500, "upstreams": [174], "downstreams": [], "new_prefixes": True}]
    config = parse_config(conversion.config)
    assert config.asns[0].downstreams == () and config.prefixes[0].path[1].max_length == 6
    with pytest.raises(ConfigError) as caught:
        convert({"192.0.2.0/24": {"asn": 64500, "path": {"match": "(", "maxLength": 0}},
                 "options": {"monitorASns": {64500: {"upstreams": "174"}}}})
    assert caught.value.problems == [
        "192.0.2.0/24.path.match: not a regular expression: a string ('(')",
        "192.0.2.0/24.path.maxLength: expected a positive integer, got an integer (0)",
        "options.monitorASns.64500.upstreams: expected a list of AS numbers, got a string ('174')",
    ]
