"""RPKI detectors driven through the pure core with data time: VRP sets are values handed to the engine."""

from __future__ import annotations

from routewatch.core.detection import DetectionKind
from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import parse_prefix
from routewatch.rpki.validation import RpkiState
from routewatch.rpki.vrp import Vrp
from tests.support.events import announce, peer, withdraw

P = "193.0.0.0/21"
SUB = "193.0.4.0/24"
OWN = 3333
HIJACKER = 64666
DAY = 86_400.0


def vrp(prefix: str, max_length: int, asn: int, expires: float | None = None) -> Vrp:
    return Vrp(parse_prefix(prefix), max_length, asn, expires=expires)


def monitor(*prefixes: str, rpki: bool = True, **settings: float) -> Engine:
    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset({OWN}), WithdrawalThresholds(), description=f"w {p}")
                      for p in prefixes])
    return Engine(watch, CoreSettings(rpki=rpki, **settings))  # type: ignore[arg-type]


def announce_from(m: Engine, t: float, prefix: str, origin: int, peers: range = range(5)) -> list:
    return m.apply_all(announce(t, peer(i), prefix, (64500 + i, 1299, origin)) for i in peers)


def kinds(changes: list) -> list[tuple[str, str, str]]:
    return [(c.change.value, c.detection.kind.value, str(c.detection.prefix)) for c in changes]


def opened(changes: list, kind: DetectionKind) -> list:
    return [c.detection for c in changes if c.change.value == "opened" and c.detection.kind is kind]


def status(m: Engine, prefix: str = P):
    found = m.snapshot().status(parse_prefix(prefix))
    assert found is not None
    return found


def test_before_any_vrp_set_the_state_is_unknown_and_nothing_is_invalid() -> None:
    m = monitor(P)
    assert announce_from(m, 100, P, OWN) == []
    s = status(m)
    assert (s.rpki_state, s.rpki_invalid_peers, s.rpki_expires) == (RpkiState.UNKNOWN, None, None)


def test_without_rpki_configured_no_rpki_state_is_exported() -> None:
    m = monitor(P, rpki=False)
    announce_from(m, 100, P, OWN)
    assert status(m).rpki_state is None


def test_own_announcement_invalid_at_min_peers_opens_rpki_invalid_with_evidence() -> None:
    m = monitor(P, anomaly_min_peers=3)
    announce_from(m, 100, P, OWN)
    changes = m.set_vrps([vrp(P, 21, 64999)])  # a ROA for someone else: our origin is now invalid
    (detection,) = opened(changes, DetectionKind.RPKI_INVALID)
    e = detection.evidence
    assert (e["peers"], e["origins"], e["rpki_reasons"], e["covering_vrps"]) == (
        5, [OWN], ["wrong-origin"], [f"{P}-21 AS64999"])
    assert e["sample_paths"] == ["64500 1299 3333", "64501 1299 3333", "64502 1299 3333"]
    s = status(m)
    assert (s.rpki_state, s.rpki_invalid_peers) == (RpkiState.INVALID, 5)
    # Fixed by a ROA for the right AS: closes.
    fixed = m.set_vrps([vrp(P, 21, 64999), vrp(P, 21, OWN)])
    assert ("closed", "rpki-invalid", P) in kinds(fixed)
    assert (status(m).rpki_state, status(m).rpki_invalid_peers) == (RpkiState.VALID, 0)


def test_invalid_at_fewer_than_min_peers_is_counted_but_opens_nothing() -> None:
    m = monitor(P, anomaly_min_peers=3)
    m.set_vrps([vrp(P, 21, OWN)])
    changes = announce_from(m, 100, SUB, OWN, range(2))  # /24 beyond max length 21: too long
    assert opened(changes, DetectionKind.RPKI_INVALID) == []
    assert status(m).rpki_invalid_peers == 2
    more = announce_from(m, 110, SUB, OWN, range(2, 3))
    (detection,) = opened(more, DetectionKind.RPKI_INVALID)
    assert detection.prefix == parse_prefix(SUB) and detection.evidence["rpki_reasons"] == ["too-long"]
    closed = m.apply_all(withdraw(120, peer(i), SUB) for i in range(3))
    assert ("closed", "rpki-invalid", SUB) in kinds(closed)
    assert status(m).rpki_invalid_peers == 0


def test_an_invalid_hijack_is_an_origin_detection_that_says_so_not_an_rpki_invalid_one() -> None:
    m = monitor(P)
    m.set_vrps([vrp(P, 24, OWN)])
    changes = announce_from(m, 100, SUB, HIJACKER)
    assert opened(changes, DetectionKind.RPKI_INVALID) == []
    (origin,) = opened(changes, DetectionKind.ORIGIN)
    assert origin.evidence["rpki_invalid"] is True
    assert origin.evidence["rpki_states"] == ["invalid"] and origin.evidence["covering_vrps"] == [f"{P}-24 AS3333"]
    assert status(m).rpki_invalid_peers == 5  # every invalid route counts in the gauge


def test_a_not_found_hijack_says_it_is_not_invalid() -> None:
    m = monitor(P)
    m.set_vrps([vrp("10.0.0.0/8", 8, OWN)])
    (origin,) = opened(announce_from(m, 100, SUB, HIJACKER), DetectionKind.ORIGIN)
    assert (origin.evidence["rpki_invalid"], origin.evidence["rpki_states"]) == (False, ["not-found"])


def test_an_as_set_origin_is_never_valid() -> None:
    m = monitor(P, anomaly_min_peers=1)
    m.set_vrps([vrp(P, 24, OWN)])
    changes = m.apply_all([announce(100, peer(1), P, (64501, frozenset({OWN})))])
    assert status(m).rpki_invalid_peers == 1
    assert opened(changes, DetectionKind.ORIGIN) == []  # {3333} is all expected: not a hijack
    assert [d.evidence["rpki_reasons"] for d in opened(changes, DetectionKind.RPKI_INVALID)] == [["wrong-origin"]]


def test_not_covered_opens_and_closes_when_a_roa_appears() -> None:
    m = monitor(P, "10.0.0.0/8")
    changes = m.set_vrps([vrp("10.0.0.0/8", 8, OWN)])
    assert [(c.change.value, str(c.detection.prefix)) for c in changes
            if c.detection.kind is DetectionKind.RPKI_NOT_COVERED] == [("opened", P)]
    assert status(m).rpki_state is RpkiState.NOT_FOUND
    assert status(m, "10.0.0.0/8").rpki_state is RpkiState.VALID
    closed = m.set_vrps([vrp("10.0.0.0/8", 8, OWN), vrp("193.0.0.0/16", 24, OWN)])
    assert ("closed", "rpki-not-covered", P) in kinds(closed)
    assert [d.kind for d in m.snapshot().open_detections] == []


def test_roa_change_reports_before_and_after_and_the_first_set_is_no_change() -> None:
    m = monitor(P)
    announce_from(m, 100, P, OWN)
    first = m.set_vrps([vrp(P, 21, OWN)])
    assert [k for k in kinds(first) if "roa" in k[1]] == []
    m.advance(200)
    changed = m.set_vrps([vrp(P, 22, OWN), vrp("203.0.113.0/24", 24, 64511)])  # unrelated VRP: no change here
    assert kinds(changed) == [("opened", "rpki-roa-change", P), ("closed", "rpki-roa-change", P)]
    e = changed[0].detection.evidence
    assert (e["before"], e["after"], e["added"], e["removed"]) == (
        [f"{P}-21 AS3333"], [f"{P}-22 AS3333"], [f"{P}-22 AS3333"], [f"{P}-21 AS3333"])
    assert changed[0].time == 200
    # A renewal (same identity, later expiry) is not a ROA change.
    renewed = m.set_vrps([vrp(P, 22, OWN, expires=10 * DAY), vrp("203.0.113.0/24", 24, 64511)])
    assert [k for k in kinds(renewed) if k[1] == "rpki-roa-change"] == []


def test_a_roa_under_the_watched_prefix_is_a_change_too() -> None:
    m = monitor(P)
    m.set_vrps([vrp(P, 21, OWN)])
    changed = m.set_vrps([vrp(P, 21, OWN), vrp(SUB, 24, OWN)])
    assert kinds(changed)[0] == ("opened", "rpki-roa-change", P)
    assert changed[0].detection.evidence["added"] == [f"{SUB}-24 AS3333"]


def test_a_roa_edit_that_invalidates_routes_seen_now_warns() -> None:
    m = monitor(P)
    m.set_vrps([vrp(P, 24, OWN)])
    announce_from(m, 100, SUB, OWN)  # valid under max length 24
    assert status(m).rpki_roa_invalidations == 0
    broken = m.set_vrps([vrp(P, 21, OWN)])  # max length shortened: the /24 becomes too long
    (warning,) = opened(broken, DetectionKind.RPKI_ROA_WOULD_INVALIDATE)
    # It opens and closes at once (never an open detection); the counter is what an alert rule reads.
    assert [c.change.value for c in broken if c.detection is warning or c.detection.kind is warning.kind] == [
        "opened", "closed"]
    assert status(m).rpki_roa_invalidations == 1
    e = warning.evidence
    assert (e["prefixes"], e["routes"], e["origins"], e["removed"]) == ([SUB], 5, [OWN], [f"{P}-24 AS3333"])
    assert len(opened(broken, DetectionKind.RPKI_INVALID)) == 1
    # A change that breaks nothing new warns of nothing.
    again = m.set_vrps([vrp(P, 21, OWN), vrp("193.0.0.0/22", 22, OWN)])
    assert opened(again, DetectionKind.RPKI_ROA_WOULD_INVALIDATE) == []
    assert status(m).rpki_roa_invalidations == 1


def test_expiry_is_exported_and_warns_the_configured_time_before() -> None:
    m = monitor(P, rpki_expiry_warning=2 * DAY)
    announce_from(m, 100, P, OWN)
    expires = 10 * DAY
    assert m.set_vrps([vrp(P, 21, OWN, expires=expires), vrp(P, 24, OWN, expires=20 * DAY),
                       vrp(P, 24, 64999, expires=1 * DAY)]) == []  # another AS's VRP does not keep ours valid
    assert status(m).rpki_expires == expires
    assert m.advance(8 * DAY - 1) == []
    warned = m.advance(8 * DAY)
    assert kinds(warned) == [("opened", "rpki-roa-expiring", P)]
    assert warned[0].detection.evidence["expires"] == expires
    assert warned[0].detection.evidence["vrps"] == [f"{P}-21 AS3333"]
    # Renewed: the warning closes and the new expiry is exported.
    renewed = m.set_vrps([vrp(P, 21, OWN, expires=40 * DAY), vrp(P, 24, OWN, expires=30 * DAY),
                          vrp(P, 24, 64999, expires=1 * DAY)])
    assert kinds(renewed) == [("closed", "rpki-roa-expiring", P)]
    assert status(m).rpki_expires == 30 * DAY


def test_a_prefix_discovered_later_is_judged_against_the_current_set() -> None:
    m = monitor(P, "10.0.0.0/8")
    m.set_vrps([vrp(P, 21, OWN)])
    assert status(m).rpki_state is RpkiState.VALID
    m.track(WatchedPrefix(parse_prefix("198.51.100.0/24"), frozenset({OWN}), WithdrawalThresholds()))
    changes = m.flush()
    assert kinds(changes) == [("opened", "rpki-not-covered", "198.51.100.0/24")]


def test_a_thousand_vrp_sets_keep_one_expiry_timer_per_prefix_and_the_warning_fires_once_at_the_last_time() -> None:
    m = monitor(P, "10.0.0.0/8", rpki_expiry_warning=2 * DAY)
    announce_from(m, 100, P, OWN)
    baseline = len(m.timers)
    for i in range(1000):  # a cache refreshed every few minutes: each set differs, and every other one moves P's expiry
        m.set_vrps([vrp(P, 21, OWN, expires=10 * DAY + (i // 2) * 60), vrp("10.0.0.0/8", 8, OWN, expires=20 * DAY),
                    vrp("203.0.113.0/24", 24, 64500 + i)])
        assert len(m.timers) <= baseline + 4  # two prefixes' live timers, and as many replaced ones at most
    due = 10 * DAY + 499 * 60 - 2 * DAY
    assert m.advance(due - 1) == []  # the replaced (earlier) times fire nothing
    assert kinds(m.advance(due)) == [("opened", "rpki-roa-expiring", P)]
    assert kinds(m.advance(18 * DAY)) == [("opened", "rpki-roa-expiring", "10.0.0.0/8")]
    assert len(m.timers) == 0
