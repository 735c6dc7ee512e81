"""``routewatch config validate`` and ``routewatch replay`` as real processes, as a script runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import outage_2021 as outage

pytestmark = pytest.mark.integration

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "config"
ROUTEWATCH = str(Path(sys.executable).with_name("routewatch"))  # the installed console script


@pytest.fixture(scope="module")
def outage_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[outage.Outage, list[Path], Path]:
    return outage.replay_inputs(tmp_path_factory.mktemp("outage"))


def test_replay_as_a_real_process(outage_files) -> None:
    _, files, config = outage_files
    proc = subprocess.run([sys.executable, "-m", "routewatch", "replay", "-c", str(config), "--json",
                           *map(str, files)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 12


def test_validate_as_a_real_process() -> None:
    good = subprocess.run(
        [ROUTEWATCH, "config", "validate", str(CONFIGS / "valid-minimal.yaml")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (good.returncode, good.stderr) == (0, "")
    assert good.stdout.endswith(": OK (1 prefixes, 0 ASNs, 0 zones, 0 sources)\n")
    bad_path = CONFIGS / "invalid-host-bits.yaml"
    bad = subprocess.run(
        [ROUTEWATCH, "config", "validate", str(bad_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (bad.returncode, bad.stdout) == (1, "")
    assert "  prefixes[0].prefix: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?\n" in bad.stderr
    assert bad.stderr.splitlines()[0] == f"{bad_path}: 5 problem(s):"
