"""RIS Live websocket messages into routewatch events: a pure function, no I/O.

RIS Live (https://ris-live.ripe.net/manual/) sends JSON envelopes
``{"type": ..., "data": ...}``. What the real feed sends is normalised here,
once, so the core never sees it:

- ``peer_asn`` arrives as a string (``"11708"``);
- ``host`` is ``rrc21`` or ``rrc25.ripe.net``: both become ``rrc21``/``rrc25``;
- IPv6 prefixes arrive uncompressed (``2605:de00:bb:0:0:0:0:0/48``) and become
  canonical networks;
- a withdrawal-only UPDATE has ``path: []``; an AS_SET is a nested list in
  ``path`` and becomes a ``frozenset``;
- ``next_hop`` can be ``"global,link-local"``: the first (global) one is kept.

Nothing here raises on bad input. A message that cannot be read at all is
counted as malformed by reason; a message that is partly bad (one invalid
prefix among ten) yields what it can and counts the rest. Message types
routewatch does not use (OPEN, NOTIFICATION, ``ris_rrc_list``) are counted by
name as ignored; names from the wire are never used as counter keys, so a
hostile server cannot create unbounded series.

Speed: a well-formed UPDATE (nearly every message) is read by one flat
function that trusts nothing but checks only exact JSON types, and finds
collectors, peers, next hops and prefixes in dicts keyed by their raw text.
Anything it does not recognise as well-formed falls back to the careful
field-by-field reading, which alone counts what is malformed; the fast
reading has no effect but filling those caches with valid values, so both
give the same frame and the same counts.

What a message gives (:class:`RisFrame`, :class:`RisTally`) is in
:mod:`~routewatch.sources.ris_live.frame`; the readers of its fields, careful
and fast, in :mod:`~routewatch.sources.ris_live.fields`.
"""

from __future__ import annotations

from typing import Any

import orjson

from routewatch.model import (
    ZONE_INDEX,
    Event,
    Peer,
    PeerStateChange,
    Prefix,
    RouteAnnouncement,
    RouteWithdrawal,
    Safi,
    canonical_address,
    parse_asn,
    parse_prefix,
)
from routewatch.sources.clock_guard import CLOCK_SKEW_TOLERANCE, ClockGuard
from routewatch.sources.collector_cap import MAX_COLLECTORS, OVER_CAP, CollectorCap
from routewatch.sources.ris_live.fields import (
    ORIGINS,
    PEER_STATES,
    fast_communities,
    fast_path,
    read_path,
    read_timestamp,
    unsigned,
)
from routewatch.sources.ris_live.frame import (
    IGNORED_TYPES,
    UNKNOWN_TYPE,
    FrameKind,
    MalformedRisMessage,
    RisFrame,
    RisTally,
    normalise_host,
)

_UNICAST = Safi.UNICAST
#: Bounds of the raw-text caches: a hostile or simply huge feed clears them rather than growing them.
_PEER_CACHE_LIMIT = 65_536
_HOST_CACHE_LIMIT = 1_024
_TEXT_CACHE_LIMIT = 131_072


class RisParser:
    """Parses messages, caching what repeats so that the hot path builds few objects.

    The caches map raw wire text to validated values: host to collector,
    (host, peer, peer_asn) to :class:`Peer`, next hop to its canonical text and
    prefix text to its canonical network (so ``2605:de00:bb:0:0:0:0:0/48`` and
    ``2605:de00:bb::/48`` both find the one network).
    """

    def __init__(self, tally: RisTally | None = None, *, tolerance: float = CLOCK_SKEW_TOLERANCE,
                 max_collectors: int = MAX_COLLECTORS) -> None:
        self.tally = tally if tally is not None else RisTally()
        self.collector_cap = CollectorCap(max_collectors, self.tally.ignored)
        self.guard = ClockGuard(tolerance, self.tally.malformed)
        self._collectors: dict[str, str] = {}
        self._peers: dict[tuple[str, str, str], Peer] = {}
        self._next_hops: dict[str, str] = {}
        self._prefixes: dict[str, Prefix] = {}

    def at_wall_clock(self, now: float) -> None:
        """Live: messages stamped beyond ``now`` plus the tolerance are clock skew, judged at ``now``.

        One message from a wrong clock (a KEEPALIVE dated ten years ahead)
        would otherwise move the core's data time for good; counted under
        ``malformed["clock_skew"]``, its events are kept at the wall clock.
        """
        self.guard.at_wall_clock(now)

    def decode(self, text: str | bytes) -> RisFrame:
        """Parse one websocket text message."""
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            return self._malformed(MalformedRisMessage("json", f"not JSON: {exc}"))
        return self.frame(obj)

    def frame(self, obj: object) -> RisFrame:
        """Parse one decoded envelope; never raises."""
        if type(obj) is dict and obj.get("type") == "ris_message":
            data = obj.get("data")
            if type(data) is dict and data.get("type") == "UPDATE":
                try:
                    fast = self._fast_update(data)
                except (TypeError, ValueError):  # an unhashable or odd value where text was expected
                    fast = None
                if fast is not None:
                    return fast
        return self.careful_frame(obj)

    def careful_frame(self, obj: object) -> RisFrame:
        """The reference reading, field by field, counting what is malformed; never raises.

        :meth:`frame` gives the same result faster for well-formed UPDATEs.
        """
        try:
            return self._frame(obj)
        except MalformedRisMessage as exc:
            return self._malformed(exc)
        except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
            return self._malformed(MalformedRisMessage("data", f"unreadable message: {exc}"))

    def _malformed(self, exc: MalformedRisMessage) -> RisFrame:
        self.tally.malformed[exc.reason] += 1
        return RisFrame(FrameKind.MALFORMED, detail=f"{exc.reason}: {exc}")

    def _frame(self, obj: object) -> RisFrame:
        if not isinstance(obj, dict):
            raise MalformedRisMessage("envelope", "a message must be a JSON object")
        kind = obj.get("type")
        data = obj.get("data")
        if kind == "ris_message":
            if not isinstance(data, dict):
                raise MalformedRisMessage("envelope", "ris_message without a data object")
            return self._ris_message(data)
        if kind == "ris_error":
            self.tally.errors += 1
            message = data.get("message") if isinstance(data, dict) else data
            return RisFrame(FrameKind.ERROR, detail=str(message)[:500])
        if kind == "ris_subscribe_ok":
            subscription = data.get("subscription") if isinstance(data, dict) else None
            return RisFrame(FrameKind.SUBSCRIBE_OK,
                            subscription=subscription if isinstance(subscription, dict) else {})
        if kind == "pong":
            return RisFrame(FrameKind.PONG)
        if not isinstance(kind, str):
            raise MalformedRisMessage("envelope", "a message needs a string 'type'")
        return self._ignored(kind)

    def _ignored(self, kind: str, collector: str | None = None, timestamp: float | None = None) -> RisFrame:
        name = kind if kind in IGNORED_TYPES else UNKNOWN_TYPE
        self.tally.ignored[name] += 1
        return RisFrame(FrameKind.IGNORED, collector=collector, timestamp=timestamp, detail=name)

    def _ris_message(self, data: dict[str, Any]) -> RisFrame:
        timestamp = self.guard.judge(read_timestamp(data.get("timestamp")))
        host = data.get("host")
        if not isinstance(host, str) or not host.strip():
            raise MalformedRisMessage("host", f"host {host!r} is not a collector name")
        collector = self._collector(host)
        if not self.collector_cap.admit(collector):
            return RisFrame(FrameKind.IGNORED, detail=OVER_CAP)
        kind = data.get("type")
        if kind == "UPDATE":
            peer = self._peer(host, collector, data)
            return RisFrame(FrameKind.UPDATE, self._update(data, peer, timestamp), collector, timestamp)
        if kind == "RIS_PEER_STATE":
            peer = self._peer(host, collector, data)
            states = PEER_STATES.get(data.get("state"))  # type: ignore[arg-type]
            if states is None:
                raise MalformedRisMessage("state", f"unknown peer state {data.get('state')!r}")
            event = PeerStateChange(timestamp, peer, states[0], states[1])
            return RisFrame(FrameKind.PEER_STATE, (event,), collector, timestamp)
        if kind == "KEEPALIVE":
            return RisFrame(FrameKind.KEEPALIVE, collector=collector, timestamp=timestamp)
        return self._ignored(kind if isinstance(kind, str) else UNKNOWN_TYPE, collector, timestamp)

    def _collector(self, host: str) -> str:
        collector = self._collectors.get(host)
        if collector is None:
            collector = normalise_host(host)
            if len(self._collectors) >= _HOST_CACHE_LIMIT:
                self._collectors.clear()
            self._collectors[host] = collector
        return collector

    def _peer(self, host: str, collector: str, data: dict[str, Any]) -> Peer:
        """The peer of a message; cached by raw text only, so ``1``, ``1.0`` and ``true`` never share an entry."""
        address, asn = data.get("peer"), data.get("peer_asn")
        key = (host, address, asn) if type(host) is str and type(address) is str and type(asn) is str else None
        if key is not None:
            cached = self._peers.get(key)  # type: ignore[arg-type]
            if cached is not None:
                return cached
        if not isinstance(address, str):
            raise MalformedRisMessage("peer", f"peer address {address!r} is not text")
        try:
            peer = Peer(collector, canonical_address(address), parse_asn(asn))
        except ValueError as exc:
            raise MalformedRisMessage("peer", str(exc)) from None
        if key is not None:
            if len(self._peers) >= _PEER_CACHE_LIMIT:
                self._peers.clear()
            self._peers[key] = peer  # type: ignore[index]
        return peer

    def _update(self, data: dict[str, Any], peer: Peer, timestamp: float) -> tuple[Event, ...]:
        events: list[Event] = []
        withdrawals = data.get("withdrawals") or ()
        announcements = data.get("announcements") or ()
        if not isinstance(withdrawals, list | tuple) or not isinstance(announcements, list | tuple):
            raise MalformedRisMessage("update", "announcements and withdrawals must be lists")
        for text in withdrawals:
            prefix = self._prefix(text)
            if prefix is not None:
                events.append(RouteWithdrawal(timestamp, peer, prefix))
        if announcements:
            path = read_path(data.get("path"))
            origin = ORIGINS.get(data.get("origin"))  # type: ignore[arg-type]
            communities = self._communities(data.get("community"))
            for announcement in announcements:
                if not isinstance(announcement, dict) or not isinstance(announcement.get("prefixes"), list):
                    self.tally.malformed["update"] += 1
                    continue
                next_hop = self._next_hop(announcement.get("next_hop"))
                for text in announcement["prefixes"]:
                    prefix = self._prefix(text)
                    if prefix is not None:
                        events.append(RouteAnnouncement(timestamp, peer, prefix, path, origin=origin,
                                                        next_hop=next_hop, communities=communities))
        return tuple(events)

    def _prefix(self, text: object) -> Prefix | None:
        """One prefix; an invalid one is counted and skipped, the rest of the message stands.

        One with an IPv6 zone index (``2001:db8::%eth0/48``) is counted apart, as ``zone_index``.
        """
        prefix = self._prefixes.get(text) if isinstance(text, str) else None
        if prefix is None:
            prefix = self._new_prefix(text)
            if prefix is None:
                self.tally.malformed[ZONE_INDEX if isinstance(text, str) and "%" in text else "prefix"] += 1
        return prefix

    def _new_prefix(self, text: object) -> Prefix | None:
        """The canonical network of prefix text not yet cached, or None if it is not one."""
        if not isinstance(text, str):
            return None
        try:
            prefix = parse_prefix(text)
        except ValueError:
            return None
        if len(self._prefixes) >= _TEXT_CACHE_LIMIT:
            self._prefixes.clear()
        self._prefixes[text] = prefix
        return prefix

    def _next_hop(self, value: object) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        next_hop = self._next_hops.get(value) or self._new_next_hop(value)
        if next_hop is None:
            self.tally.malformed["next_hop"] += 1
        return next_hop

    def _new_next_hop(self, value: str) -> str | None:
        """The canonical global address of next-hop text not yet cached, or None if it is not one."""
        try:
            next_hop = canonical_address(value.split(",", 1)[0])
        except ValueError:
            return None
        if len(self._next_hops) >= _TEXT_CACHE_LIMIT:
            self._next_hops.clear()
        self._next_hops[value] = next_hop
        return next_hop

    def _communities(self, value: object) -> tuple[tuple[int, int], ...]:
        if not value:
            return ()
        try:
            pairs = tuple((unsigned(a, 0xFFFF), unsigned(b, 0xFFFF)) for a, b in value)  # type: ignore[attr-defined]
        except (TypeError, ValueError):
            self.tally.malformed["community"] += 1
            return ()
        return pairs

    # -- the fast path --------------------------------------------------------------------------------------------

    def _fast_update(self, data: dict[str, Any]) -> RisFrame | None:
        """A well-formed UPDATE in one pass, or None to have the careful path read (and count) it.

        Only exact JSON types are accepted and only cached peers (a peer's first
        message goes the careful way); nothing is counted here. May raise
        TypeError where an unhashable value stands in for text.
        """
        timestamp, latest = data.get("timestamp"), self.guard.latest
        if type(timestamp) is float:
            if not 0.0 <= timestamp <= latest:
                return None
        elif type(timestamp) is int and 0 <= timestamp <= latest:
            timestamp = float(timestamp)
        else:
            return None
        peer = self._peers.get((data.get("host"), data.get("peer"), data.get("peer_asn")))  # type: ignore[arg-type]
        if peer is None:
            return None
        events: list[Event] = []
        append = events.append
        prefixes = self._prefixes
        withdrawals = data.get("withdrawals")
        if withdrawals:
            if type(withdrawals) is not list:
                return None
            for text in withdrawals:
                prefix = prefixes.get(text) or self._new_prefix(text)
                if prefix is None:
                    return None
                append(RouteWithdrawal(timestamp, peer, prefix))
        announcements = data.get("announcements")
        if announcements:
            if type(announcements) is not list:
                return None
            path = fast_path(data.get("path"))
            communities = fast_communities(data.get("community"))
            raw_origin = data.get("origin")
            if path is None or communities is None or not (raw_origin is None or type(raw_origin) is str):
                return None
            origin = ORIGINS.get(raw_origin) if raw_origin is not None else None
            next_hops = self._next_hops
            for announcement in announcements:
                if type(announcement) is not dict:
                    return None
                texts = announcement.get("prefixes")
                if type(texts) is not list:
                    return None
                raw_next_hop = announcement.get("next_hop")
                next_hop: str | None = None
                if isinstance(raw_next_hop, str) and raw_next_hop:
                    next_hop = next_hops.get(raw_next_hop) or self._new_next_hop(raw_next_hop)
                    if next_hop is None:
                        return None
                for text in texts:
                    prefix = prefixes.get(text) or self._new_prefix(text)
                    if prefix is None:
                        return None
                    append(RouteAnnouncement(timestamp, peer, prefix, path, _UNICAST, 0, origin, next_hop,
                                             communities))
        return RisFrame(FrameKind.UPDATE, tuple(events), peer.collector, timestamp)


def parse_ris_message(obj: object, tally: RisTally | None = None) -> list[Event]:
    """The events of one decoded RIS Live message (empty for anything else); never raises.

    For a stream, keep one :class:`RisParser`: it interns peers.
    """
    return list(RisParser(tally).frame(obj).events)
