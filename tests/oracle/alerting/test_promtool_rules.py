"""``promtool check rules`` and ``promtool test rules`` on the committed Prometheus rules file.

The cases (``cases_bgp.py``, ``cases_dns_feed.py``, ``cases_rpki.py``) cover what the replayed
scenarios cannot produce (DNS, feed and process series, blips, pods that
disagree); each rule fires in one of them, once, for an HA install, and is
quiet before and after.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.oracle.alerting.cases import Case
from tests.oracle.alerting.cases_bgp import bgp_cases
from tests.oracle.alerting.cases_dns_feed import dns_cases, feed_cases
from tests.oracle.alerting.cases_rpki import rpki_cases
from tests.oracle.alerting.promtool import RULES, RULES_FILE, run_tests
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

CASES = [*bgp_cases(), *dns_cases(), *feed_cases(), *rpki_cases()]


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool")


def test_rules_file_passes_promtool_check(promtool: str) -> None:
    result = subprocess.run([promtool, "check", "rules", str(RULES_FILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULES)} rules found" in result.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fires_once_for_an_ha_install_and_resolves(promtool: str, case: Case, tmp_path: Path) -> None:
    result = run_tests(promtool, [case.promtool_test()], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_a_case_that_fires_and_resolves() -> None:
    assert sorted(c.rule for c in CASES if c.fired) == sorted(RULES)
