"""Finding the real programs integration tests run, and the shared data they read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
MRT_DIR = SHARED_DATA / "mrt"

_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/lib/frr")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def find_tool(name: str) -> str | None:
    """The program's path, looking in sbin directories too (knotd, nsd, unbound; Debian's FRR bgpd is in lib)."""
    path = os.environ.get("PATH", "")
    return shutil.which(name, path=os.pathsep.join([path, *_SBIN]))


def require_tool(name: str) -> str:
    """Return the program's path; in CI a missing program fails the test, elsewhere it skips."""
    found = find_tool(name)
    if found:
        return found
    message = f"{name} is not installed (scripts/test installs it)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def missing_data_notice() -> str | None:
    """The one line a run starts with when ``SHARED_DATA`` is not beside the checkout, else None.

    Without it, the cause showed only inside the tracebacks of the many tests that read the files.
    Read at call time, so a test can point ``SHARED_DATA`` elsewhere.
    """
    if SHARED_DATA.is_dir():
        return None
    return (f"routewatch tests: {SHARED_DATA} is missing: it holds the real RIS/RouteViews MRT archives and "
            "RIS Live messages the tests read (published by bgpdump, libbgpstream and bgpkit-parser; see the "
            "README's Data section and the folder's MANIFEST.md); put it at ../shared/data beside this checkout, "
            "or every test that reads it fails")


def require_data(path: Path) -> Path:
    """Return a shared data file; it is part of the project's checkout layout, so missing is a failure."""
    if not path.exists():
        pytest.fail(f"shared data file {path} is missing")
    return path
