"""``routewatch generate --zones`` resolved against a real Knot."""

from __future__ import annotations

from pathlib import Path

from routewatch.config.schema import load_config
from tests.support.dns_servers import Knot, free_port, zone_file
from tests.support.tools import MRT_DIR, require_data
from tests.unit.test_generate import run

BVIEW_2002 = MRT_DIR / "bview.20020722.2337.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"


def test_zones_resolved_against_a_real_authoritative_server(tmp_path: Path) -> None:
    """Knot serves two zones: one whose nameserver sits in an AS24950 prefix, one whose does not."""
    port = free_port(["127.0.0.1"])
    zones = {
        "inside.test.": zone_file("inside.test.", 1, ["ns1.inside.test.", "ns2.inside.test."], [
            ("ns1.inside.test.", "A", "83.142.17.53"), ("ns2.inside.test.", "AAAA", "2001:db8::53")]),
        "outside.test.": zone_file("outside.test.", 1, ["ns.outside.test."], [("ns.outside.test.", "A", "192.0.2.53")]),
    }
    knot = Knot("knot", tmp_path / "knot", ["127.0.0.1"], port, zones=zones).start()
    try:
        out = tmp_path / "generated.yaml"
        result = run("--asn", "24950", "--mrt", str(require_data(RRC06)), "--zones", "inside.test",
                     "--zones", "outside.test", "--resolver", "127.0.0.1", "--resolver-port", str(port), "-o", str(out))
        missing = run("--asn", "24950", "--mrt", str(RRC06), "--zones", "absent.test",
                      "--resolver", "127.0.0.1", "--resolver-port", str(port))
    finally:
        knot.stop()
    assert result.exit_code == 0, result.stderr
    assert [z.zone for z in load_config(out).zones] == ["inside.test."]
    assert "zones not served by these prefixes: outside.test" in result.stderr
    assert missing.exit_code == 3 and "zone absent.test: cannot resolve its NS set" in missing.stderr
