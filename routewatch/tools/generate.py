"""Build a routewatch config from what ASes announce (like BGPalerter's ``generate``).

Pure: the caller finds the prefixes (RIPEstat or an MRT RIB) and the zones'
nameserver addresses; this module decides what goes in, merges into an existing
config without duplicating anything, and renders YAML that ``parse_config``
accepts (the caller checks that before writing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from routewatch.model import Address, Prefix, parse_prefix


@dataclass(frozen=True, slots=True)
class Merged:
    """The document to write and what changed in it."""

    document: dict[str, Any]
    added_prefixes: tuple[Prefix, ...]
    kept_prefixes: tuple[Prefix, ...]  # already in the existing config: left as they were
    added_zones: tuple[str, ...]


def is_excluded(prefix: Prefix, excludes: Iterable[Prefix]) -> bool:
    """``--exclude`` takes a prefix and everything inside it out."""
    return any(prefix.version == e.version and prefix.subnet_of(e) for e in excludes)  # type: ignore[arg-type]


def select(found: Mapping[Prefix, frozenset[int]], excludes: Sequence[Prefix]) -> dict[Prefix, frozenset[int]]:
    """The found prefixes minus the excluded ones, IPv4 first, in address order."""
    kept = {p: asns for p, asns in found.items() if asns and not is_excluded(p, excludes)}
    return dict(sorted(kept.items(), key=lambda item: (item[0].version, item[0])))


def prefix_entry(prefix: Prefix, asns: frozenset[int], ignore_more_specifics: bool, group: str) -> dict[str, Any]:
    origins = sorted(asns)
    entry: dict[str, Any] = {
        "prefix": str(prefix),
        "asn": origins[0] if len(origins) == 1 else origins,
        "description": "originated by " + ", ".join(f"AS{a}" for a in origins),
    }
    if group != "default":
        entry["group"] = group
    if ignore_more_specifics:
        entry["ignore_more_specifics"] = True
    return entry


def zones_served(nameservers: Mapping[str, Iterable[Address]], prefixes: Iterable[Prefix]) -> list[str]:
    """The zones with at least one nameserver address inside one of ``prefixes``."""
    networks = list(prefixes)
    return sorted(
        zone for zone, addresses in nameservers.items()
        if any(a.version == p.version and a in p for a in addresses for p in networks)
    )


def _zone_key(name: object) -> str:
    return str(name).strip().lower().rstrip(".") + "."


def _prefix_key(entry: object) -> Prefix | None:
    if not isinstance(entry, Mapping):
        return None
    try:
        return parse_prefix(str(entry.get("prefix")))
    except ValueError:
        return None


def merge(
    existing: Mapping[str, Any] | None,
    selected: Mapping[Prefix, frozenset[int]],
    zones: Sequence[str] = (),
    *,
    ignore_more_specifics: bool = False,
    group: str = "default",
) -> Merged:
    """Add the selected prefixes and zones to ``existing`` (or to an empty config).

    A prefix the config already lists is left exactly as the operator wrote it
    (their origins, thresholds and description win); comparison is on the
    canonical network, so ``2001:db8:0::/32`` and ``2001:db8::/32`` are one.
    """
    document: dict[str, Any] = dict(existing or {})
    prefixes = list(document.get("prefixes") or [])
    have = {key for key in map(_prefix_key, prefixes) if key is not None}
    added: list[Prefix] = []
    kept: list[Prefix] = []
    for prefix, asns in selected.items():
        if prefix in have:
            kept.append(prefix)
            continue
        prefixes.append(prefix_entry(prefix, asns, ignore_more_specifics, group))
        added.append(prefix)
    document["prefixes"] = prefixes
    zone_entries = list(document.get("zones") or [])
    have_zones = {_zone_key(z.get("zone")) for z in zone_entries if isinstance(z, Mapping)}
    added_zones = [z for z in dict.fromkeys(zones) if _zone_key(z) not in have_zones]
    zone_entries.extend({"zone": z, "description": "its nameservers sit in the prefixes above"} for z in added_zones)
    if zone_entries:
        document["zones"] = zone_entries
    return Merged(document, tuple(added), tuple(kept), tuple(added_zones))


def render(document: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """YAML with the sections in the order an operator reads them, after a comment header."""
    order = ["prefixes", "asns", "zones"]
    ordered = {k: document[k] for k in order if k in document} | {k: v for k, v in document.items() if k not in order}
    text = yaml.safe_dump(ordered, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return "".join(f"# {line}\n" if line else "#\n" for line in header) + text
