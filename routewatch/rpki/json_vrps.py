"""VRP sets from the JSON exports of relying-party software, pure bytes in, VRPs out.

One reader for the formats operators already have on disk or behind a URL:

- rpki-client ``-j`` (``json``): ``{"roas": [{"asn": 64496, "prefix", "maxLength", "ta", "expires"}]}``;
- Routinator ``json``: ``asn`` as ``"AS64496"``, ``ta``; ``jsonext``: the same plus
  ``source: [{"tal", "validity": {"notAfter"}, "chainValidity": {"notAfter"}}]``,
  where the VRP lasts until the earliest chain expiry of its sources (``ta`` and
  ``tal`` are accepted and not kept);
- StayRTR / GoRTR ``rpki.json``: ``{"roas": [...]}`` with ``asn`` as text and
  optional ``expires``.

A bad entry is counted and skipped with its first few reasons kept: one garbage
line in an export of 500,000 must not drop the other 499,999, nor pass
silently. A document that is not a VRP export at all raises
:class:`VrpJsonError`, so the source keeps its last good set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from routewatch.model import parse_asn, refuse_zone_index
from routewatch.rpki.vrp import Vrp, VrpSet, check_vrp_shape

MAX_REASONS = 5


class VrpJsonError(ValueError):
    """The document is not a VRP export (not JSON, or no ``roas`` list)."""


@dataclass(frozen=True, slots=True)
class VrpJsonLoad:
    """What a document gave: the VRPs, how many entries were skipped, and why (the first few)."""

    vrps: VrpSet
    skipped: int = 0
    reasons: tuple[str, ...] = ()


def _timestamp(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"bad expiry {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    raise ValueError(f"bad expiry {value!r}")


def _jsonext(sources: object) -> float | None:
    """The expiry of a Routinator ``jsonext`` entry: the earliest chain expiry of its sources."""
    if not isinstance(sources, list):
        raise ValueError("source is not a list")
    expiries: list[float] = []
    for source in sources:
        if not isinstance(source, Mapping):
            raise ValueError("source entry is not an object")
        for key in ("chainValidity", "validity"):
            validity = source.get(key)
            if isinstance(validity, Mapping) and validity.get("notAfter") is not None:
                expires = _timestamp(validity["notAfter"])
                if expires is not None:
                    expiries.append(expires)
                break
    return min(expiries) if expiries else None


def parse_vrp_entry(entry: object) -> Vrp:
    """One VRP from one export entry; ValueError says what is wrong with it."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"entry is not an object: {entry!r:.60}")
    prefix_text = entry.get("prefix")
    if not isinstance(prefix_text, str):
        raise ValueError(f"prefix missing or not text: {prefix_text!r:.60}")
    try:
        # Not parse_prefix: a VRP's network is packed at once, and 500,000 of them would only churn
        # the prefix cache and intern table the route table relies on.
        prefix = ipaddress.ip_network(refuse_zone_index(prefix_text.strip()), strict=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"bad prefix {prefix_text!r:.60}: {exc}") from None
    max_length = entry.get("maxLength", entry.get("max_length", prefix.prefixlen))
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise ValueError(f"maxLength is not an integer: {max_length!r:.60}")
    check_vrp_shape(prefix, max_length)
    asn = parse_asn(entry.get("asn"))
    expires = _jsonext(entry["source"]) if "source" in entry else _timestamp(entry.get("expires"))
    return Vrp(prefix, max_length, asn, expires)


def parse_vrp_json(data: bytes | str) -> VrpJsonLoad:
    """Every VRP of an export; garbage entries are counted and skipped."""
    try:
        document: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise VrpJsonError(f"not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise VrpJsonError("not a VRP export: the document is not an object")
    entries = document.get("roas", document.get("vrps"))
    if not isinstance(entries, list):
        raise VrpJsonError("not a VRP export: no \"roas\" list")
    vrps: set[int] = set()
    skipped = 0
    reasons: list[str] = []
    for position, entry in enumerate(entries):
        try:
            vrps.add(parse_vrp_entry(entry).packed)
        except (ValueError, TypeError, ipaddress.AddressValueError) as exc:
            skipped += 1
            if len(reasons) < MAX_REASONS:
                reasons.append(f"roas[{position}]: {exc}")
    return VrpJsonLoad(VrpSet.of_packed(vrps), skipped, tuple(reasons))
