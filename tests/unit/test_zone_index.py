"""IPv6 zone indexes (``%eth0``) are refused wherever prefixes arrive, with a clear and counted error.

``ipaddress`` accepts ``2001:db8::%eth0/48`` and hashes it like
``2001:db8::/48``, so unrefused it was counted as the watched /48.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from routewatch.config.bgpalerter import convert
from routewatch.config.schema import parse_config
from routewatch.errors import ConfigError
from routewatch.model import ZONE_INDEX, ZoneIndexError, canonical_address, parse_prefix
from routewatch.sources.ripestat import parse_looking_glass
from routewatch.sources.ris_live.parse import RisParser
from tests.support import ripestat_server as rs

WATCHED = "2001:db8::/48"
ZONED = ["2001:db8::%eth0/48", "fe80::%eth0/64", "2001:db8::%1/48", "fe80::/64%eth0", " 2001:db8::%eth0/48 "]


@pytest.mark.parametrize("text", ZONED)
def test_a_prefix_with_a_zone_index_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="zone index"):
        parse_prefix(text)


def test_an_address_with_a_zone_index_is_refused() -> None:
    with pytest.raises(ZoneIndexError):
        canonical_address("fe80::1%eth0")


@pytest.mark.parametrize("text", ZONED[:3])
def test_the_config_reports_the_path_of_a_zoned_prefix(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"prefixes": [{"prefix": WATCHED, "asn": 64500}, {"prefix": text, "asn": 64500}]})
    (problem,) = caught.value.problems
    assert problem.startswith("prefixes[1].prefix: ") and "zone index" in problem


def test_the_config_reports_a_zoned_service_address() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"zones": [{"zone": "example.com", "service_prefixes": {"fe80::1%eth0": [WATCHED]}}]})
    (problem,) = caught.value.problems
    assert problem.startswith("zones[0].service_prefixes") and "zone index" in problem


def test_a_bgpalerter_import_reports_a_zoned_prefix() -> None:
    with pytest.raises(ConfigError) as caught:
        convert({"2001:db8::%eth0/48": {"asn": 64500, "ignoreMorespecifics": False}})
    assert any("zone index" in problem for problem in caught.value.problems)


def ris_update(prefixes: list[str], withdrawals: list[str] = ()) -> str:  # type: ignore[assignment]
    return json.dumps({"type": "ris_message", "data": {
        "timestamp": 1_700_000_000.0, "peer": "192.0.2.1", "peer_asn": "64501", "id": "x", "host": "rrc00",
        "type": "UPDATE", "path": [64501, 64500], "withdrawals": list(withdrawals),
        "announcements": [{"next_hop": "192.0.2.1", "prefixes": prefixes}]}})


def test_ris_live_counts_a_zoned_prefix_and_keeps_the_rest_of_the_message() -> None:
    parser = RisParser()
    parser.decode(ris_update([WATCHED]))  # the peer is cached: the next message may take the fast path
    frame = parser.decode(ris_update([ZONED[0], WATCHED, "fe80::/64%eth0"], withdrawals=[ZONED[1]]))
    assert [str(e.prefix) for e in frame.events] == [WATCHED]
    assert parser.tally.malformed == Counter({ZONE_INDEX: 3})


def test_ris_live_refuses_a_zoned_peer_address() -> None:
    parser = RisParser()
    frame = parser.decode(ris_update([WATCHED]).replace('"192.0.2.1", "peer_asn"', '"fe80::1%eth0", "peer_asn"'))
    assert not frame.events and "zone index" in frame.detail and parser.tally.malformed["peer"] == 1


def test_ripestat_skips_and_counts_a_zoned_looking_glass_entry() -> None:
    answer = rs.looking_glass(WATCHED, [
        rs.LgPeer("rrc00", "2001:7f8:1::1", "1103 64500", WATCHED),
        rs.LgPeer("rrc00", "2001:7f8:1::2", "1104 64500", ZONED[0]),
        rs.LgPeer("rrc01", "fe80::1%eth0", "1105 64500", WATCHED),
    ])
    skipped: Counter[str] = Counter()
    routes = parse_looking_glass(answer, skipped)
    assert [r.peer.address for r in routes] == ["2001:7f8:1::1"]
    assert skipped == Counter({"looking-glass": 2})
