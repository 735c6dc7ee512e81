"""Generate large synthetic MRT files for benchmarks (not tests).

    python bench/synth_mrt.py [--out bench/out] [--seed 1]

writes, gzip-compressed:

- ``updates.synthetic.gz``: BGP4MP_MESSAGE_AS4 UPDATEs from 80 peers (60 IPv4
  sessions announcing NLRI, 20 IPv6 sessions using MP_REACH/MP_UNREACH), about
  1.2M elements, ~10% of them withdrawals, AS paths of 2-9 hops, 0-6 communities;
- ``rib.synthetic.gz``: a TABLE_DUMP_V2 full table, PEER_INDEX_TABLE then
  800,000 IPv4 and 60,000 IPv6 prefixes, each carried by 2-4 of 24 peers;
- ``synthetic.json``: the element counts the generator wrote, which the
  benchmark checks against bgpdump and routewatch.

The data is random but shaped like a collector's: sorted RIB, realistic prefix
lengths, transit ASNs shared between paths so that AS paths repeat.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import struct
import time
from pathlib import Path

UPDATE_ELEMENTS = 1_200_000
RIB_V4 = 800_000
RIB_V6 = 60_000
T0 = 1_700_000_000

ORIGIN_IGP = bytes([0x40, 1, 1, 0])


def attr(code: int, value: bytes, flags: int = 0x40) -> bytes:
    if len(value) > 255:
        return struct.pack(">BBH", flags | 0x10, code, len(value)) + value
    return struct.pack(">BBB", flags, code, len(value)) + value


def as_path(path: list[int]) -> bytes:
    return attr(2, struct.pack(f">BB{len(path)}I", 2, len(path), *path))


def communities(values: list[tuple[int, int]]) -> bytes:
    if not values:
        return b""
    return attr(8, b"".join(struct.pack(">HH", a, v) for a, v in values), 0xC0)


def nlri(net: int, plen: int, bits: int) -> bytes:
    nbytes = (plen + 7) // 8
    return bytes([plen]) + (net >> (bits - 8 * nbytes)).to_bytes(nbytes, "big")


def mrt(ts: int, mrt_type: int, subtype: int, body: bytes) -> bytes:
    return struct.pack(">IHHI", ts, mrt_type, subtype, len(body)) + body


class World:
    """Prefixes, ASNs and paths shared by both files."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.transit = [rng.randrange(1, 65000) for _ in range(400)] + [
            rng.randrange(131072, 400000) for _ in range(200)
        ]
        self.origins = [rng.randrange(1, 400000) for _ in range(30000)]
        self.v4 = self._prefixes(RIB_V4, 32, (24,) * 12 + (23, 22, 22, 21, 20, 19, 18, 17, 16))
        self.v6 = self._prefixes(RIB_V6, 128, (48,) * 6 + (32, 36, 40, 44, 29))

    def _prefixes(self, count: int, bits: int, lengths: tuple[int, ...]) -> list[tuple[int, int]]:
        rng = self.rng
        seen: set[tuple[int, int]] = set()
        while len(seen) < count:
            plen = rng.choice(lengths)
            if bits == 32:
                net = rng.randrange(1 << 24, 224 << 24)
            else:
                net = (0x2000 << 112) | rng.getrandbits(125 - 16) << 16
            net &= ~((1 << (bits - plen)) - 1) & ((1 << bits) - 1)
            seen.add((net, plen))
        return sorted(seen)

    def path(self, first: int, origin: int) -> list[int]:
        rng = self.rng
        hops = [first] + rng.sample(self.transit, rng.randrange(1, 6)) + [origin]
        if rng.random() < 0.15:
            hops += [origin] * rng.randrange(1, 4)  # prepending
        return hops

    def communities(self, asn: int) -> list[tuple[int, int]]:
        rng = self.rng
        return [(asn & 0xFFFF, rng.randrange(0, 65536)) for _ in range(rng.choice((0, 0, 1, 2, 3, 4, 6)))]


def write_updates(world: World, path: Path) -> dict[str, int]:
    rng = world.rng
    peers = [(rng.randrange(1000, 400000), 4, bytes([192, 0, 2, i + 1])) for i in range(60)]
    peers += [
        (rng.randrange(1000, 400000), 6, bytes.fromhex("20010db8" + "0" * 20) + bytes([0, i + 1])) for i in range(20)
    ]
    counts = {"announcements": 0, "withdrawals": 0, "records": 0}
    chunk: list[bytes] = []
    ts = T0
    with gzip.open(path, "wb", compresslevel=1) as out:
        while counts["announcements"] + counts["withdrawals"] < UPDATE_ELEMENTS:
            peer_asn, version, peer_ip = rng.choice(peers)
            ts += rng.random() < 0.01
            pool, bits = (world.v4, 32) if version == 4 else (world.v6, 128)
            start = rng.randrange(len(pool) - 10)
            prefixes = pool[start : start + rng.choice((1, 1, 1, 2, 3, 4, 6, 10))]
            encoded = b"".join(nlri(net, plen, bits) for net, plen in prefixes)
            withdraw = rng.random() < 0.1
            if withdraw:
                counts["withdrawals"] += len(prefixes)
                if version == 4:
                    body = struct.pack(">H", len(encoded)) + encoded + struct.pack(">H", 0)
                else:
                    attrs = attr(15, struct.pack(">HB", 2, 1) + encoded, 0x80)
                    body = struct.pack(">HH", 0, len(attrs)) + attrs
            else:
                counts["announcements"] += len(prefixes)
                attrs = ORIGIN_IGP + as_path(world.path(peer_asn, rng.choice(world.origins)))
                attrs += communities(world.communities(peer_asn))
                if version == 4:
                    attrs += attr(3, peer_ip)
                    body = struct.pack(">HH", 0, len(attrs)) + attrs + encoded
                else:
                    attrs += attr(14, struct.pack(">HBB", 2, 1, 16) + peer_ip + b"\x00" + encoded, 0x80)
                    body = struct.pack(">HH", 0, len(attrs)) + attrs
            message = b"\xff" * 16 + struct.pack(">HB", 19 + len(body), 2) + body
            afi = 1 if version == 4 else 2
            local_ip = bytes(len(peer_ip))
            header = struct.pack(">IIHH", peer_asn, 12654, 0, afi) + peer_ip + local_ip
            chunk.append(mrt(ts, 16, 4, header + message))
            counts["records"] += 1
            if len(chunk) >= 20000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    counts["elements"] = counts["announcements"] + counts["withdrawals"]
    return counts


def write_rib(world: World, path: Path) -> dict[str, int]:
    rng = world.rng
    peers = [(rng.randrange(1000, 400000), bytes([198, 51, 100, i + 1])) for i in range(24)]
    table = struct.pack(">IH", 0xC0000201, 0) + struct.pack(">H", len(peers))
    table += b"".join(struct.pack(">BI", 2, 0) + ip + struct.pack(">I", asn) for asn, ip in peers)
    counts = {"prefixes": 0, "entries": 0, "records": 1}
    chunk = [mrt(T0, 13, 1, table)]
    seq = 0
    with gzip.open(path, "wb", compresslevel=1) as out:
        for pool, bits, subtype in ((world.v4, 32, 2), (world.v6, 128, 4)):
            for net, plen in pool:
                origin = rng.choice(world.origins)
                chosen = rng.sample(range(len(peers)), rng.randrange(2, 5))
                entries = []
                for index in chosen:
                    peer_asn, peer_ip = peers[index]
                    attrs = (
                        ORIGIN_IGP + as_path(world.path(peer_asn, origin)) + communities(world.communities(peer_asn))
                    )
                    if bits == 32:
                        attrs += attr(3, peer_ip)
                    else:
                        attrs += attr(14, bytes([16]) + bytes.fromhex("20010db8" + "0" * 22) + bytes([index + 1]), 0x80)
                    entries.append(struct.pack(">HIH", index, T0 - 3600, len(attrs)) + attrs)
                body = (
                    struct.pack(">I", seq) + nlri(net, plen, bits) + struct.pack(">H", len(entries)) + b"".join(entries)
                )
                chunk.append(mrt(T0, 13, subtype, body))
                seq += 1
                counts["prefixes"] += 1
                counts["entries"] += len(entries)
                counts["records"] += 1
                if len(chunk) >= 20000:
                    out.write(b"".join(chunk))
                    chunk.clear()
        out.write(b"".join(chunk))
    counts["elements"] = counts["entries"]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    world = World(random.Random(args.seed))
    manifest = {
        "updates.synthetic.gz": write_updates(world, args.out / "updates.synthetic.gz"),
        "rib.synthetic.gz": write_rib(world, args.out / "rib.synthetic.gz"),
    }
    (args.out / "synthetic.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))
    print(f"generated in {time.perf_counter() - started:.0f} s into {args.out}")


if __name__ == "__main__":
    main()
