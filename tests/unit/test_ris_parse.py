"""RIS Live messages into events: what the real feed sends, normalised; bad input counted, never raised."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.model import (
    BgpOrigin,
    FsmState,
    Peer,
    PeerStateChange,
    RouteAnnouncement,
    RouteWithdrawal,
    parse_prefix,
)
from routewatch.sources.ris_live.frame import FrameKind, RisTally, normalise_host
from routewatch.sources.ris_live.parse import RisParser, parse_ris_message
from tests.support.ris_live_server import real_stream_lines


def update(**data: Any) -> dict[str, Any]:
    base = {"timestamp": 1553627987.89, "peer": "72.22.223.9", "peer_asn": "11708", "id": "x", "host": "rrc00",
            "type": "UPDATE"}
    return {"type": "ris_message", "data": base | data}


def test_the_real_sample_update() -> None:
    events = parse_ris_message(json.loads(real_stream_lines()[0]))
    assert events == [RouteAnnouncement(
        1553627987.89, Peer("rrc00", "72.22.223.9", 11708), parse_prefix("45.161.192.0/23"),
        (11708, 32097, 1299, 52320, 263009, 263009, 263009, 263009, 263009, 52993, 268481, 268481),
        origin=BgpOrigin.IGP, next_hop="72.22.223.9")]


def test_every_line_of_the_real_sample() -> None:
    parser = RisParser()
    kinds = [parser.decode(line).kind for line in real_stream_lines()]
    assert kinds == [FrameKind.UPDATE, FrameKind.PEER_STATE, FrameKind.ERROR, FrameKind.IGNORED, FrameKind.IGNORED,
                     FrameKind.KEEPALIVE, FrameKind.MALFORMED]
    assert parser.tally == RisTally(malformed={"json": 1}, ignored={"OPEN": 1, "NOTIFICATION": 1}, errors=1)


def test_peer_state_down_and_connected() -> None:
    down = parse_ris_message(json.loads(real_stream_lines()[1]))
    peer = Peer("rrc01", "195.66.224.59", 24931)
    assert down == [PeerStateChange(1553625081.88, peer, FsmState.ESTABLISHED, FsmState.IDLE)]
    message = json.loads(real_stream_lines()[1])
    message["data"]["state"] = "connected"
    (up,) = parse_ris_message(message)
    assert isinstance(up, PeerStateChange) and up.established


def test_host_forms_ipv6_uncompressed_peer_asn_string_and_joined_next_hop() -> None:
    events = parse_ris_message(update(
        host="rrc25.ripe.net", peer="2001:7f8:0:0:0:0:0:1", peer_asn="AS64500", path=[64500, 32934],
        announcements=[{"next_hop": "2001:7f8::1,fe80::1", "prefixes": ["2605:de00:bb:0:0:0:0:0/48"]}]))
    assert events == [RouteAnnouncement(1553627987.89, Peer("rrc25", "2001:7f8::1", 64500),
                                         parse_prefix("2605:de00:bb::/48"), (64500, 32934), next_hop="2001:7f8::1")]
    assert normalise_host("RRC21") == "rrc21"


def test_withdrawal_only_update_with_empty_path_and_mixed_update_order() -> None:
    events = parse_ris_message(update(path=[], community=[], withdrawals=["192.0.2.0/24", "2001:db8:0:0:0:0:0:0/32"]))
    assert [type(e) for e in events] == [RouteWithdrawal, RouteWithdrawal]
    assert [str(e.prefix) for e in events] == ["192.0.2.0/24", "2001:db8::/32"]
    mixed = parse_ris_message(update(path=[1, 2], withdrawals=["192.0.2.0/24"],
                                     announcements=[{"next_hop": "192.0.2.1", "prefixes": ["198.51.100.0/24"]}]))
    assert [type(e) for e in mixed] == [RouteWithdrawal, RouteAnnouncement]  # BGP: withdrawn routes first


def test_as_set_communities_and_origin() -> None:
    (event,) = parse_ris_message(update(
        path=[3356, 174, [64500, 64501]], origin="incomplete", community=[[3356, 2], [65535, 65281]],
        announcements=[{"next_hop": "192.0.2.1", "prefixes": ["198.51.100.0/24"]}]))
    assert isinstance(event, RouteAnnouncement)
    assert event.as_path == (3356, 174, frozenset({64500, 64501}))
    assert event.origin_asns == frozenset({64500, 64501})
    assert event.origin is BgpOrigin.INCOMPLETE
    assert event.communities == ((3356, 2), (65535, 65281))


def test_partly_bad_update_keeps_what_is_good() -> None:
    tally = RisTally()
    events = parse_ris_message(update(
        path=[1, 2], community=[[1, "x"]],
        announcements=[{"next_hop": "not-an-address", "prefixes": ["10.0.0.1/8", 7, "10.0.0.0/8"]}, "junk"]), tally)
    assert [str(e.prefix) for e in events] == ["10.0.0.0/8"]
    assert tally.malformed == {"prefix": 2, "community": 1, "next_hop": 1, "update": 1}


def test_unreadable_messages_are_counted_by_reason() -> None:
    parser = RisParser()
    bad: list[object] = [
        None, [], "text", {"type": None}, {"type": "ris_message"},
        update(timestamp="soon"), update(timestamp=True), update(timestamp=float("nan")), update(host=""),
        update(peer=None), update(peer="300.1.1.1"), update(peer_asn="-1"), update(peer_asn=2**32),
        update(path=[1, "2"], announcements=[{"next_hop": "192.0.2.1", "prefixes": ["10.0.0.0/8"]}]),
        update(path=[1, []], announcements=[{"next_hop": "192.0.2.1", "prefixes": ["10.0.0.0/8"]}]),
        update(type="RIS_PEER_STATE", state="flapping"), update(announcements={"a": 1}),
    ]
    frames = [parser.frame(obj) for obj in bad]
    assert {f.kind for f in frames} == {FrameKind.MALFORMED}
    assert all(f.events == () for f in frames)
    assert parser.tally.malformed == {"envelope": 5, "timestamp": 3, "host": 1, "peer": 4, "path": 2, "state": 1,
                                      "update": 1}
    assert parser.tally.malformed_total == len(bad)
    assert parser.decode(b"\xff").kind is FrameKind.MALFORMED
    assert parser.tally.malformed["json"] == 1


def test_unknown_and_ignored_type_names_never_come_from_the_wire() -> None:
    parser = RisParser()
    for kind in ("OPEN", "NOTIFICATION", "ris_rrc_list", "x" * 1000, "ANOTHER"):
        parser.frame({"type": "ris_message", "data": {"type": kind, "host": "rrc00", "timestamp": 1.0}})
    parser.frame({"type": "ris_rrc_list", "data": []})
    parser.frame({"type": "something_new"})
    assert parser.tally.ignored == {"OPEN": 1, "NOTIFICATION": 1, "ris_rrc_list": 2, "unknown": 3}


def test_subscribe_ok_and_pong() -> None:
    parser = RisParser()
    ok = parser.frame({"type": "ris_subscribe_ok", "data": {"subscription": {"prefix": "192.0.2.0/24"},
                                                             "socketOptions": {"acknowledge": True}}})
    assert ok.kind is FrameKind.SUBSCRIBE_OK and ok.subscription == {"prefix": "192.0.2.0/24"}
    assert parser.frame({"type": "pong", "data": None}).kind is FrameKind.PONG


# -- property: nothing escapes ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=30,
)
FIELDS = ["type", "data", "timestamp", "peer", "peer_asn", "host", "path", "origin", "community", "announcements",
          "withdrawals", "next_hop", "prefixes", "state"]


def _mutate(obj: Any, draw: st.DrawFn) -> Any:
    """Replace one field somewhere in a real message with something random."""
    if isinstance(obj, dict) and obj:
        key = draw(st.sampled_from(sorted(obj)))
        if draw(st.booleans()):
            obj[key] = _mutate(obj[key], draw)
        else:
            obj[key] = draw(json_values)
    elif isinstance(obj, list) and obj:
        index = draw(st.integers(0, len(obj) - 1))
        obj[index] = _mutate(obj[index], draw)
    else:
        return draw(json_values)
    return obj


@st.composite
def mutated_messages(draw: st.DrawFn) -> Any:
    seeds = [json.loads(line) for line in real_stream_lines()[:-1]]
    seeds.append(update(path=[1, [2, 3]], community=[[1, 2]], withdrawals=["2001:db8:0:0:0:0:0:0/32"],
                        announcements=[{"next_hop": "192.0.2.1,fe80::1", "prefixes": ["10.0.0.0/8"]}]))
    message = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        message = _mutate(message, draw)
    return message


@settings(max_examples=250, deadline=None)
@given(st.one_of(json_values, mutated_messages(), st.fixed_dictionaries({k: json_values for k in FIELDS[:2]})))
def test_no_exception_escapes_the_parser(obj: Any) -> None:
    parser = RisParser()
    frame = parser.frame(obj)
    assert frame.kind in FrameKind
    for event in frame.events:
        assert event.peer.collector and event.time >= 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_no_exception_escapes_for_raw_text(raw: str | bytes) -> None:
    assert RisParser().decode(raw).kind in FrameKind
