"""Which shard watches what: rendezvous (highest-random-weight) hashing over prefixes, ASNs and zones.

Every item goes to the shard whose hash of (shard, item) is highest, so going
from N to N+1 shards moves only the items the new shard wins (about 1/(N+1) of
them) and no shard has to know the others. The hash is BLAKE2b, not Python's
``hash()``: every process, on every machine, must agree.

A prefix is keyed by its text, an AS by ``AS<n>`` (the prefixes discovered for
it follow it), a zone by its name; a zone's nameserver prefixes are watched by
the zone's shard, so the DNS<->BGP join stays inside one process.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping


def owner(key: str, shards: int) -> int:
    """The shard (0..shards-1) that watches ``key``."""
    if shards <= 1:
        return 0
    return max(range(shards), key=lambda shard: _weight(shard, key))


def _weight(shard: int, key: str) -> bytes:
    return hashlib.blake2b(f"{shard}\x00{key}".encode(), digest_size=8).digest()


def prefix_key(prefix: object) -> str:
    return f"prefix:{prefix}"


def asn_key(asn: int) -> str:
    return f"asn:AS{asn}"


def zone_key(zone: str) -> str:
    return f"zone:{zone.lower().rstrip('.')}."


_ORDINAL = re.compile(r"-(\d+)$")


def shard_from_environment(environ: Mapping[str, str], hostname: str) -> int | None:
    """``ROUTEWATCH_SHARD``, else a StatefulSet pod's ordinal (``routewatch-2`` -> 2), else None."""
    value = environ.get("ROUTEWATCH_SHARD", "").strip()
    if value:
        if not value.isdigit():
            raise ValueError(f"ROUTEWATCH_SHARD={value!r} is not a shard number")
        return int(value)
    found = _ORDINAL.search(hostname.split(".", 1)[0])
    return int(found.group(1)) if found else None
