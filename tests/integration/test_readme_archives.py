"""The README's archive example, run exactly as written, says what the README says it does.

The shell block under "### Replaying archives" runs in bash with ``set -euo pipefail`` (so each command
must exit 0), from a fresh directory whose ``../shared`` is the real shared data, with the installed
``routewatch`` first on PATH.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from routewatch.config.schema import load_config
from tests.support.tools import REPO, SHARED_DATA, require_data

pytestmark = pytest.mark.integration

HEADING = "### Replaying archives"


def readme_example() -> str:
    """The first ``sh`` block after the heading, as the README shows it."""
    text = (REPO / "README.md").read_text()
    assert HEADING in text, f"README.md has no {HEADING!r} section"
    block = re.search(r"```sh\n(.*?)```", text[text.index(HEADING):], re.DOTALL)
    assert block is not None
    return block.group(1)


def test_the_readme_archive_example_works_as_written(tmp_path: Path) -> None:
    example = readme_example()
    for path in re.findall(r"\.\./shared/data/\S+", example):
        require_data(SHARED_DATA / Path(path).relative_to("../shared/data"))
    (tmp_path / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    workdir = tmp_path / "routewatch"
    workdir.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", example], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

    lines = proc.stdout.splitlines()
    for prefix in ("143.84.43.0/24", "143.84.44.0/24", "207.133.205.0/24"):
        assert any(line.startswith(f"2010-02-27 16:10:46 OPENED origin        {prefix} ")
                   and line.endswith("2 peers, origins AS4118") for line in lines)
        assert any(line.startswith(f"2010-02-27 16:14:12 CLOSED origin        {prefix} ") for line in lines)
    assert (workdir / "visibility.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "AS22047: VISIBLE (98 prefixes)" in lines
    assert "  source: mrt, data time 2010-02-27 16:15:00 UTC; degraded below 0.50" in lines

    as22047 = load_config(workdir / "as22047.yaml")
    assert len(as22047.prefixes) == 98 and {p.asn for p in as22047.prefixes} == {(22047,)}
    assert "98 prefixes added, 0 already listed" in proc.stderr
    as1221 = yaml.safe_load((workdir / "as1221.yaml").read_text())
    assert len(load_config(workdir / "as1221.yaml").prefixes) == len(as1221["prefixes"]) > 0


def test_the_readme_says_what_generate_says_of_as1461(tmp_path: Path) -> None:
    """The README's last point: AS1461's eleven prefixes, withdrawn by 16:15, named and listed on request."""
    files = [str(require_data(SHARED_DATA / "mrt" / name))
             for name in ("updates.20100227.1600.gz", "updates.20100227.1610.gz")]
    routewatch = str(Path(sys.executable).parent / "routewatch")
    refused = subprocess.run([routewatch, "generate", "--asn", "1461", "--mrt", *files], capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 3
    assert "AS1461: 11 prefixes seen originated in these files, all withdrawn by the end of the data" in refused.stderr
    listed = subprocess.run([routewatch, "generate", "--asn", "1461", "--mrt", *files, "--include-withdrawn",
                             "-o", str(tmp_path / "as1461.yaml")], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert len(load_config(tmp_path / "as1461.yaml").prefixes) == 11
    text = (REPO / "README.md").read_text()
    assert "AS1461's eleven prefixes are all withdrawn by 16:15" in text and "98 prefixes" in text
