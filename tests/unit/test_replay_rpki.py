"""``routewatch replay --json`` with an ``rpki`` section: real RIS updates validated against a small VRP export.

The updates are RIS rrc00's of 2010-07-22 20:15 (``../shared/data``); the VRPs
(``tests/fixtures/rpki/vrps-20100722.json``, rpki-client's format) are made up
for four prefixes seen in them: one announced beyond its ROA's max length,
one valid with a ROA about to expire, one without a ROA, one whose ROA names
another AS than the one seen (configured here as a hijack). The peers still
holding each prefix at the end are counted from bgpdump's own decoding of the
file, not routewatch's.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from routewatch.cli import main
from tests.support.tools import MRT_DIR, REPO

UPDATES = MRT_DIR / "updates.20100722.2015.gz"
BGPDUMP = MRT_DIR / "bgpdump-expected" / "updates.20100722.2015.gz.bgp.gz"
VRPS = REPO / "tests" / "fixtures" / "rpki" / "vrps-20100722.json"
FIRST_RECORD = 1279829701

TOO_LONG = "94.205.96.0/19"  # AS15802; ROA 94.205.0.0/16-18 AS15802
VALID = "91.213.6.0/24"  # AS196817; ROA exact, expiring 1280000000 (within 7 days)
NOT_COVERED = "198.8.16.0/20"  # AS1415; no ROA
HIJACKED = "193.26.16.0/24"  # seen from AS49336; configured and ROA'd for AS64511


def holders(prefix: str) -> set[str]:
    """Peers whose route for ``prefix`` stands at the end of the file, by bgpdump's lines."""
    held: set[str] = set()
    for line in gzip.decompress(BGPDUMP.read_bytes()).decode().splitlines():
        fields = line.split("|")
        if fields[2] == "STATE" and fields[6] != "6":
            held.discard(fields[3])  # a session down drops its routes
        elif fields[2] in ("A", "W") and fields[5] == prefix:
            (held.add if fields[2] == "A" else held.discard)(fields[3])
    return held


def test_replay_validates_every_route_against_the_configured_vrps(tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - {{prefix: {TOO_LONG}, asn: 15802}}
  - {{prefix: {VALID}, asn: 196817}}
  - {{prefix: {NOT_COVERED}, asn: 1415}}
  - {{prefix: {HIJACKED}, asn: 64511}}
rpki:
  sources: [{{type: json, name: fixture, path: {VRPS}}}]
""")
    metrics = tmp_path / "metrics.prom"
    result = CliRunner().invoke(main, ["replay", "-c", str(config), "--json", "--metrics-out", str(metrics),
                                       str(UPDATES)])
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    opened = {(d["kind"], d["prefix"]): d for d in lines if d["event"] == "opened"}
    rpki_kinds = {key for key in opened if key[0].startswith("rpki-")}
    assert rpki_kinds == {("rpki-invalid", TOO_LONG), ("rpki-not-covered", NOT_COVERED),
                          ("rpki-roa-expiring", VALID)}

    invalid = opened[("rpki-invalid", TOO_LONG)]["evidence"]
    assert invalid["origins"] == [15802] and invalid["rpki_reasons"] == ["too-long"]
    assert invalid["covering_vrps"] == ["94.205.0.0/16-18 AS15802"] and invalid["sample_paths"]
    hijack = opened[("origin", HIJACKED)]["evidence"]
    assert hijack["origins"] == [49336] and hijack["rpki_invalid"] is True
    assert hijack["covering_vrps"] == ["193.26.16.0/23-24 AS64511"]
    assert opened[("rpki-not-covered", NOT_COVERED)]["time"] == FIRST_RECORD  # stamped with data time
    expiring = opened[("rpki-roa-expiring", VALID)]["evidence"]
    assert (expiring["expires"], expiring["vrps"]) == (1280000000, [f"{VALID}-24 AS196817"])

    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    states = {s.labels["prefix"]: s.labels["state"] for s in families["routewatch_bgp_prefix_rpki_state"].samples
              if s.value == 1}
    assert states == {TOO_LONG: "invalid", VALID: "valid", NOT_COVERED: "not-found", HIJACKED: "valid"}
    invalid_peers = {s.labels["prefix"]: s.value
                     for s in families["routewatch_bgp_prefix_rpki_invalid_peers"].samples}
    assert invalid_peers == {TOO_LONG: len(holders(TOO_LONG)), VALID: 0, NOT_COVERED: 0,
                             HIJACKED: len(holders(HIJACKED))}
    assert min(invalid_peers[TOO_LONG], invalid_peers[HIJACKED]) >= 5
    expires = {s.labels["prefix"]: s.value
               for s in families["routewatch_bgp_prefix_rpki_expires_timestamp_seconds"].samples}
    assert expires == {VALID: 1280000000, HIJACKED: 1290000000}  # the ROA keeping the configured origin valid


def test_the_text_timeline_says_what_each_rpki_detection_is(tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - {{prefix: {VALID}, asn: 196817}}
  - {{prefix: {NOT_COVERED}, asn: 1415}}
  - {{prefix: {HIJACKED}, asn: 64511}}
rpki:
  sources: [{{type: json, name: fixture, path: {VRPS}}}]
""")
    result = CliRunner().invoke(main, ["replay", "-c", str(config), str(UPDATES)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"2010-07-22 20:15:01 OPENED rpki-roa-expiring {VALID}: earliest ROA keeping it valid expires "
        "2010-07-24 19:33:20",
        f"2010-07-22 20:15:01 OPENED rpki-not-covered {NOT_COVERED}: no VRP covers it",
        f"2010-07-22 20:16:39 OPENED origin        {HIJACKED}: 2 peers, origins AS49336, RPKI-invalid "
        "(dropped by networks that validate)",
    ]


def test_a_vrp_source_that_does_not_load_leaves_states_unknown_and_warns(tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - {{prefix: {TOO_LONG}, asn: 15802}}
rpki:
  sources: [{{type: json, name: missing, path: {tmp_path / "nothing.json"}}}]
  load_timeout: 1
""")
    metrics = tmp_path / "metrics.prom"
    result = CliRunner().invoke(main, ["replay", "-c", str(config), "--json", "--metrics-out", str(metrics),
                                       str(UPDATES)])
    assert result.exit_code == 0, result.stderr
    assert "rpki source missing: no VRP set within 1 s" in result.stderr
    assert not any(json.loads(line)["kind"].startswith("rpki-") for line in result.stdout.splitlines())
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    assert {s.labels["state"]: s.value for s in families["routewatch_bgp_prefix_rpki_state"].samples} == {
        "valid": 0, "invalid": 0, "not-found": 0, "unknown": 1}
