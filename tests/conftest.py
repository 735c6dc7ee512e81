"""Session-wide hooks for the whole suite."""

from __future__ import annotations

import sys

import pytest

from tests.support import tools


def pytest_configure(config: pytest.Config) -> None:
    """Say first, once, when the shared data is missing (the controller says it, not each xdist worker)."""
    if hasattr(config, "workerinput"):
        return
    notice = tools.missing_data_notice()
    if notice is not None:
        sys.stderr.write(notice + "\n")
        sys.stderr.flush()
