"""Replay's data time: every record moves it, and no single record stamped far ahead can drag it.

Files are written with ``tests/support/mrt_writer.py`` (read back by bgpdump in
its own tests). The story: 30 peers hold a watched prefix, 25 withdraw it, and
an hour of records about an unwatched prefix follows.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from routewatch.cli import main
from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.model import Event
from routewatch.sources.mrt.reader import read_mrt
from routewatch.tools.replay import ReplayReport, merged_events, replay_events
from routewatch.tools.timeline import Item, without_outliers
from tests.support.events import announce, peer, withdraw
from tests.support.mrt_writer import Update, write_updates
from tests.support.tools import MRT_DIR, require_data

WATCHED = "198.51.100.0/24"
UNWATCHED = "203.0.113.0/24"
ORIGIN = 32934
T0 = 1_600_000_000
FAR = 2**32 - 1  # 2106, the last second an MRT header can carry


def story(withdrawn_at: int = T0 + 600) -> list[Update]:
    held = [Update(T0 + n, f"192.0.2.{n}", 64500 + n, [WATCHED], [64500 + n, ORIGIN]) for n in range(1, 31)]
    gone = [Update(withdrawn_at, f"192.0.2.{n}", 64500 + n, withdrawn=[WATCHED]) for n in range(1, 26)]
    quiet = [Update(withdrawn_at + 60 * i, "192.0.2.99", 64599, [UNWATCHED], [64599, 64496])
             for i in range(1, 61)]
    return held + gone + quiet


def config(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"prefixes": [{"prefix": WATCHED, "asn": ORIGIN}],
                                    "bgp": {"baseline_min_hold": 1}}))
    return path


def replay(tmp_path: Path, updates: list[Update]) -> tuple[int, list[dict], str]:
    path = write_updates(tmp_path / "rrc00.updates.mrt", updates)
    result = CliRunner().invoke(main, ["replay", "-c", str(config(tmp_path)), "--json", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_unwatched_records_after_the_last_watched_one_still_end_the_hold_down(tmp_path: Path) -> None:
    code, changes, err = replay(tmp_path, story())
    assert code == 0, err
    assert [(c["event"], c["kind"], c["prefix"]) for c in changes] == [("opened", "withdrawal", WATCHED)]
    assert changes[0]["evidence"]["visible_peers"] == 5


def test_one_record_stamped_in_2106_changes_nothing_and_is_reported(tmp_path: Path) -> None:
    _, clean, _ = replay(tmp_path, story())
    updates = story()
    for position in (10, 40, len(updates) - 1, len(updates)):  # among the holders, after the withdrawals, last
        hostile = Update(FAR, "192.0.2.77", 64577, [UNWATCHED], [64577, 64496])
        code, changes, err = replay(tmp_path, [*updates[:position], hostile, *updates[position:]])
        assert code == 0, err
        assert changes == clean, position
        assert "1 record(s) stamped far ahead of their neighbours" in err


P = "129.134.30.0/23"


def base_events() -> list[Event]:
    """Ten peers hold P; eight withdraw it at 1000 s; all is back at 3000 s."""
    events: list[Event] = [announce(T0 + i, peer(i), P, (64500 + i, ORIGIN)) for i in range(10)]
    events += [withdraw(T0 + 1000, peer(i), P) for i in range(8)]
    events += [announce(T0 + 3000, peer(i), P, (64500 + i, ORIGIN)) for i in range(8)]
    events += [announce(T0 + 3000 + 60 * k, peer(20), "192.0.2.0/24", (64520, 64496)) for k in range(5)]
    return events


#: merged_events looks at a file to tell a RIB dump from updates; an empty one is updates.
_UPDATES_FILE = tempfile.mkstemp(prefix="routewatch-story-")[1]


def detections(items: list[Item]) -> set[tuple[str, str, str, float]]:
    engine = build_engine(parse_config({"prefixes": [{"prefix": P, "asn": ORIGIN}],
                                        "bgp": {"baseline_min_hold": 1}}))
    report = ReplayReport()
    replay_events(engine, merged_events([_UPDATES_FILE], report, reader=lambda *_: iter(items)), report)
    assert not report.errors
    return {(c.change.value, c.detection.kind.value, str(c.detection.prefix), c.time) for c in report.changes}


CLEAN = detections(list(base_events()))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Stamped in the past, right after the jump to the withdrawals (T0+9 -> T0+1000): once taken as the data
# coming back to the old clock, which judged the withdrawals at T0+9 (opened at T0+69 instead of T0+1060).
@example(position=16, when=1599999709.0, bare=False)
# The same between the old clock and the jump, and in the past of the announcements at T0+3000.
@example(position=16, when=float(T0 + 500), bare=True)
@example(position=22, when=float(T0 + 1500), bare=False)
@given(position=st.integers(0, len(base_events())),
       when=st.one_of(st.floats(T0 + 90_000, 2.0**32), st.floats(0, T0)),
       bare=st.booleans())
def test_no_single_record_far_ahead_or_in_the_past_changes_the_detections(position: int, when: float,
                                                                          bare: bool) -> None:
    """Property: one hostile record, anywhere, stamped far ahead or in the past, about another route
    (or a record with nothing watched in it), leaves every detection of the watched prefix as it was."""
    hostile: Item = float(when) if bare else announce(when, peer(66), "192.0.2.0/24", (64566, 64496))
    items: list[Item] = list(base_events())
    items.insert(position, hostile)
    assert CLEAN and detections(items) == CLEAN


def test_one_record_from_the_past_right_after_a_jump_does_not_pull_the_jump_back() -> None:
    """A collector back after a quiet quarter of an hour, and one record stamped before it: nothing is re-timed."""
    times = [T0, T0 + 1, T0 + 2, T0 + 1000, T0 + 1000, T0 - 291, T0 + 1000, T0 + 1001, T0 + 1002]
    outliers = [0]
    out = list(without_outliers([float(t) for t in times], outliers))
    assert outliers == [0]
    assert out == [T0, T0 + 1, T0 + 2, T0 - 291, T0 + 1000, T0 + 1000, T0 + 1000, T0 + 1001, T0 + 1002]


def test_two_records_back_at_the_file_clock_make_the_one_ahead_an_outlier() -> None:
    """One record an hour ahead, then the file goes on where it was: it is judged at the file's clock."""
    times = [T0, T0 + 1, T0 + 2, T0 + 3600, T0 + 3, T0 + 4]
    outliers = [0]
    assert list(without_outliers([float(t) for t in times], outliers)) == [T0, T0 + 1, T0 + 2, T0 + 2, T0 + 3, T0 + 4]
    assert outliers == [1]


def test_clean_archives_pass_the_file_clock_unchanged() -> None:
    """Real collector files, in order, have no outlier: every event comes through as it was, in order."""
    for name in ("ris.rrc06.updates.1427846400.gz", "routeviews.route-views.jinx.updates.1401493500.bz2",
                 "bview.ipv4_unicast_add_path.gz", "updates.20240914.2230.bz2"):
        path = require_data(MRT_DIR / name)
        outliers = [0]
        assert list(without_outliers(read_mrt(path), outliers)) == list(read_mrt(path)), name
        assert outliers == [0]
