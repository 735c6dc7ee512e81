"""``bgpdump -m`` text: its one-line shapes parsed, without running the program.

Kept apart from the module that runs bgpdump, so test servers and unit tests can
read bgpdump lines without starting a process.

``bgpdump -m`` line shapes (``-l`` adds large communities after communities)::

    BGP4MP|time|A|peer|asn|prefix|path|origin|next hop|local pref|med|communities|AG|aggregator|
    BGP4MP|time|W|peer|asn|prefix
    BGP4MP_AP|time|W|peer|asn|prefix|path id     (ADD-PATH: A and B lines likewise)
    BGP4MP|time|STATE|peer|asn|old state|new state
    TABLE_DUMP|time|B|peer|asn|prefix|path|origin|...       (also TABLE_DUMP2)
    TABLE_DUMP2_AP|time|B|peer|asn|prefix|path id|path|origin|...

BGP4MP_ET lines print the time with microseconds (``1726353018.908490``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: bgpdump's spelling of the well-known communities (RFC 1997).
WELL_KNOWN_COMMUNITIES = {
    "no-export": (0xFFFF, 0xFF01),
    "no-advertise": (0xFFFF, 0xFF02),
    "local-AS": (0xFFFF, 0xFF03),
}
#: What bgpdump prints when a route has no next hop (INADDR_NONE).
NO_NEXT_HOP = "255.255.255.255"


@dataclass(frozen=True, slots=True)
class BgpdumpLine:
    """One parsed ``bgpdump -m`` line; route fields are empty for W and STATE."""

    record: str  # BGP4MP, BGP4MP_ET, BGP4MP_AP, TABLE_DUMP, TABLE_DUMP2, TABLE_DUMP2_AP
    time_text: str
    kind: str  # A, B, W or STATE
    peer_address: str
    peer_asn: int
    prefix: str = ""
    path_id: int = 0
    as_path: str = ""
    origin: str = ""
    next_hop: str = ""
    communities: str = ""
    large_communities: str = ""
    old_state: int = 0
    new_state: int = 0

    @property
    def time(self) -> float:
        return float(self.time_text)

    @property
    def is_announcement(self) -> bool:
        return self.kind in ("A", "B")

    def community_pairs(self) -> tuple[tuple[int, int], ...]:
        """The communities as (asn, value) pairs, well-known names translated."""
        pairs = []
        for token in self.communities.split():
            if token in WELL_KNOWN_COMMUNITIES:
                pairs.append(WELL_KNOWN_COMMUNITIES[token])
            else:
                asn, value = token.split(":")
                pairs.append((int(asn), int(value)))
        return tuple(pairs)

    def large_community_triples(self) -> tuple[tuple[int, int, int], ...]:
        return tuple((int(a), int(b), int(c)) for a, b, c in (t.split(":") for t in self.large_communities.split()))

    def as_path_hops(self) -> list[str | frozenset[str]]:
        """The path as tokens, with ``{a,b}`` sets as frozensets (bgpdump's set order is the wire's)."""
        hops: list[str | frozenset[str]] = []
        for token in self.as_path.split():
            if token.startswith("{"):
                hops.append(frozenset(token.strip("{}").split(",")))
            else:
                hops.append(token)
        return hops


def parse_line(line: str, *, large_communities: bool = False) -> BgpdumpLine:
    """Parse one ``bgpdump -m`` (or ``-m -l`` with ``large_communities``) line."""
    f = line.rstrip("\n").split("|")
    record, time_text, kind, peer, asn = f[0], f[1], f[2], f[3], int(f[4])
    if kind == "STATE":
        return BgpdumpLine(record, time_text, kind, peer, asn, old_state=int(f[5]), new_state=int(f[6]))
    add_path = record.endswith("_AP")
    if kind == "W":
        return BgpdumpLine(record, time_text, kind, peer, asn, prefix=f[5], path_id=int(f[6]) if add_path else 0)
    path_id = 0
    rest = f[6:]
    if add_path:
        path_id = int(rest[0])
        rest = rest[1:]
    return BgpdumpLine(
        record,
        time_text,
        kind,
        peer,
        asn,
        prefix=f[5],
        path_id=path_id,
        as_path=rest[0],
        origin=rest[1],
        next_hop=rest[2],
        communities=rest[5],
        large_communities=rest[6] if large_communities else "",
    )
