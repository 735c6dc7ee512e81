"""The prefix filter a live source builds from its watch targets agrees with the core's WatchSet.relevant."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import Prefix, parse_prefix, prefix_key
from routewatch.sources.base import WatchTargets
from routewatch.sources.bgpwire.targets import TargetFilter

WATCHED = ("198.51.100.0/24", "203.0.113.0/25", "2001:db8::/32")
ADDRESS = "192.0.2.53"
CANDIDATES = ("198.51.100.0/24", "198.51.100.128/25", "198.51.0.0/16", "203.0.113.0/24", "203.0.113.0/26",
              "192.0.2.0/24", "192.0.2.53/32", "192.0.0.0/8", "0.0.0.0/0", "192.0.2.64/26", "10.0.0.0/8",
              "2001:db8:1::/48", "2001::/16", "2001:db9::/32")


def test_the_filter_keeps_what_the_core_would_track_and_nothing_else() -> None:
    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset({64500}), WithdrawalThresholds()) for p in WATCHED])
    watch.add_address(ip_address(ADDRESS))
    targets = WatchTargets(tuple(parse_prefix(p) for p in WATCHED), (ip_address(ADDRESS),))
    keep = TargetFilter()
    keep.update(targets)
    assert keep.counts == (3, 1)
    for text in CANDIDATES:
        key = prefix_key(parse_prefix(text))
        assert keep.accept(*key) == watch.relevant(*key), text
    assert not keep.accept(*prefix_key(parse_prefix("10.0.0.0/8")))


def test_watched_asns_keep_every_prefix() -> None:
    keep = TargetFilter()
    keep.update(WatchTargets(asns=(64500,)))
    assert keep.accept(*prefix_key(parse_prefix("10.0.0.0/8")))


def _prefixes(version: int) -> st.SearchStrategy[Prefix]:
    bits = 32 if version == 4 else 128
    return st.builds(lambda value, length: ip_network((value >> (bits - length) << (bits - length), length)),
                     st.integers(0, 2**bits - 1) if version == 6 else st.integers(0xC0000000, 0xC0FFFFFF),
                     st.integers(0, bits))


@settings(max_examples=200, deadline=None)
@given(st.lists(_prefixes(4), max_size=12), st.lists(_prefixes(6), max_size=3),
       st.lists(_prefixes(4), min_size=1, max_size=30))
def test_nested_and_overlapping_watched_prefixes_filter_as_the_core_does(
        watched4: list[Prefix], watched6: list[Prefix], candidates: list[Prefix]) -> None:
    watched = list(dict.fromkeys(watched4 + watched6))
    watch = WatchSet([WatchedPrefix(p, frozenset({64500}), WithdrawalThresholds()) for p in watched])
    keep = TargetFilter()
    keep.update(WatchTargets(tuple(watched)))
    for prefix in candidates + watched + [p.supernet() for p in watched if p.prefixlen]:
        key = prefix_key(prefix)
        assert keep.accept(*key) == watch.relevant(*key), (prefix, watched)
