"""Small builders for events, so semantic tests read like the story they tell."""

from __future__ import annotations

from routewatch.model import (
    AsPath,
    FeedState,
    FsmState,
    Peer,
    PeerStateChange,
    RouteAnnouncement,
    RouteWithdrawal,
    SourceStatus,
    parse_prefix,
)


def peer(n: int, collector: str = "rrc00", asn: int | None = None) -> Peer:
    return Peer(collector, f"192.0.2.{n}" if n < 256 else f"2001:db8::{n:x}", asn if asn is not None else 64500 + n)


def announce(t: float, p: Peer, prefix: str, path: AsPath, **kw: object) -> RouteAnnouncement:
    return RouteAnnouncement(t, p, parse_prefix(prefix), path, **kw)  # type: ignore[arg-type]


def withdraw(t: float, p: Peer, prefix: str, **kw: object) -> RouteWithdrawal:
    return RouteWithdrawal(t, p, parse_prefix(prefix), **kw)  # type: ignore[arg-type]


def session_down(t: float, p: Peer) -> PeerStateChange:
    return PeerStateChange(t, p, FsmState.ESTABLISHED, FsmState.IDLE)


def session_up(t: float, p: Peer) -> PeerStateChange:
    return PeerStateChange(t, p, FsmState.OPENCONFIRM, FsmState.ESTABLISHED)


def collector_state(t: float, collector: str, state: FeedState) -> SourceStatus:
    return SourceStatus(t, "ris-live", state, collector=collector)
