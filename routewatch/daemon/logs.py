"""Logs for people (default) or for log shippers (JSON lines), and the detection log file.

The detection log is the story of each detection (opened, closed, with its
evidence) as JSON lines in a file an operator can grep or ship; paging is
done by alert rules on the exported gauges, never from this file.

A warning repeated word for word (a feed that keeps failing the same way)
says nothing new after its first time: :class:`RepeatLimiter` lets it through
once a minute and says how many were held back when it next speaks.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import orjson

from routewatch.config.schema import LoggingSettings
from routewatch.core.detection import DetectionChange

HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_HANDLER_NAME = "routewatch"

detections_log = logging.getLogger("routewatch.detections")

REPEAT_WINDOW = 60.0
"""Seconds during which a warning identical to one just logged is held back (and counted)."""
_REPEATS_KEPT = 10_000


class RepeatLimiter(logging.Filter):
    """Holds back warnings (and worse) identical to one logged less than ``window`` seconds ago.

    Identical means same logger, level, message and arguments, floats aside
    (delays and durations vary from one retry to the next). The first one that
    passes after the window carries the count of those held back. Detections
    are never held back: each is part of the story.
    """

    def __init__(self, window: float = REPEAT_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self._clock = clock
        self._seen: dict[tuple[object, ...], tuple[float, int]] = {}  # key -> (logged at, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or record.name == detections_log.name:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        key = (record.name, record.levelno, str(record.msg), *(str(a) for a in args if not isinstance(a, float)))
        now = self._clock()
        logged_at, held = self._seen.get(key, (None, 0))
        if logged_at is not None and now - logged_at < self.window:
            self._seen[key] = (logged_at, held + 1)
            return False
        if held:
            record.msg = f"{record.msg} [repeated {held} more time(s) since last logged, held back]"
        if len(self._seen) >= _REPEATS_KEPT:
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
        self._seen[key] = (now, 0)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(settings: LoggingSettings, stream: IO[str] | None = None) -> None:
    """Install (or replace, on reload) routewatch's handler on the root logger."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else logging.Formatter(HUMAN_FORMAT))
    handler.addFilter(RepeatLimiter())
    root.addHandler(handler)
    root.setLevel(settings.level.upper())


class DetectionLog:
    """Appends each detection change to ``path`` (if set) and logs it at WARNING (opened) or INFO (closed)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "ab")  # noqa: SIM115 - kept open for the daemon's life, closed in close()

    def write(self, changes: Iterable[DetectionChange]) -> None:
        for change in changes:
            level = logging.WARNING if change.change.value == "opened" else logging.INFO
            detections_log.log(level, "%s", change.as_text())
            if self._file is not None:
                self._file.write(orjson.dumps(change.as_json()) + b"\n")
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
