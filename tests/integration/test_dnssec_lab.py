"""The DNSSEC check against zones signed by BIND's dnssec-signzone (served by NSD) and by Knot, under a Knot parent.

One lab and one run of the monitor serve every case (see tests/support/dnssec_lab.py);
each test reads its zone from that run, the metrics scraped from it, or
``check zone`` run against the same servers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.config.schema import Config, DnssecSettings, DnsSettings, ZoneWatch
from routewatch.dns.service import DnsMonitor
from routewatch.dns.snapshot import DnsSnapshot, ZoneSnapshot
from routewatch.dns.trust import NO_DS_BUT_REQUIRED, DnssecState
from routewatch.exporter.state import ExportState, ProcessStatus
from tests.support.dnssec_lab import KNOT_CASES, PLAIN_CASES, SIGNZONE_CASES, DnssecLab, dnssec_lab
from tests.support.metrics import samples, scrape

pytestmark = pytest.mark.integration

HOUR = 3600.0
DAY = 86_400.0
MUST_BE_SIGNED = {"nods.test.", "halfcopy.test."}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnssecLab]:
    running = dnssec_lab(Path(tmp_path_factory.mktemp("dnssec")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def snapshot(lab: DnssecLab) -> DnsSnapshot:
    zones = [lab.zone(c) for c in (*SIGNZONE_CASES, *KNOT_CASES, *PLAIN_CASES, "missing")]
    config = Config(zones=[ZoneWatch(zone=z, parent_servers=[lab.addresses["parent"]],
                                     must_be_signed=z in MUST_BE_SIGNED) for z in zones],
                    dns=DnsSettings(port=lab.port, timeout=1.0, retries=0))
    return asyncio.run(DnsMonitor(config, stagger=False).run_once())


def zone(snapshot: DnsSnapshot, case: str) -> ZoneSnapshot:
    return snapshot.zone(f"{case}.test.")


@pytest.mark.parametrize("case", ["secure", "knot"])
def test_signed_zone_with_matching_ds_is_secure(snapshot: DnsSnapshot, lab: DnssecLab, case: str) -> None:
    found = zone(snapshot, case)
    assert found.dnssec.state is DnssecState.SECURE, found.dnssec.problems
    assert found.dnssec.ds_match is True and found.dnssec.problems == ()
    assert [d.matched_key for d in found.dnssec.ds] == [found.dnssec.ds[0].key_tag]
    assert found.dnssec.earliest_expiry is not None and found.dnssec.earliest_expiry - lab.started > 7 * DAY
    assert found.verdict == "healthy"


@pytest.mark.parametrize("case", ["expiring", "knotshort"])
def test_signatures_ending_in_two_hours_are_expiring(snapshot: DnsSnapshot, lab: DnssecLab, case: str) -> None:
    found = zone(snapshot, case)
    assert found.dnssec.state is DnssecState.EXPIRING, found.dnssec.problems
    assert found.dnssec.earliest_expiry is not None
    assert 1.5 * HOUR < found.dnssec.earliest_expiry - lab.started <= 2 * HOUR + 60
    for target in snapshot.targets_of(found.zone):
        assert target.dnssec is not None and target.dnssec.earliest_expiry is not None


def test_ds_for_a_key_that_is_gone_is_bogus(snapshot: DnsSnapshot) -> None:
    found = zone(snapshot, "gone")
    assert found.dnssec.state is DnssecState.BOGUS and found.dnssec.ds_match is False
    assert [d.matched_key for d in found.dnssec.ds] == [None]
    assert any("matches a served DNSKEY" in p for p in found.dnssec.problems)


def test_expired_signatures_are_bogus(snapshot: DnsSnapshot, lab: DnssecLab) -> None:
    found = zone(snapshot, "expired")
    assert found.dnssec.state is DnssecState.BOGUS
    assert any(p.endswith("expired") for p in found.dnssec.problems)
    assert {p.split(":")[0] for p in found.dnssec.problems} == {lab.addresses["a"], lab.addresses["b"]}
    assert found.dnssec.earliest_expiry is None  # no signature validated


def test_one_address_serving_an_unsigned_copy_is_bogus(snapshot: DnsSnapshot, lab: DnssecLab) -> None:
    found = zone(snapshot, "halfcopy")
    assert found.dnssec.state is DnssecState.BOGUS
    assert found.dnssec.problems == (f"{lab.addresses['b']} serves the zone unsigned while the parent holds a DS",)


def test_algorithm_rollover_half_done_is_bogus(snapshot: DnsSnapshot) -> None:
    found = zone(snapshot, "rollover")
    assert found.dnssec.state is DnssecState.BOGUS and found.dnssec.ds_match is False
    (ds,) = found.dnssec.ds
    assert ds.algorithm == 15 and ds.matched_key == ds.key_tag  # the new key is published ...
    assert all("signs the DNSKEY RRset" in p for p in found.dnssec.problems)  # ... but signs nothing


def test_no_ds_is_insecure_not_an_error(snapshot: DnsSnapshot) -> None:
    found = zone(snapshot, "unsigned")
    assert found.dnssec.state is DnssecState.INSECURE and found.dnssec.ds_match is None
    assert found.verdict == "healthy"


def test_a_zone_that_must_be_signed_without_a_ds_is_unsigned_not_insecure(snapshot: DnsSnapshot) -> None:
    found = zone(snapshot, "nods")
    assert found.dnssec.state is DnssecState.UNSIGNED and found.dnssec.ds_match is None
    assert found.dnssec.problems == (NO_DS_BUT_REQUIRED,)  # the keys and signatures are still served
    assert zone(snapshot, "halfcopy").dnssec.state is DnssecState.BOGUS  # a DS is there: bogus stays bogus


def test_glue_that_differs_from_what_the_zone_serves_is_reported(snapshot: DnsSnapshot, lab: DnssecLab) -> None:
    assert zone(snapshot, "moved").discovery.glue_mismatches == (
        ("ns2.moved.test.", (lab.addresses["b"],), (lab.addresses["a"],)),)
    assert zone(snapshot, "secure").discovery.glue_mismatches == ()


def test_a_zone_the_parent_does_not_delegate_says_nxdomain(snapshot: DnsSnapshot) -> None:
    found = zone(snapshot, "missing")
    assert found.discovery.parent_answer == "NXDOMAIN"
    assert "the parent answered NXDOMAIN for the zone, not a delegation" in found.discovery.problems


def test_metrics(snapshot: DnsSnapshot, lab: DnssecLab) -> None:
    got = samples(scrape(ExportState(ProcessStatus("t", True, 1.0), dns=snapshot)))
    for case, state in (("secure", "secure"), ("gone", "bogus"), ("expiring", "expiring"), ("unsigned", "insecure"),
                        ("missing", "unknown"), ("nods", "unsigned")):
        one_hot = {s.value: got[("routewatch_dns_dnssec_state", (("state", s.value), ("zone", f"{case}.test.")))]
                   for s in DnssecState}
        assert one_hot == {s.value: 1.0 if s.value == state else 0.0 for s in DnssecState}, case
    assert got[("routewatch_dns_dnssec_ds_match", (("zone", "secure.test."),))] == 1.0
    assert got[("routewatch_dns_dnssec_ds_match", (("zone", "rollover.test."),))] == 0.0
    assert ("routewatch_dns_dnssec_ds_match", (("zone", "unsigned.test."),)) not in got
    expiry = got[("routewatch_dns_dnssec_signature_expiry_timestamp_seconds",
                  (("address", lab.addresses["a"]), ("nameserver", "ns1.expiring.test."), ("zone", "expiring.test.")))]
    assert 1.5 * HOUR < expiry - lab.started <= 2 * HOUR + 60
    assert got[("routewatch_dns_zone_glue_agree", (("zone", "moved.test."),))] == 0.0
    assert got[("routewatch_dns_zone_glue_agree", (("zone", "secure.test."),))] == 1.0


def check(lab: DnssecLab, case: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "zone", f"{case}.test.", "--parent", lab.addresses["parent"],
                                       "--port", str(lab.port), "--timeout", "1", *extra])
    return result.exit_code, result.output


@pytest.mark.parametrize(("case", "state", "code", "extra"), [
    ("secure", "secure", 0, ()), ("expiring", "expiring", 1, ()), ("expired", "bogus", 2, ()),
    ("unsigned", "insecure", 0, ()), ("nods", "insecure", 0, ()),
    ("nods", "unsigned", 2, ("--must-be-signed",)), ("unsigned", "unsigned", 2, ("--must-be-signed",)),
    ("secure", "secure", 0, ("--must-be-signed",))])
def test_check_zone_json_and_exit_codes(lab: DnssecLab, case: str, state: str, code: int,
                                        extra: tuple[str, ...]) -> None:
    exit_code, output = check(lab, case, "--json", *extra)
    report = json.loads(output)
    assert (exit_code, report["exit_code"], report["verdict"]) == (code, code, "healthy")
    assert report["dnssec"]["state"] == state
    assert set(report["dnssec"]) == {"state", "earliest_expiry", "ds_match", "ds", "problems"}
    if case == "secure":
        (ds,) = report["dnssec"]["ds"]
        assert ds["matched_key"] == ds["key_tag"] and ds["algorithm"] == 13 and ds["digest_type"] == 2


def test_check_zone_table_says_what_is_wrong(lab: DnssecLab) -> None:
    exit_code, output = check(lab, "halfcopy")
    assert exit_code == 2
    assert "DNSSEC: bogus" in output and f"problem: {lab.addresses['b']} serves the zone unsigned" in output
    exit_code, output = check(lab, "moved")
    assert exit_code == 0
    assert f"glue differs for ns2.moved.test.: parent {lab.addresses['b']}, zone {lab.addresses['a']}" in output


def test_check_zone_says_a_zone_that_must_be_signed_is_not(lab: DnssecLab) -> None:
    exit_code, output = check(lab, "unsigned", "--must-be-signed")
    assert exit_code == 2
    assert "DNSSEC: unsigned" in output and f"problem: {NO_DS_BUT_REQUIRED}" in output
    assert f"problem: {lab.addresses['a']} serves the zone unsigned" in output


def test_dnssec_can_be_turned_off(lab: DnssecLab) -> None:
    config = Config(zones=[ZoneWatch(zone="expired.test.", parent_servers=[lab.addresses["parent"]])],
                    dns=DnsSettings(port=lab.port, timeout=1.0, retries=0, dnssec=DnssecSettings(enabled=False)))
    found = asyncio.run(DnsMonitor(config, stagger=False).run_once()).zone("expired.test.")
    assert found.dnssec.state is DnssecState.UNKNOWN and found.verdict == "healthy"
