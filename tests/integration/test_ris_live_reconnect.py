"""The server dies mid-stream and comes back: reconnect, resubscribe, reconcile, no false withdrawal.

The data is real (RIS rrc00, 2010-07-22). 111.11.133.0/24 is announced by
seven peers and then withdrawn by all of them; the server is killed just
before the last four withdrawals and restarted after them, so the client
never hears them: only the reconcile from the looking glass can tell.
"""

from __future__ import annotations

from routewatch.config.to_core import build_engine
from routewatch.core.detection import ChangeKind, DetectionKind
from routewatch.core.visibility import PrefixState
from routewatch.model import parse_prefix
from routewatch.tools.replay import replay_files
from tests.integration.test_ris_live_replay import COLLECTOR, FILE, watched_prefixes
from tests.support.bgpdump import bgpdump_lines
from tests.support.live_harness import live_config, ris_server, running_live, wait_until
from tests.support.ris_live_server import WorldLookingGlass, mrt_path, ris_messages_from_bgpdump
from tests.support.tools import require_data

GONE = parse_prefix("111.11.133.0/24")
BOOTSTRAP_UNTIL = 1279829800.0
GAP = (1279829940.0, 1279829970.0)
BGP = {"thresholds": {"hold_down": 5.0, "min_baseline_peers": 2}, "baseline_min_hold": 20.0, "peer_settle": 60.0}


async def test_kill_and_restart_reconciles_without_false_withdrawals() -> None:
    path = require_data(mrt_path(FILE))
    lines = bgpdump_lines(path)
    messages = ris_messages_from_bgpdump(lines, COLLECTOR)
    before = [m for m in messages if m["data"]["timestamp"] < BOOTSTRAP_UNTIL]
    live_part = [m for m in messages if BOOTSTRAP_UNTIL <= m["data"]["timestamp"] < GAP[0]]
    gap = [m for m in messages if GAP[0] <= m["data"]["timestamp"] < GAP[1]]
    after = [m for m in messages if m["data"]["timestamp"] >= GAP[1]]
    assert any(GONE == parse_prefix(p) for m in gap for p in m["data"].get("withdrawals", ()))

    async with ris_server() as server:
        for message in before:
            await server.publish(message)  # the world before routewatch starts: only the looking glass knows
        config = live_config(server.url, watched_prefixes(lines), bgp=BGP,
                             source={"reconcile": "ripestat"})
        config = config.model_copy(update={"bgp": config.bgp.model_copy(
            update={"bootstrap": config.bgp.bootstrap.model_copy(update={"ripestat": True})})})
        monitor = build_engine(config, bootstrapped=False)
        glass = WorldLookingGlass(server)
        async with running_live(config, monitor, glass=glass) as run:
            live = run.live
            subscriptions = live.client.subscription_count
            await server.wait_subscribed(subscriptions)
            await wait_until(lambda: monitor.bootstrapped, "the bootstrap snapshot")
            bootstrap_questions = len(glass.questions)
            assert monitor.snapshot().status(GONE).state is PrefixState.MISSING  # not announced yet
            await server.replay(live_part)
            last = live_part[-1]["data"]["timestamp"]
            await wait_until(lambda: live.session.feed.data_time == last and run.messages == live.client.stats.received,
                             "the first part applied")
            assert monitor.snapshot().status(GONE).state is PrefixState.VISIBLE

            await server.kill()
            await wait_until(lambda: monitor.snapshot().stale_collectors == {COLLECTOR}, "the collector stale")
            assert {s.state for s in monitor.snapshot().prefixes} == {PrefixState.UNKNOWN}
            run.clock.advance(1.0)
            changes_before_gap, sent_before_gap = len(run.changes), server.sent
            for message in gap:
                await server.publish(message)
            assert server.sent == sent_before_gap  # nobody heard the gap

            await server.restart()
            await server.wait_subscribed(subscriptions, connections=2)
            await wait_until(lambda: live.session.reconciles == 1, "the reconcile")
            # The gap opened nothing (closing what really went away during it is right).
            assert [c for c in run.changes[changes_before_gap:] if c.change is ChangeKind.OPENED] == []
            assert monitor.snapshot().stale_collectors == {COLLECTOR}  # until it speaks again
            await server.replay(after)
            last = after[-1]["data"]["timestamp"]
            await wait_until(lambda: live.session.feed.data_time == last and run.messages == live.client.stats.received,
                             "the rest applied")
            health = live.details()

    assert not monitor.snapshot().stale_collectors
    assert (health.reconnects, server.connections, server.subscribe_messages) == (1, 2, 2 * subscriptions)
    assert health.acknowledged == 2 * subscriptions
    assert len(glass.questions) == 2 * bootstrap_questions  # bootstrap, then one reconcile

    gone = monitor.snapshot().status(GONE)
    assert gone is not None and gone.state is PrefixState.WITHDRAWN and gone.visible_peers == 0
    opened = [c for c in run.changes if c.change is ChangeKind.OPENED and c.detection.kind is DetectionKind.WITHDRAWAL]
    assert [c.detection.prefix for c in opened if c.detection.prefix == GONE] == [GONE]
    assert all(c.detection.start >= GAP[0] for c in opened if c.detection.prefix == GONE)

    # Every other withdrawal is one an uninterrupted replay sees too, and nothing is counted twice:
    # each prefix ends with exactly the peers that really hold it.
    reference = build_engine(config, bootstrapped=False)
    expected = replay_files(reference, [str(path)], collector=COLLECTOR)
    really_withdrawn = {c.detection.prefix for c in expected.changes
                        if c.change is ChangeKind.OPENED and c.detection.kind is DetectionKind.WITHDRAWAL}
    assert {c.detection.prefix for c in opened} - {GONE} <= really_withdrawn
    truth = {s.prefix: s.visible_peers for s in reference.snapshot().prefixes}
    assert {s.prefix: s.visible_peers for s in monitor.snapshot().prefixes} == truth
    assert monitor.table.route_count() == reference.table.route_count()
