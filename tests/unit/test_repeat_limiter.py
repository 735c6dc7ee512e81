"""Identical warnings held back for a window, and the count said when one next passes (clock injected)."""

from __future__ import annotations

import logging

from routewatch.daemon.logs import RepeatLimiter


def _record(message: str, *args: object, level: int = logging.WARNING, name: str = "routewatch.x") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


def test_repeats_are_held_back_then_counted_when_one_passes() -> None:
    now = [0.0]
    limiter = RepeatLimiter(window=60.0, clock=lambda: now[0])
    assert limiter.filter(_record("%s: cannot connect; retrying in %.1fs", "ris-live", 1.2))
    for delay in (2.5, 4.0, 8.0):
        now[0] += 10.0
        assert not limiter.filter(_record("%s: cannot connect; retrying in %.1fs", "ris-live", delay))
    assert limiter.filter(_record("%s: cannot connect; retrying in %.1fs", "other", 1.0))  # not identical
    now[0] = 61.0
    resumed = _record("%s: cannot connect; retrying in %.1fs", "ris-live", 16.0)
    assert limiter.filter(resumed)
    assert resumed.getMessage() == ("ris-live: cannot connect; retrying in 16.0s "
                                    "[repeated 3 more time(s) since last logged, held back]")
    now[0] = 62.0
    assert not limiter.filter(_record("%s: cannot connect; retrying in %.1fs", "ris-live", 16.0))


def test_info_and_detections_are_never_held_back() -> None:
    limiter = RepeatLimiter(window=60.0, clock=lambda: 0.0)
    assert all(limiter.filter(_record("same", level=logging.INFO)) for _ in range(3))
    assert all(limiter.filter(_record("opened", name="routewatch.detections")) for _ in range(3))
