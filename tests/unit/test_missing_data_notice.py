"""Without ../shared/data beside the checkout, a test run says so in one line before anything else.

The suite's own conftest hook runs in an inner pytest (in this process, through pytester) with the data
folder pointed at a path that does not exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import tools

pytest_plugins = ["pytester"]

INNER_CONFTEST = "from tests.conftest import pytest_configure  # noqa: F401\n"


def inner_run(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner="def test_nothing_needed():\n    assert True\n")
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")


def test_missing_data_is_said_once_before_the_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    nowhere = tmp_path / "shared" / "data"
    monkeypatch.setattr(tools, "SHARED_DATA", nowhere)
    result = inner_run(pytester)
    result.assert_outcomes(passed=1)
    notices = [line for line in result.errlines if str(nowhere) in line]
    assert notices == [result.errlines[0]]
    assert notices[0].startswith(f"routewatch tests: {nowhere} is missing: it holds the real RIS/RouteViews MRT")
    assert "MANIFEST.md" in notices[0] and "../shared/data beside this checkout" in notices[0]
    assert not any(str(nowhere) in line for line in result.outlines)


def test_present_data_says_nothing(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                   tmp_path: Path) -> None:
    monkeypatch.setattr(tools, "SHARED_DATA", tmp_path)
    result = inner_run(pytester)
    result.assert_outcomes(passed=1)
    assert not any("routewatch tests:" in line for line in result.errlines + result.outlines)
