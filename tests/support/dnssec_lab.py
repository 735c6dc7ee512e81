"""Signed zones served for real: BIND's dnssec-signzone + NSD, Knot signing itself, a Knot parent with DS.

Every case is a child of ``test.``, delegated by a Knot parent that holds the
glue and the DS records. Keys and DS records come from BIND's own tools
(``dnssec-keygen``, ``dnssec-signzone``, ``dnssec-dsfromkey``) and Knot's
signer, never from routewatch, so the judgement under test is checked
against signatures it did not make.

- ``secure.test.``: signed for 30 days, DS of its KSK.
- ``gone.test.``: the DS is of a KSK that was never published (a botched rollover).
- ``expired.test.``: signatures that ended a day ago.
- ``expiring.test.``: signatures that end in two hours.
- ``halfcopy.test.``: address a serves the signed zone, address b an unsigned copy.
- ``rollover.test.``: signed with algorithm 13; an algorithm 15 KSK is published but signs
  nothing, and the parent's DS is for that new key only (an algorithm rollover half done).
- ``nods.test.``: signed like ``secure.test.``, but the parent holds no DS (removed at the registrar).
- ``unsigned.test.``: no keys, no DS.
- ``knot.test.`` / ``knotshort.test.``: signed by Knot (its default policy; a policy with
  2-hour RRSIG lifetimes).
- ``moved.test.``: unsigned; the parent's glue for ns2 says address b, the zone says a.
- ``missing.test.``: not delegated at all (the parent answers NXDOMAIN).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

from .dns_servers import READY_DEADLINE, Knot, Nsd, Server, free_port, lab_block
from .tools import require_tool

SIGNZONE_CASES = ("secure", "gone", "expired", "expiring", "halfcopy", "rollover", "nods")
KNOT_CASES = ("knot", "knotshort")
PLAIN_CASES = ("unsigned", "moved")
DAY = 86_400
SHORT_POLICY = {"algorithm": "ecdsap256sha256", "rrsig-lifetime": "2h", "rrsig-refresh": "1h",
                "rrsig-pre-refresh": "10m", "propagation-delay": "0", "zone-max-ttl": "300", "dnskey-ttl": "300"}


@dataclass
class DnssecLab:
    """The running servers: ``parent`` (Knot, test.), ``a`` and ``b`` (NSD), ``knot`` (Knot signing)."""

    workdir: Path
    port: int
    addresses: dict[str, str]
    started: float
    servers: dict[str, Server] = field(default_factory=dict)

    def zone(self, case: str) -> str:
        return f"{case}.test."

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


def _run(argv: list[str], cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr}")
    return done.stdout


def keygen(keydir: Path, zone: str, algorithm: str = "ECDSAP256SHA256", *, ksk: bool) -> Path:
    """A new key in ``keydir``; returns the path of its ``.key`` file."""
    keydir.mkdir(parents=True, exist_ok=True)
    argv = [require_tool("dnssec-keygen"), "-q", "-K", str(keydir), "-a", algorithm, *(["-f", "KSK"] if ksk else []),
            zone]
    return keydir / (_run(argv, keydir).strip() + ".key")


def ds_records(zone: str, dnskeys: str | Path, workdir: Path) -> list[str]:
    """DS records (SHA-256), by dnssec-dsfromkey, for a key file or served DNSKEY lines (with TTLs)."""
    if isinstance(dnskeys, Path):
        argv = [str(dnskeys)]
    else:
        source = workdir / f"{zone}dnskeys"
        source.write_text(dnskeys)
        argv = ["-f", str(source), zone]
    out = _run([require_tool("dnssec-dsfromkey"), "-2", *argv], workdir)
    return [line.split(" DS ", 1)[1] for line in out.splitlines() if " DS " in line]


def child_text(zone: str, addresses: dict[str, str], *, ns2_at: str = "b") -> str:
    return (f"$ORIGIN {zone}\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
            f"@ IN NS ns1\n@ IN NS ns2\nns1 IN A {addresses['a']}\nns2 IN A {addresses[ns2_at]}\n"
            f"www IN A 192.0.2.80\n")


def signzone(workdir: Path, zone: str, text: str, keys: list[Path], window: tuple[int, int],
             published: tuple[Path, ...] = ()) -> str:
    """``text`` signed by dnssec-signzone with ``keys`` over [start, end] (epoch seconds); ``published``
    keys are in the DNSKEY RRset but sign nothing."""
    source = workdir / f"{zone}db"
    includes = "".join(f"$INCLUDE {key}\n" for key in (*keys, *published))
    source.write_text(text + includes)
    start, end = (time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) for t in window)
    signed = workdir / f"{zone}signed"
    _run([require_tool("dnssec-signzone"), "-q", "-P", "-K", str(keys[0].parent), "-o", zone, "-s", start,
          "-e", end, "-f", str(signed), str(source), *(str(k.with_suffix("")) for k in keys)], workdir)
    return signed.read_text()


def _signed_cases(workdir: Path, addresses: dict[str, str], now: float) -> tuple[dict[str, str], dict[str, str],
                                                                                  dict[str, list[str]]]:
    """Zone texts for address a and b, and the DS records the parent holds, per signzone case."""
    at_a, at_b, ds = {}, {}, {}
    for case in SIGNZONE_CASES:
        zone = f"{case}.test."
        keydir = workdir / "keys" / case
        ksk, zsk = keygen(keydir, zone, ksk=True), keygen(keydir, zone, ksk=False)
        window = {"expired": (now - 10 * DAY, now - DAY), "expiring": (now - 3600, now + 7200)}.get(
            case, (now - 3600, now + 30 * DAY))
        published: tuple[Path, ...] = ()
        ds_key = ksk
        if case == "gone":
            ds_key = keygen(workdir / "keys" / "gone-unpublished", zone, ksk=True)
        if case == "rollover":
            ds_key = keygen(workdir / "keys" / "rollover-new", zone, "ED25519", ksk=True)
            published = (ds_key,)
        text = child_text(zone, addresses)
        signed = signzone(workdir, zone, text, [ksk, zsk], (int(window[0]), int(window[1])), published)
        at_a[zone] = signed
        at_b[zone] = text if case == "halfcopy" else signed
        ds[zone] = [] if case == "nods" else ds_records(zone, ds_key, workdir)
    for case in PLAIN_CASES:
        zone = f"{case}.test."
        text = child_text(zone, addresses, ns2_at="a" if case == "moved" else "b")
        at_a[zone] = at_b[zone] = text
    return at_a, at_b, ds


def served_dnskeys(address: str, port: int, zone: str, deadline: float = READY_DEADLINE) -> str:
    """The DNSKEY RRset Knot serves once it has signed the zone (zones load one after another)."""
    deadline = time.monotonic() + deadline
    while True:
        query = dns.message.make_query(zone, dns.rdatatype.DNSKEY)
        response = dns.query.tcp(query, address, timeout=2.0, port=port)
        keys = [rrset.to_text() for rrset in response.answer if rrset.rdtype == dns.rdatatype.DNSKEY]
        if keys:
            return "\n".join(keys) + "\n"
        if time.monotonic() > deadline:
            raise RuntimeError(f"Knot serves no DNSKEY for {zone}")
        time.sleep(0.05)


def _parent_text(addresses: dict[str, str], ds: dict[str, list[str]]) -> str:
    lines = ["$ORIGIN test.", "$TTL 300", "@ IN SOA ns hostmaster 1 7200 3600 1209600 300", "@ IN NS ns",
             f"ns IN A {addresses['parent']}"]
    for case in (*SIGNZONE_CASES, *PLAIN_CASES):
        zone = f"{case}.test."
        lines += [f"{zone} IN NS ns1.{zone}", f"{zone} IN NS ns2.{zone}",
                  f"ns1.{zone} IN A {addresses['a']}", f"ns2.{zone} IN A {addresses['b']}"]
        lines += [f"{zone} IN DS {record}" for record in ds.get(zone, ())]
    for case in KNOT_CASES:
        zone = f"{case}.test."
        lines += [f"{zone} IN NS ns1.{zone}", f"ns1.{zone} IN A {addresses['knot']}"]
        lines += [f"{zone} IN DS {record}" for record in ds[zone]]
    return "\n".join(lines) + "\n"


def dnssec_lab(workdir: Path) -> DnssecLab:
    """Sign every case, start the child servers, then the parent with the DS records they call for."""
    block = lab_block()
    addresses = {"parent": block + "1", "a": block + "11", "b": block + "12", "knot": block + "13"}
    port = free_port(addresses.values())
    now = time.time()
    lab = DnssecLab(workdir, port, addresses, now)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        at_a, at_b, ds = _signed_cases(workdir, addresses, now)
        lab.servers["a"] = Nsd("a", workdir / "a", [addresses["a"]], port, zones=at_a).start()
        lab.servers["b"] = Nsd("b", workdir / "b", [addresses["b"]], port, zones=at_b).start()
        knot_zones = {f"{case}.test.": (f"$ORIGIN {case}.test.\n$TTL 300\n"
                                        "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
                                        f"@ IN NS ns1\nns1 IN A {addresses['knot']}\n") for case in KNOT_CASES}
        lab.servers["knot"] = Knot("knot", workdir / "knot", [addresses["knot"]], port, zones=knot_zones,
                                   signing={"knot.test.": "default", "knotshort.test.": "short"},
                                   policies={"short": SHORT_POLICY}).start()
        for zone in knot_zones:
            ds[zone] = ds_records(zone, served_dnskeys(addresses["knot"], port, zone), workdir)
        lab.servers["parent"] = Knot("parent", workdir / "parent", [addresses["parent"]], port,
                                     zones={"test.": _parent_text(addresses, ds)}).start()
    except BaseException:
        lab.stop()
        raise
    return lab
