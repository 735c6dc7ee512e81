"""Supervision: a failing component is restarted with growing delays and counted; it never ends the process."""

from __future__ import annotations

import asyncio

from routewatch.daemon.supervise import RestartBackoff, Supervisor


async def test_a_failing_component_is_restarted_with_backoff_and_counted() -> None:
    stop = asyncio.Event()
    runs = 0
    seen_down = []
    supervisor: Supervisor

    def changed() -> None:
        seen_down.extend(s.restarts for s in supervisor.statuses() if not s.up)

    pauses: list[float] = []

    async def pause(_: asyncio.Event, seconds: float) -> None:
        pauses.append(seconds)  # no sleeping: the delays are checked, not waited for

    supervisor = Supervisor(backoff=RestartBackoff(initial=1.0, maximum=4.0, jitter=0.0), on_change=changed,
                            pause=pause)

    async def work() -> None:
        nonlocal runs
        runs += 1
        if runs == 5:
            stop.set()
            return
        raise ConnectionError(f"feed dropped #{runs}")

    await asyncio.wait_for(supervisor.supervise("source:x", work, stop), 10)
    (status,) = supervisor.statuses()
    assert (status.component, status.up, status.restarts) == ("source:x", True, 4)
    assert status.last_error == "ConnectionError: feed dropped #4"
    assert seen_down == [1, 2, 3, 4]
    assert pauses == [1.0, 2.0, 4.0, 4.0]  # doubling up to the ceiling


async def test_a_component_that_finishes_is_not_restarted_and_stop_ends_supervision() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor()
    calls = []

    async def once() -> None:
        calls.append(1)

    await supervisor.supervise("replay", once, stop)
    assert calls == [1] and supervisor.statuses()[0].up

    async def forever() -> None:
        await stop.wait()

    task = asyncio.create_task(supervisor.supervise("dns", forever, stop))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 5)
    supervisor.forget("dns")
    assert [s.component for s in supervisor.statuses()] == ["replay"]
