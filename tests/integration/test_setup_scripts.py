"""The set-up scripts as a newcomer meets them: apt waits for a held lock, pip runs only when it must.

The scripts run for real (bash, the repository's own files) in a copy of the checkout whose programs
with side effects are stand-ins that record how they were called: ``apt-get``, ``dpkg-query``,
``sudo`` and ``id`` on PATH, and a venv whose ``python`` and ``routewatch`` only log their arguments.
Nothing is installed and the real venv is never touched.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import REPO

pytestmark = pytest.mark.integration

RECORDER = """#!/bin/sh
echo "{name} $*" >> "{log}"
{tail}
"""


def stand_in(path: Path, log: Path, tail: str = "exit 0") -> None:
    """An executable that appends its name and arguments to ``log``, then runs ``tail``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RECORDER.format(name=path.name, log=log, tail=tail))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """scripts/ and pyproject.toml copied, with a stand-in venv where setup.sh looks for one."""
    root = tmp_path / "routewatch"
    shutil.copytree(REPO / "scripts", root / "scripts")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    log = tmp_path / "calls.log"
    stand_in(root / ".venv" / "bin" / "python", log)
    stand_in(root / ".venv" / "bin" / "routewatch", log, 'echo "routewatch 0.1.0"')
    return root


def calls(root: Path) -> list[str]:
    log = root.parent / "calls.log"
    lines = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def run_version(root: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(root / "scripts" / "run"), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "routewatch 0.1.0\n"
    return proc


def test_run_installs_once_and_again_only_when_pyproject_changes(checkout: Path) -> None:
    run_version(checkout)
    first = calls(checkout)
    assert first[0] == "python -m pip install -q --upgrade pip"
    assert first[1] == f"python -m pip install -q -e {checkout}[plot]"
    assert first[2:] == ["routewatch --version"]

    run_version(checkout)
    assert calls(checkout) == ["routewatch --version"]

    with (checkout / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# a dependency changed\n")
    run_version(checkout)
    again = calls(checkout)
    assert [c for c in again if "pip install" in c] == first[:2]
    run_version(checkout)
    assert calls(checkout) == ["routewatch --version"]


def test_a_failed_install_is_tried_again_next_time(checkout: Path) -> None:
    stand_in(checkout / ".venv" / "bin" / "python", checkout.parent / "calls.log",
             'case "$*" in *"-e "*) echo "no network" >&2; exit 1;; esac')
    proc = subprocess.run([str(checkout / "scripts" / "run"), "--version"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "routewatch: Python install failed" in proc.stderr and "no network" in proc.stderr
    assert not list((checkout / ".venv").glob("routewatch-installed-*"))
    calls(checkout)
    stand_in(checkout / ".venv" / "bin" / "python", checkout.parent / "calls.log")
    run_version(checkout)
    assert sum("pip install" in c for c in calls(checkout)) == 2


def test_apt_waits_for_a_held_lock(checkout: Path, tmp_path: Path) -> None:
    log = checkout.parent / "calls.log"
    fake = tmp_path / "bin"
    stand_in(fake / "id", log, 'echo 1000')  # not root: every privileged step goes through sudo
    stand_in(fake / "dpkg-query", log, "exit 1")  # nothing installed
    stand_in(fake / "sudo", log)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", f'source "{checkout}/scripts/setup.sh" && apt_install knot nsd'],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "routewatch: installing Debian packages: knot nsd" in proc.stderr
    apt = [c for c in calls(checkout) if c.startswith("sudo apt-get")]
    assert [c.split("apt-get ", 1)[1].split()[2] for c in apt] == ["update", "install"]
    assert all(c.startswith("sudo apt-get -o DPkg::Lock::Timeout=600 ") for c in apt)
    assert apt[1].endswith(" knot nsd")
