"""JSON VRP sources over HTTP from real servers: StayRTR's own rpki.json, and a web server's Last-Modified.

StayRTR re-exports the VRPs it serves at ``/rpki.json`` in its own format;
Python's ``http.server`` answers ``If-Modified-Since`` with 304, so an
unchanged export costs no parse.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from routewatch.config.schema import parse_config
from routewatch.sources.vrp.feeds import build_vrp_feeds
from routewatch.sources.vrp.json_source import JsonVrpSource
from tests.support.daemon import wait_for
from tests.support.dns_servers import free_port
from tests.support.rpki_servers import StayRtr, write_vrp_file

pytestmark = pytest.mark.integration

ROWS = [("10.0.0.0/8", 16, 64496), ("2001:db8::/32", 48, 64498)]


def held(source: JsonVrpSource) -> set[tuple[str, int, int]]:
    return {(str(v.prefix), v.max_length, v.asn) for v in source.status().vrps}


def test_stayrtrs_rpki_json_over_http(tmp_path: Path) -> None:
    path = tmp_path / "vrps.json"
    write_vrp_file(path, ROWS)
    server = StayRtr(tmp_path, path).start()
    try:
        source = JsonVrpSource("stayrtr-json", f"http://127.0.0.1:{server.metrics_port}/rpki.json")
        wait_for(lambda: asyncio.run(source.poll()) or source.status().loaded, 15.0, "StayRTR's rpki.json")
        assert held(source) == set(ROWS)
        assert source.skipped == 0
    finally:
        server.kill()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    port = free_port(["127.0.0.1"])
    log = (tmp_path / "http.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(tmp_path), str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    wait_for(lambda: _get_ok(port), 15.0, "http.server")
    yield tmp_path, port
    process.terminate()
    process.wait(timeout=5)


def _get_ok(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    except httpx.HTTPError:
        return False


def test_a_url_is_reloaded_only_when_last_modified_changes(web: tuple[Path, int]) -> None:
    directory, port = web
    path = directory / "vrps.json"
    write_vrp_file(path, ROWS)
    source = JsonVrpSource("web", f"http://127.0.0.1:{port}/vrps.json")

    async def scenario() -> None:
        assert await source.poll()
        assert not await source.poll(), "an unchanged export is a 304"
        write_vrp_file(path, ROWS[:1])
        later = time.time() + 10
        os.utime(path, (later, later))
        assert await source.poll()
        assert held(source) == set(ROWS[:1]) and source.status().serial == 2
        path.write_text('{"roas": [{"asn": "AS1", "prefix": "192.0.2.0/24", "maxLength": 24}, {"asn": "x"}]}')
        os.utime(path, (later + 10, later + 10))
        assert await source.poll()
        assert held(source) == {("192.0.2.0/24", 24, 1)} and source.skipped == 1
        path.unlink()
        assert not await source.poll()
        assert source.status().stale and held(source) == {("192.0.2.0/24", 24, 1)}

    asyncio.run(scenario())
    log = (directory / "http.log").read_text()
    assert '"GET /vrps.json HTTP/1.1" 304' in log


def test_configured_sources_merge_and_a_failed_one_keeps_its_set(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_vrp_file(first, ROWS[:1])
    write_vrp_file(second, ROWS[1:])
    settings = parse_config({"rpki": {"refresh": 0.05, "sources": [
        {"type": "json", "name": "a", "path": str(first)}, {"type": "json", "name": "b", "path": str(second)},
    ]}}).rpki
    feeds = build_vrp_feeds(settings)
    index = asyncio.run(feeds.first_load(15.0))
    assert index is not None and {(str(v.prefix), v.max_length, v.asn) for v in index.vrps} == set(ROWS)
    second.write_text("[not an export")
    assert asyncio.run(feeds.feeds[1].poll()) is False  # type: ignore[attr-defined]
    statuses = {status.name: status for status in feeds.statuses()}
    assert statuses["b"].stale and not statuses["a"].stale and len(statuses["b"].vrps) == 1
    assert feeds.merged() == index.vrps
