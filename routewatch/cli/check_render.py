"""Text tables and JSON for the ``check`` reports.

The text is for a person at a terminal (aligned columns, the verdict first);
the JSON carries the same facts for scripts, with prefixes as strings and
per-collector counts as objects.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from routewatch.tools.reports import AsnReport, OriginView, PrefixReport, PrefixView


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, networks and tuples as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if "by_collector" in out:
            out["by_collector"] = dict(out["by_collector"])
        for name in ("verdict", "exit_code"):
            if hasattr(value, name) and name not in out:
                out[name] = jsonable(getattr(value, name))
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def to_json(report: PrefixReport | AsnReport) -> str:
    return orjson.dumps(jsonable(report), option=orjson.OPT_INDENT_2).decode()


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, numbers right-aligned, two spaces apart."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if c.isdigit() else c.ljust(w) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(parts).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def when(moment: float | None) -> str:
    if moment is None:
        return "unknown"
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _origin(view: OriginView) -> str:
    if view.as_set:
        return "{" + ",".join(map(str, view.origins)) + "}"
    return ",".join(f"AS{asn}" for asn in view.origins) or "(none)"


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def _expected(view: OriginView) -> str:
    return "-" if view.expected is None else "yes" if view.expected else "NO"


def _rows(views: Sequence[PrefixView]) -> list[list[str]]:
    rows = []
    for view in views:
        collectors = " ".join(f"{name}:{count}" for name, count in view.by_collector)
        origins = view.origins or (OriginView((), False, None, 0, 0),)
        for index, origin in enumerate(origins):
            rows.append([
                str(view.prefix) if index == 0 else "",
                _origin(origin) if view.origins else "(no route)",
                _expected(origin),
                origin.rpki.value if view.origins else "",
                _count(origin.peers),
                _count(origin.peer_asns),
                collectors if index == 0 else "",
                origin.sample_paths[0] if origin.sample_paths else "",
            ])
    return rows


def prefix_text(report: PrefixReport) -> list[str]:
    expected = ", ".join(f"AS{a}" for a in report.expected_origins) or "none given (every origin counts)"
    ratio = f"{report.ratio:.2f}" if report.ratio is not None else "n/a"
    asns = f" from {report.visible_peer_asns} peer ASNs" if report.visible_peer_asns is not None else ""
    lines = [
        f"{report.prefix}: {report.verdict.value.upper()}",
        *(["  not seen in these files (no RIB given): update files hold only changes, so a stable prefix "
           "is absent from them too"] if report.verdict.value == "not-seen" else []),
        f"  source: {report.source}, data time {when(report.time)}",
        f"  expected origin: {expected}",
        f"  rpki: {report.rpki_basis}",
        f"  visible peers: {report.visible_peers}{asns}",
        f"  visibility: {ratio} ({report.ratio_basis}); withdrawn below {report.withdrawn_ratio:.2f}, "
        f"degraded below {report.min_visibility:.2f}",
        "",
    ]
    views = ([report.exact] if report.exact else []) + list(report.more_specifics)
    if views:
        headers = ["PREFIX", "ORIGIN", "EXPECTED", "RPKI", "PEERS", "PEER ASNS", "COLLECTORS", "SAMPLE PATH"]
        lines.extend(table(headers, _rows(views)))
    else:
        lines.append("no route for the prefix or any more-specific in the data")
    samples = [(view.prefix, o) for view in views for o in view.origins if len(o.sample_paths) > 1]
    if samples:
        lines.extend(["", "sample AS paths:"])
        for prefix, origin in samples:
            lines.append(f"  {prefix} {_origin(origin)}: " + " | ".join(origin.sample_paths))
    if report.unexpected:
        lines.extend(["", "unexpected origins:"])
        lines.extend(f"  {line}" for line in report.unexpected)
    return lines


def asn_text(report: AsnReport) -> list[str]:
    lines = [
        f"AS{report.asn}: {report.verdict.value.upper()} ({len(report.prefixes)} prefixes)",
        f"  source: {report.source}, data time {when(report.time)}; degraded below {report.min_visibility:.2f}",
    ]
    if report.over_cap:
        lines.append(f"  {report.over_cap} more prefixes not checked (raise --max-prefixes)")
    lines.append("")
    rows = []
    for p in report.prefixes:
        flag = "" if p.verdict.value == "visible" else "  <-- " + p.verdict.value
        other = ", ".join(line.split(" originated by ", 1)[1] for line in p.unexpected)
        rows.append([
            str(p.prefix), str(p.visible_peers), _count(p.visible_peer_asns),
            f"{p.ratio:.2f}" if p.ratio is not None else "n/a", other, flag.strip(),
        ])
    if rows:
        lines.extend(table(["PREFIX", "VISIBLE", "PEER ASNS", "RATIO", "OTHER ORIGINS", ""], rows))
    else:
        lines.append("the data shows no prefix originated by this AS")
    return lines
