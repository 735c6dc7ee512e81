"""VRP JSON exports in the formats of rpki-client, Routinator (json, jsonext) and StayRTR."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path

import pytest

from routewatch.rpki.json_vrps import VrpJsonError, parse_vrp_json
from routewatch.rpki.vrp import Vrp
from routewatch.sources.vrp.json_source import JsonVrpSource

NET = ipaddress.ip_network


def test_rpki_client_json() -> None:
    doc = {
        "metadata": {"buildmachine": "x", "buildtime": "2024-01-01T00:00:00Z", "roas": 2},
        "roas": [
            {"asn": 64496, "prefix": "192.0.2.0/24", "maxLength": 24, "ta": "ripe", "expires": 1704067200},
            {"asn": 64497, "prefix": "2001:db8::/32", "maxLength": 48, "ta": "arin", "expires": 1704153600},
        ],
    }
    load = parse_vrp_json(json.dumps(doc))
    assert load.vrps == {
        Vrp(NET("192.0.2.0/24"), 24, 64496, 1704067200.0),
        Vrp(NET("2001:db8::/32"), 48, 64497, 1704153600.0),
    }
    assert load.skipped == 0


def test_routinator_json_and_stayrtr_rpki_json() -> None:
    doc = {"roas": [{"asn": "AS64496", "prefix": "192.0.2.0/24", "maxLength": 25, "ta": "ripe"}]}
    assert parse_vrp_json(json.dumps(doc)).vrps == {Vrp(NET("192.0.2.0/24"), 25, 64496)}


def test_routinator_jsonext_takes_the_earliest_chain_expiry() -> None:
    doc = {"roas": [{
        "asn": "AS64496", "prefix": "192.0.2.0/24", "maxLength": 24,
        "source": [
            {"type": "roa", "uri": "rsync://a/b.roa", "tal": "ripe",
             "validity": {"notBefore": "2024-01-01T00:00:00Z", "notAfter": "2024-06-01T00:00:00Z"},
             "chainValidity": {"notBefore": "2024-01-01T00:00:00Z", "notAfter": "2024-03-01T00:00:00Z"}},
            {"type": "roa", "uri": "rsync://a/c.roa", "tal": "ripe",
             "chainValidity": {"notBefore": "2024-01-01T00:00:00Z", "notAfter": "2024-04-01T00:00:00Z"}},
        ],
    }]}
    (vrp,) = parse_vrp_json(json.dumps(doc)).vrps
    assert vrp.expires == 1709251200.0


def test_garbage_entries_are_counted_and_skipped() -> None:
    doc = {"roas": [
        {"asn": 64496, "prefix": "192.0.2.0/24", "maxLength": 24},
        {"asn": "ASX", "prefix": "192.0.2.0/24", "maxLength": 24},
        {"asn": 1, "prefix": "192.0.2.1/24", "maxLength": 24},
        {"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 33},
        {"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 20},
        {"asn": 2**32, "prefix": "192.0.2.0/24"},
        {"asn": 1, "prefix": 5},
        "text",
        None,
    ]}
    load = parse_vrp_json(json.dumps(doc))
    assert load.vrps == {Vrp(NET("192.0.2.0/24"), 24, 64496)}
    assert load.skipped == 8
    assert load.reasons[0].startswith("roas[1]: ") and len(load.reasons) == 5


@pytest.mark.parametrize("text", ["", "[]", "{\"roas\": 3}", "{\"other\": []}", "not json"])
def test_a_document_that_is_not_an_export_is_an_error(text: str) -> None:
    with pytest.raises(VrpJsonError):
        parse_vrp_json(text)


def test_a_file_source_reloads_only_on_change_and_keeps_its_last_good_set(tmp_path: Path) -> None:
    path = tmp_path / "vrps.json"
    path.write_text(json.dumps({"roas": [{"asn": 1, "prefix": "192.0.2.0/24", "maxLength": 24}]}))
    source = JsonVrpSource("file", str(path), clock=lambda: 100.0)

    async def scenario() -> None:
        assert await source.poll()
        assert not await source.poll()
        assert source.status().serial == 1 and not source.status().stale
        path.write_text("{broken")
        assert not await source.poll()
        status = source.status()
        assert status.stale and status.loaded and len(status.vrps) == 1 and "not JSON" in status.detail
        path.write_text(json.dumps({"roas": [{"asn": 2, "prefix": "198.51.100.0/24", "maxLength": 24}]}))
        assert await source.poll()
        assert source.status().serial == 2 and {v.asn for v in source.status().vrps} == {2}
        path.unlink()
        assert not await source.poll()
        assert source.status().stale and len(source.status().vrps) == 1

    asyncio.run(scenario())
