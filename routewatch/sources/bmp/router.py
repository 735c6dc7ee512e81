"""What the BMP station keeps per router: a connection's decoding state, its sessions, its health.

A router repeats the per-peer header of a monitored session in every message
of it; :class:`RouterState` keeps what each header means (routewatch's peer,
and whether the configured policy reads its stream) by the decoded header and
by its raw bytes, so a message's session is one dict lookup. The pure helpers
read what a Peer Up negotiated and which family an End-of-RIB ends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from routewatch.model import Event, Peer, RouteAnnouncement, RouteWithdrawal
from routewatch.sources.bgpwire.attributes import (
    AFI_IPV4,
    AFI_IPV6,
    KNOWN_SAFIS,
    MP_UNREACH_NLRI,
    AttributeDecoder,
    scan_attributes,
)
from routewatch.sources.bgpwire.update import PrefixFilter, UpdateDecoder, is_end_of_rib
from routewatch.sources.bmp.messages import OpenCapabilities, PeerType, PerPeerHeader, identity
from routewatch.sources.health import CollectorHealth
from routewatch.sources.mrt.records import MrtStats

MAX_SESSIONS = 1 << 16
"""Per-peer headers remembered per router connection (pre- and post-policy of each peer); past it, forgotten."""

PeerKey = tuple[str, int]  # (peer address, peer AS)
Family = tuple[int, int]  # (AFI, SAFI)

DEFAULT_FORMAT = (4, False)
"""A peer's UPDATE format (AS size, ADD-PATH) before its Peer Up tells."""

_AFI = {4: AFI_IPV4, 6: AFI_IPV6}  # a prefix's IP version -> its AFI


@dataclass(frozen=True, slots=True)
class MonitoredSession:
    """A monitored session as one per-peer header names it: routewatch's peer, and whether its messages are read."""

    peer: Peer
    key: PeerKey
    routes_read: bool  # its Route Monitoring messages are the configured policy's stream
    session_read: bool  # its Peer Up and Peer Down count (Loc-RIB's pseudo-peer only under loc-rib)


class RouterState:
    """One router connection's decoding state: its peers' UPDATE formats, and which are sending their first table."""

    def __init__(self, collector: str, attributes: AttributeDecoder, accept: PrefixFilter, stats: MrtStats,
                 policy: str) -> None:
        self.collector = collector
        self.policy = policy
        self.updates = UpdateDecoder(attributes, accept, stats)
        self.formats: dict[PeerKey, tuple[int, bool]] = {}  # -> (AS size, ADD-PATH)
        self.initial_table: dict[PeerKey, set[Family]] = {}  # Peer Up seen: families whose End-of-RIB is awaited
        self.info: dict[str, str] = {}
        self.sessions: dict[PerPeerHeader, MonitoredSession] = {}
        self.by_identity: dict[bytes, MonitoredSession] = {}  # the same, keyed by the per-peer header's bytes

    def session(self, header: PerPeerHeader) -> MonitoredSession:
        """What a per-peer header means for this router's stream, kept: the router repeats it in every message."""
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.clear()
        found = self.sessions[header] = MonitoredSession(Peer(self.collector, header.address, header.asn),
                                                         (header.address, header.asn),
                                                         reads_stream(header, True, self.policy),
                                                         reads_stream(header, False, self.policy))
        return found

    def session_named(self, raw: bytes) -> MonitoredSession | None:
        """The session the per-peer header bytes ``raw`` name, kept by them too; None when decode refuses them."""
        peer = identity(raw)
        if peer is None:
            return None
        seen = self.sessions.get(peer) or self.session(peer)
        if len(self.by_identity) >= MAX_SESSIONS:
            self.by_identity.clear()
        self.by_identity[raw] = seen
        return seen


@dataclass(slots=True)
class RouterCounters:
    """One router's health across its connections, for the per-router metrics."""

    connected: bool = False
    messages: int = 0
    malformed: int = 0
    end_of_ribs: int = 0
    last_message: float | None = None
    received: float | None = None
    peers_up: set[PeerKey] = dataclasses.field(default_factory=set)  # kept while away: ended when it is back

    def health(self, collector: str) -> CollectorHealth:
        lag = None if self.last_message is None or self.received is None else max(0.0, self.received -
                                                                                  self.last_message)
        return CollectorHealth(collector, self.connected, self.last_message, lag, self.messages, self.malformed,
                               len(self.peers_up) if self.connected else 0)


def reads_stream(peer: PerPeerHeader, routes: bool, policy: str) -> bool:
    """The one stream per peer ``policy`` reads (Adj-RIB-Out never: it is what the router sends).

    Session messages (Peer Up, Peer Down) concern the peer whatever the
    policy; only Loc-RIB's own pseudo-peer is told apart.
    """
    loc_rib = policy == "loc-rib"
    if (peer.peer_type == PeerType.LOC_RIB) != loc_rib:
        return False
    if not routes or loc_rib:
        return True
    return not peer.adj_rib_out and peer.post_policy == (policy == "post-policy")


def peer_format(sent: OpenCapabilities, received: OpenCapabilities) -> tuple[int, bool]:
    """How the peer's UPDATEs read: 4-byte AS numbers when both OPENs say so; ADD-PATH when the peer sends it."""
    add_path = any(mode & 2 and sent.add_path.get(family, 0) & 1 for family, mode in received.add_path.items())
    return (4 if sent.four_byte_as and received.four_byte_as else 2), add_path


def table_families(sent: OpenCapabilities, received: OpenCapabilities) -> set[Family]:
    """The families whose End-of-RIB completes the peer's table: negotiated (both OPENs name them), and read.

    Families routewatch does not read (VPN, flowspec...) are not awaited: a
    router need not send their End-of-RIB for the prefixes watched to be whole.
    """
    return {(afi, safi) for afi, safi in sent.table_families & received.table_families
            if afi in (AFI_IPV4, AFI_IPV6) and safi in KNOWN_SAFIS}


def of_families(event: Event, families: set[Family]) -> bool:
    """Is ``event`` a route of one of ``families`` (AFI and SAFI: IPv4 unicast's table may be over, multicast's not)?"""
    return (isinstance(event, RouteAnnouncement | RouteWithdrawal)
            and (_AFI[event.prefix.version], event.safi) in families)


def end_of_rib_family(update: bytes, end: int) -> Family | None:
    """The family whose End-of-RIB the UPDATE ``update[:end]`` is (IPv4 unicast's is empty), or None."""
    if not is_end_of_rib(update, 19, end):
        return None
    if end == 23:  # no withdrawn routes, no attributes
        return AFI_IPV4, 1
    start, _ = scan_attributes(update, 23, end)[MP_UNREACH_NLRI]
    return int.from_bytes(update[start:start + 2], "big"), update[start + 2]
