"""Detections: what routewatch opens when something is wrong and closes on recovery.

A detection is a story for the log and the terminal (start, end, evidence);
paging is done by Grafana on the exported gauges, so a detection never needs
to be "sent" and recovery is just a state change.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field, replace
from typing import Any

from routewatch.model import Prefix, format_as_path


class DetectionKind(enum.StrEnum):
    WITHDRAWAL = "withdrawal"
    ORIGIN = "origin"
    MORE_SPECIFIC = "more-specific"
    NEIGHBOR = "neighbor"
    PATH = "path"
    NEW_PREFIX = "new-prefix"
    RPKI_INVALID = "rpki-invalid"
    RPKI_NOT_COVERED = "rpki-not-covered"
    RPKI_ROA_CHANGE = "rpki-roa-change"
    RPKI_ROA_WOULD_INVALIDATE = "rpki-roa-would-invalidate"
    RPKI_ROA_EXPIRING = "rpki-roa-expiring"


class ChangeKind(enum.StrEnum):
    OPENED = "opened"
    CLOSED = "closed"


class ClosedReason(enum.StrEnum):
    """Why a detection closed without what it reports having ended (evidence ``closed_reason``)."""

    RPKI_NOT_CONFIGURED = "rpki-not-configured"
    """No VRP source is configured any more (a reload or restart without ``rpki.sources``): nothing can judge it."""


_CLOSED_BECAUSE = {ClosedReason.RPKI_NOT_CONFIGURED: "RPKI no longer configured, not judged any more"}


@dataclass(frozen=True, slots=True)
class Detection:
    """One detection: ``prefix`` is what was seen, ``watched`` the watched prefix it falls under."""

    kind: DetectionKind
    prefix: Prefix
    watched: Prefix
    start: float
    end: float | None = None
    description: str = ""
    evidence: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def closed(self, end: float, evidence: dict[str, Any]) -> Detection:
        return replace(self, end=end, evidence=evidence)


def closed_for(detection: Detection, reason: ClosedReason, now: float) -> DetectionChange:
    """``detection`` closed at ``now`` for ``reason``, its evidence kept as it was (what it reports did not end)."""
    return DetectionChange(ChangeKind.CLOSED, detection.closed(now, {**detection.evidence,
                                                                     "closed_reason": reason.value}), now)


@dataclass(frozen=True, slots=True)
class DetectionChange:
    """A detection opened or closed at ``time`` (data time)."""

    change: ChangeKind
    detection: Detection
    time: float

    def as_json(self) -> dict[str, Any]:
        d = self.detection
        return {
            "event": self.change.value,
            "kind": d.kind.value,
            "prefix": str(d.prefix),
            "watched_prefix": str(d.watched),
            "time": self.time,
            "start": d.start,
            "end": d.end,
            "description": d.description,
            "evidence": d.evidence,
        }

    def as_text(self) -> str:
        when = datetime.datetime.fromtimestamp(self.time, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
        d = self.detection
        evidence = d.evidence
        if d.kind is DetectionKind.WITHDRAWAL:
            detail = (
                f"gone from {evidence.get('gone_from_percent')}% of {evidence.get('baseline_peers')} baseline peers "
                f"({evidence.get('visible_peers')} still see it)"
            )
        elif d.kind in _ROA_KINDS:
            detail = _roa_detail(d.kind, evidence)
        else:
            detail = (
                f"{evidence.get('peers')} peers, origins {','.join(f'AS{a}' for a in evidence.get('origins', []))}"
            )
            if evidence.get("refused"):  # the cap on more-specifics refused some: the offenders may be more
                detail += (f", {evidence.get('prefixes', 1)} prefixes under it"
                           " (more refused beyond limits.max_more_specifics)")
            elif evidence.get("prefixes", 1) > 1:
                detail += f", {evidence['prefixes']} prefixes under it"
            if evidence.get("rpki_invalid"):
                detail += ", RPKI-invalid" + ("" if d.kind is DetectionKind.RPKI_INVALID else
                                              " (dropped by networks that validate)")
        if "closed_reason" in evidence:
            detail += f" (closed: {_CLOSED_BECAUSE.get(evidence['closed_reason'], evidence['closed_reason'])})"
        under = f" under {d.watched}" if d.watched != d.prefix else ""
        label = f" [{d.description}]" if d.description else ""
        return f"{when} {self.change.value.upper():6} {d.kind.value:13} {d.prefix}{under}{label}: {detail}"


_ROA_KINDS = frozenset({DetectionKind.RPKI_NOT_COVERED, DetectionKind.RPKI_ROA_CHANGE,
                        DetectionKind.RPKI_ROA_WOULD_INVALIDATE, DetectionKind.RPKI_ROA_EXPIRING})


def _roa_detail(kind: DetectionKind, evidence: dict[str, Any]) -> str:
    """The timeline's words for the ROA kinds, which count VRPs rather than peers."""
    if kind is DetectionKind.RPKI_NOT_COVERED:
        return "no VRP covers it"
    if kind is DetectionKind.RPKI_ROA_EXPIRING:
        when = datetime.datetime.fromtimestamp(evidence.get("expires", 0), datetime.UTC)
        return f"earliest ROA keeping it valid expires {when:%Y-%m-%d %H:%M:%S}"
    changed = f"VRPs added {evidence.get('added')}, removed {evidence.get('removed')}"
    if kind is DetectionKind.RPKI_ROA_WOULD_INVALIDATE:
        return f"{evidence.get('routes')} routes seen now become invalid: {changed}"
    return changed


def sample_paths(paths: list[tuple[Any, ...]], limit: int = 3) -> list[str]:
    """A few distinct AS paths as text, for evidence."""
    seen: list[str] = []
    for path in paths:
        text = format_as_path(path)
        if text not in seen:
            seen.append(text)
        if len(seen) >= limit:
            break
    return seen
