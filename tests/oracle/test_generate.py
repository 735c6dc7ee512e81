"""``routewatch generate`` from MRT files lists what bgpdump shows."""

from __future__ import annotations

from pathlib import Path

from routewatch.config.schema import load_config
from routewatch.model import parse_prefix
from tests.support.tools import MRT_DIR, require_data
from tests.support.visibility_oracle import cached_lines, prefixes_originated
from tests.unit.test_generate import listed, run

BVIEW_2002 = MRT_DIR / "bview.20020722.2337.gz"
RRC06 = MRT_DIR / "ris.rrc06.updates.1427846400.gz"


def test_from_a_rib_lists_what_bgpdump_shows(tmp_path: Path) -> None:
    out = tmp_path / "generated.yaml"
    result = run("--asn", "3633", "--asn", "AS701", "--mrt", str(require_data(BVIEW_2002)), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    lines = cached_lines(BVIEW_2002)
    expected = prefixes_originated(lines, 3633) | prefixes_originated(lines, 701)
    assert set(listed(out)) == expected
    assert len(expected) > 1000
    assert out.read_text().startswith("# routewatch generate for AS3633, AS701, from MRT files bview.20020722.2337.gz")
    assert f"{len(expected)} prefixes added, 0 already listed" in result.stderr



def test_exclude_takes_the_prefix_and_what_is_inside_out(tmp_path: Path) -> None:
    out = tmp_path / "generated.yaml"
    result = run("--asn", "24950", "--mrt", str(require_data(RRC06)), "--exclude", "83.142.16.0/22", "-o", str(out))
    assert result.exit_code == 0
    everything = prefixes_originated(cached_lines(RRC06), 24950)
    kept = {p for p in everything if not parse_prefix(p).subnet_of(parse_prefix("83.142.16.0/22"))}  # type: ignore[arg-type]
    assert set(listed(out)) == kept and kept != everything



def test_append_keeps_what_is_there_and_adds_the_rest(tmp_path: Path) -> None:
    config = tmp_path / "routewatch.yaml"
    config.write_text(
        "prefixes:\n"
        "  - prefix: 83.142.17.0/24\n    asn: [24950, 64500]\n    description: scrubbed by AS64500\n"
        "zones:\n  - zone: example.org\n"
        "bgp:\n  baseline_window: 3600\n"
    )
    result = run("--asn", "24950", "--mrt", str(require_data(RRC06)), "--append", str(config), "-o", str(config))
    assert result.exit_code == 0, result.stderr
    merged = load_config(config)
    entries = [p for p in merged.prefixes if str(p.prefix) == "83.142.17.0/24"]
    assert len(entries) == 1
    assert (tuple(entries[0].asn), entries[0].description) == ((24950, 64500), "scrubbed by AS64500")
    assert merged.bgp.baseline_window == 3600 and [z.zone for z in merged.zones] == ["example.org."]
    assert len(merged.prefixes) == len(prefixes_originated(cached_lines(RRC06), 24950))
    again = run("--asn", "24950", "--mrt", str(RRC06), "--append", str(config), "-o", str(config))
    assert "0 prefixes added" in again.stderr
    assert len(load_config(config).prefixes) == len(merged.prefixes)
