"""The fast reading of RIS Live UPDATEs agrees with the careful one: same frames, same counts.

``RisParser.frame`` reads a well-formed UPDATE in one pass and leaves anything
unusual to ``RisParser.careful_frame``, the field-by-field reference. These
tests feed the same messages to a parser using each and compare everything
they return and count, on every message built from the shared MRT update
files and on randomly damaged ones.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.sources.ris_live.frame import FrameKind, RisFrame
from routewatch.sources.ris_live.parse import RisParser
from tests.support.ris_live_server import real_stream_lines
from tests.unit.test_ris_parse import json_values, update

#: Every shared update file, and the two RIBs with ADD-PATH (same prefix from one peer twice).


class CountingParser(RisParser):
    """A parser that counts the messages its fast reading handed to the careful one."""

    def __init__(self) -> None:
        super().__init__()
        self.careful = 0

    def careful_frame(self, obj: object) -> RisFrame:
        self.careful += 1
        return super().careful_frame(obj)


def assert_same(fast: RisParser, careful: RisParser, obj: object) -> RisFrame:
    """One message through both readings: equal frames with equal types throughout (repr shows them)."""
    got, want = fast.frame(obj), careful.careful_frame(obj)
    assert got == want
    assert repr(got) == repr(want)
    assert fast.tally == careful.tally
    return got


def wire(message: dict[str, Any]) -> Any:
    """The message as a client decodes it off the socket."""
    return orjson.loads(orjson.dumps(message))


def test_the_forms_the_real_feed_sends() -> None:
    fast, careful = CountingParser(), RisParser()
    variants = [
        update(host="rrc25.ripe.net", peer="2001:7f8:0:0:0:0:0:1", peer_asn="AS64500", path=[64500, 32934],
               announcements=[{"next_hop": "2001:7f8::1,fe80::1", "prefixes": ["2605:de00:bb:0:0:0:0:0/48"]}]),
        update(host="rrc25.ripe.net", peer="2001:7f8:0:0:0:0:0:1", peer_asn="AS64500", path=[64500, 32934],
               origin="egp", community=[[64500, 1], [65535, 65281]],
               announcements=[{"next_hop": "2001:7f8::1", "prefixes": ["2605:de00:bb::/48", "2001:db8::/32"]},
                              {"next_hop": "", "prefixes": ["2001:db8:1::/48"]}],
               withdrawals=["2001:db8:0:0:0:0:0:0/33"]),
        update(path=[], community=[], withdrawals=["192.0.2.0/24", " 198.51.100.0/24"]),
        update(path=[1, 2], withdrawals=["192.0.2.0/24"], announcements=[{"prefixes": ["198.51.100.0/24"]}]),
        update(timestamp=1553627988, path=[3356, 174, [64500, 64501]], origin="incomplete",
               announcements=[{"next_hop": "192.0.2.1", "prefixes": ["198.51.100.0/24"]}]),
        update(peer_asn=11708, path=[11708], announcements=[{"next_hop": None, "prefixes": ["10.0.0.0/8"]}]),
        update(path=None, origin=None, community=None, announcements=[{"next_hop": 7, "prefixes": ["10.0.0.0/8"]}]),
        update(announcements=[], withdrawals=[]),
        update(),
    ]
    for message in [json.loads(line) for line in real_stream_lines()[:-1]] + variants:
        assert_same(fast, careful, wire(message))
        assert_same(fast, careful, wire(message))  # again, with every cache warm
    assert careful.tally.malformed_total == 0
    assert fast.careful < 2 * len(variants)


def test_bad_parts_are_left_to_the_careful_reading_and_counted_the_same() -> None:
    fast, careful = RisParser(), RisParser()
    good = update(path=[1, 2], community=[[1, 2]], withdrawals=["192.0.2.0/24"],
                  announcements=[{"next_hop": "192.0.2.1", "prefixes": ["198.51.100.0/24"]}])
    bad = [
        {"withdrawals": ["10.0.0.1/8"]}, {"withdrawals": [7]}, {"withdrawals": [["10.0.0.0/8"]]},
        {"withdrawals": "192.0.2.0/24"}, {"path": [1, 2.0]}, {"path": [1, True]}, {"path": [1, 2**32]},
        {"path": "1 2"}, {"community": [[1, 2, 3]]}, {"community": [[1, True]]}, {"community": [[1, 65536]]},
        {"community": [["1", "2"]]}, {"community": ["ab"]}, {"community": 5}, {"origin": ["igp"]}, {"origin": 1},
        {"announcements": [{"next_hop": "nope", "prefixes": ["10.0.0.0/8"]}]},
        {"announcements": [{"next_hop": ["192.0.2.1"], "prefixes": ["10.0.0.0/8"]}]},
        {"announcements": [{"next_hop": "192.0.2.1", "prefixes": "10.0.0.0/8"}]},
        {"announcements": ["junk"]}, {"announcements": {"a": 1}}, {"timestamp": -1.0}, {"timestamp": 2**60},
        {"timestamp": True}, {"timestamp": float("inf")}, {"peer_asn": 1.0}, {"peer_asn": True}, {"peer": ["x"]},
        {"host": ""}, {"host": ["rrc00"]},
    ]
    assert_same(fast, careful, good)
    for change in bad:
        message = copy.deepcopy(good)
        message["data"].update(change)
        assert_same(fast, careful, message)
    assert careful.tally.malformed_total >= len(bad) - 4  # a few (odd next hop or origin types) are just dropped


seeds = [json.loads(line) for line in real_stream_lines()[:-1]] + [
    update(path=[1, 2, 3], community=[[1, 2], [3, 4]], withdrawals=["2001:db8:0:0:0:0:0:0/32"],
           announcements=[{"next_hop": "192.0.2.1,fe80::1", "prefixes": ["10.0.0.0/8", "192.0.2.0/24"]}]),
]


def _damage(obj: Any, draw: st.DrawFn) -> Any:
    """Replace one field somewhere in the message with a random JSON value."""
    if isinstance(obj, dict) and obj:
        key = draw(st.sampled_from(sorted(obj)))
        obj[key] = _damage(obj[key], draw) if draw(st.booleans()) else draw(json_values)
        return obj
    if isinstance(obj, list) and obj:
        index = draw(st.integers(0, len(obj) - 1))
        obj[index] = _damage(obj[index], draw)
        return obj
    return draw(json_values)


@st.composite
def damaged(draw: st.DrawFn) -> Any:
    message = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 3))):
        message = _damage(message, draw)
    return message


@settings(max_examples=200, deadline=None)
@given(st.lists(damaged(), min_size=1, max_size=4))
def test_damaged_messages_read_the_same_both_ways(messages: list[Any]) -> None:
    fast, careful = RisParser(), RisParser()
    for seed in seeds:  # warm caches, so that damaged messages meet the fast reading
        assert_same(fast, careful, seed)
    for message in messages:
        assert assert_same(fast, careful, message).kind in FrameKind
