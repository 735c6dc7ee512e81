"""Running the real ``bgpdump``; its ``-m`` lines are parsed by :mod:`tests.support.bgpdump_format`.

bgpdump is the independent oracle for MRT decoding: tests compare routewatch's
events with these lines, and test servers (e.g. the RIS Live one) build their
messages from them, never from routewatch's own reader.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from tests.support.bgpdump_format import BgpdumpLine, parse_line
from tests.support.tools import require_tool


@functools.cache
def bgpdump_text(path: Path, *flags: str) -> str:
    """bgpdump's output for a file (cached for the whole test run: it is slow on big files)."""
    tool = require_tool("bgpdump")
    result = subprocess.run([tool, "-q", *flags, str(path)], capture_output=True, text=True, check=True, timeout=300)
    return result.stdout


def bgpdump_lines(path: Path, *, large_communities: bool = True) -> list[BgpdumpLine]:
    """``bgpdump -m`` of a file, parsed; with ``-l`` by default, so one cached run serves every test."""
    flags = ("-m", "-l") if large_communities else ("-m",)
    text = bgpdump_text(path, *flags)
    return [parse_line(line, large_communities=large_communities) for line in text.splitlines() if line]
