"""The RIS Live parser against messages built from ``bgpdump -m`` lines of the shared MRT files."""

from __future__ import annotations

import pytest

from routewatch.sources.ris_live.parse import RisParser
from tests.support.bgpdump import bgpdump_lines
from tests.support.ris_live_server import mrt_path, ris_messages_from_bgpdump
from tests.support.tools import MRT_DIR, require_data, require_tool
from tests.unit.test_ris_parse_fast import CountingParser, assert_same, wire

#: Every shared update file, and the two RIBs with ADD-PATH (same prefix from one peer twice).
MRT_FILES = sorted(p.name for p in MRT_DIR.iterdir() if "updates" in p.name or "add_path" in p.name)


@pytest.mark.parametrize("name", MRT_FILES)
def test_every_message_built_from_the_mrt_files(name: str) -> None:
    require_tool("bgpdump")
    messages = ris_messages_from_bgpdump(bgpdump_lines(require_data(mrt_path(name))), "rrc00")
    fast, careful = CountingParser(), RisParser()
    events = 0
    for message in messages:
        events += len(assert_same(fast, careful, wire(message)).events)
    assert events > 0 and careful.tally.malformed_total == 0
    updates = sum(1 for m in messages if m["data"]["type"] == "UPDATE")
    peers = len({(m["data"]["peer"], m["data"]["peer_asn"]) for m in messages})
    as_sets = sum(1 for m in messages if any(isinstance(hop, list) for hop in m["data"].get("path", [])))
    # Only a peer's first message, an AS_SET path, a new next hop's bad text or a peer-state message goes the
    # careful way: the fast reading carries the stream.
    assert fast.careful <= (len(messages) - updates) + peers + as_sets
    if updates > 100:
        assert fast.careful < updates / 2
