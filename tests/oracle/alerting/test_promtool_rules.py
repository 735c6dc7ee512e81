"""``promtool check rules`` and ``promtool test rules`` on the committed Prometheus rules file.

The hand-written tests in ``rules/`` cover what the replayed scenarios cannot
produce (DNS, feed and process series, blips, replicas that disagree); each
rule must fire in one of them and be quiet again later in the same test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.oracle.alerting.promtool import RULES, RULES_FILE
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

TEST_FILES = sorted((Path(__file__).parent / "rules").glob("*.test.yml"))


@pytest.fixture(scope="module")
def promtool() -> str:
    return require_tool("promtool")


def test_rules_file_passes_promtool_check(promtool: str) -> None:
    result = subprocess.run([promtool, "check", "rules", str(RULES_FILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULES)} rules found" in result.stdout


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_hand_written_rule_tests_pass(promtool: str, path: Path) -> None:
    result = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def _fires_then_resolves() -> set[str]:
    """Alert names that some test expects firing at one time and quiet at a later time."""
    covered = set()
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            checks = test.get("alert_rule_test", [])
            for fired in (c for c in checks if c["exp_alerts"]):
                if any(c["alertname"] == fired["alertname"] and not c["exp_alerts"]
                       and _seconds(c["eval_time"]) > _seconds(fired["eval_time"]) for c in checks):
                    covered.add(fired["alertname"])
    return covered


def _seconds(duration: str) -> float:
    total, number = 0.0, ""
    units = {"s": 1, "m": 60, "h": 3600}
    for char in duration:
        if char.isdigit():
            number += char
        else:
            total += int(number) * units[char]
            number = ""
    return total


def test_every_rule_is_tested_firing_and_resolving() -> None:
    assert TEST_FILES, "no promtool test files found"
    assert _fires_then_resolves() == set(RULES)


def test_hand_written_tests_point_at_the_committed_rules_file() -> None:
    for path in TEST_FILES:
        files = yaml.safe_load(path.read_text())["rule_files"]
        assert [(path.parent / f).resolve() for f in files] == [RULES_FILE.resolve()], path.name
