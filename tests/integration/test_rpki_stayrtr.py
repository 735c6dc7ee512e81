"""routewatch's RTR client against a real StayRTR, and its validation against GoBGP's.

StayRTR serves a JSON file the test writes. The client loads it in full, follows
a change through Serial Notify and an incremental update, keeps its last good
set (stale) while the cache is dead, reloads in full under the new session id
after a restart, and answers a Cache Reset. GoBGP, connected to the same
StayRTR, is the independent validator: for the same routes its V/I/N equal
routewatch's valid/invalid/not-found.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from routewatch.rpki.validation import RpkiState, VrpIndex
from routewatch.sources.vrp.rtr_client import RtrClient
from tests.support.daemon import wait_for
from tests.support.rpki_servers import GobgpValidator, StayRtr, write_vrp_file

pytestmark = pytest.mark.integration

CHANGE_DEADLINE = 20.0
"""Upper bound on a file change reaching the client: StayRTR re-reads the file every second."""

FIRST = [("10.0.0.0/8", 16, 64496), ("10.1.0.0/16", 24, 64497), ("2001:db8::/32", 48, 64498)]
SECOND = [("10.0.0.0/8", 16, 64496), ("192.0.2.0/24", 24, 64499), ("2001:db8::/32", 48, 64498)]
THIRD = [("198.51.100.0/24", 24, 64500)]


def as_vrps(rows: list[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
    return set(rows)


def held(client: RtrClient) -> set[tuple[str, int, int]]:
    return {(str(v.prefix), v.max_length, v.asn) for v in client.session.vrps}


async def until(check: Callable[[], bool], what: str, deadline: float = CHANGE_DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[StayRtr]:
    path = tmp_path / "vrps.json"
    write_vrp_file(path, FIRST)
    server = StayRtr(tmp_path, path).start()
    yield server
    server.kill()


@contextlib.asynccontextmanager
async def running(client: RtrClient) -> AsyncIterator[RtrClient]:
    task = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_full_load_serial_notify_kill_restart_and_session_change(cache: StayRtr) -> None:
    client = RtrClient("stayrtr", "127.0.0.1", cache.port, reconnect_min=0.1)
    async with running(client):
        await until(lambda: client.session.last_update is not None, "the first End of Data")
        assert held(client) == as_vrps(FIRST)
        assert client.session.version == 1 and client.session.refresh == 3600
        first_session, first_serial = client.session.session_id, client.session.serial
        assert not client.status().stale

        write_vrp_file(cache.cache, SECOND)
        await until(lambda: held(client) == as_vrps(SECOND), "the changed file's VRPs")
        counters = client.session.counters
        assert counters.full_loads == 1 and counters.incremental_updates >= 1
        assert client.session.serial != first_serial and client.session.session_id == first_session
        assert client.connects == 1, "a Serial Notify on the open connection, not a reconnect, brought the change"

        cache.kill()
        await until(lambda: not client.connected, "the client to see the cache gone")
        status = client.status()
        assert status.stale and {(str(v.prefix), v.max_length, v.asn) for v in status.vrps} == as_vrps(SECOND)

        write_vrp_file(cache.cache, THIRD)
        cache.start()
        await until(lambda: held(client) == as_vrps(THIRD), "the restarted cache's VRPs")
        assert client.session.session_id != first_session
        assert client.session.counters.session_changes == 1
        assert not client.status().stale
        assert client.session.counters.malformed == 0


async def test_an_unknown_serial_gets_a_cache_reset_then_a_full_load(cache: StayRtr) -> None:
    first = RtrClient("first", "127.0.0.1", cache.port, reconnect_min=0.1)
    async with running(first):
        await until(lambda: first.session.last_update is not None, "the first End of Data")
    # A router that kept a serial the cache never issued (it restarted from a saved state, say).
    late = RtrClient("late", "127.0.0.1", cache.port, reconnect_min=0.1)
    late.session.session_id = first.session.session_id
    late.session.serial = (first.session.serial or 0) + 1000
    async with running(late):
        await until(lambda: late.session.last_update is not None, "the load after the Cache Reset")
    assert late.session.counters.cache_resets == 1 and late.session.counters.full_loads == 1
    assert held(late) == as_vrps(FIRST)


ROUTES: list[tuple[str, tuple[int, ...]]] = [
    ("10.0.0.0/8", (65001, 64496)),
    ("10.2.0.0/16", (65001, 64496)),
    ("10.2.3.0/24", (65001, 64496)),
    ("10.2.0.0/16", (65001, 64511)),
    ("10.1.0.0/16", (65001, 64497)),
    ("10.1.2.0/24", (65001, 64497)),
    ("10.1.3.0/24", (65001, 64496)),
    ("11.0.0.0/16", (65001, 64496)),
    ("2001:db8:1::/48", (65001, 64498)),
    ("2001:db8:2::/56", (65001, 64498)),
    ("2001:db8:3::/48", (65001, 64499)),
    ("2001:db9::/32", (65001, 64498)),
]
LETTER = {RpkiState.VALID: "V", RpkiState.INVALID: "I", RpkiState.NOT_FOUND: "N"}


@pytest.fixture
def gobgp(tmp_path: Path, cache: StayRtr) -> Iterator[GobgpValidator]:
    validator = GobgpValidator(tmp_path, cache.port).start()
    yield validator
    validator.stop()


async def test_states_equal_gobgps_for_the_same_routes(cache: StayRtr, gobgp: GobgpValidator) -> None:
    # One route per prefix: GoBGP's RIB keeps one best path per prefix from one source.
    routes = dict(ROUTES[:3] + ROUTES[4:])
    for prefix, path in routes.items():
        gobgp.add(prefix, path)
    client = RtrClient("stayrtr", "127.0.0.1", cache.port, reconnect_min=0.1)
    async with running(client):
        await until(lambda: client.session.last_update is not None, "the first End of Data")
    wait_for(lambda: gobgp.rpki_records() == len(FIRST), 20.0, "GoBGP to hold the cache's VRPs")
    index = VrpIndex(client.session.vrps)
    ours = {p: LETTER[index.validate_path(ipaddress.ip_network(p), path).state] for p, path in routes.items()}
    wait_for(lambda: gobgp.states() == ours, 20.0, f"GoBGP's states {gobgp.states()} to equal ours {ours}")
    assert set(ours.values()) == {"V", "I", "N"}

