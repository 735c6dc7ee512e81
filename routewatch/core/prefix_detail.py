"""One watched prefix seen per collector, and the origins its peers announce: what a snapshot does not keep.

A snapshot keeps per prefix only what the metrics export. Someone asking
about one prefix (the JSON API) also wants to know which collectors still
see it and which origins its peers announce for it; that is read from the
route table and the visibility tracker on demand, for that one prefix, by
whoever owns the engine. Bounded: at most ``max_collectors`` collectors and
``max_origins`` origins, the rest counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from routewatch.core.engine import Engine
from routewatch.model import Prefix, origin_asns


@dataclass(frozen=True, slots=True)
class CollectorVisibility:
    """A collector's share of a prefix: its visible peers, its baseline peers, and whether it is stale."""

    collector: str
    visible_peers: int
    baseline_peers: int
    stale: bool


@dataclass(frozen=True, slots=True)
class OriginSeen:
    """An origin AS some peers announce for the exact prefix (an AS_SET counts each member)."""

    asn: int
    peers: int
    expected: bool


@dataclass(frozen=True, slots=True)
class PrefixDetail:
    """Per-collector visibility and the origins seen for one watched prefix at data time ``time``."""

    time: float
    collectors: tuple[CollectorVisibility, ...]
    collectors_total: int
    origins: tuple[OriginSeen, ...]
    origins_total: int


def prefix_detail(engine: Engine, prefix: Prefix, *, max_collectors: int = 64,
                  max_origins: int = 20) -> PrefixDetail | None:
    """The detail of ``prefix`` (None when it is not watched); reads the engine, changes nothing it exports."""
    tracker = engine.visibility.get(prefix)
    if tracker is None:
        return None
    peers = engine.table.peers
    _, members = tracker.observed(engine.now, engine.exclusion)
    visible: Counter[str] = Counter(peers[p].collector for p in tracker.holders if not engine.stale(p, tracker.watched))
    baseline: Counter[str] = Counter(peers[p].collector for p in members)
    stale = engine.sessions.stale_collectors
    names = sorted(set(visible) | set(baseline), key=lambda c: (-baseline[c], -visible[c], c))
    collectors = tuple(CollectorVisibility(c, visible[c], baseline[c], c in stale) for c in names[:max_collectors])
    by_origin: Counter[int] = Counter()
    for paths in engine.table.unicast_paths_by_peer(prefix).values():
        by_origin.update({asn for path in paths for asn in origin_asns(path)})
    ranked = sorted(by_origin.items(), key=lambda item: (-item[1], item[0]))
    expected = tracker.watched.origins
    origins = tuple(OriginSeen(asn, count, asn in expected) for asn, count in ranked[:max_origins])
    return PrefixDetail(engine.now, collectors, len(names), origins, len(ranked))
