"""Restored detections: handed back to their detectors, then judged against the restored routes.

A restart (or a reload's carry-over) puts the saved routes and baselines
back first; the open detections come last, here. Each detector takes back
the ones of its kinds, and every route is judged again, so a restored
detection that no longer holds closes and one the routes show now opens,
while one found open again is not reported as new.
"""

from __future__ import annotations

from typing import Protocol

from routewatch.core.detection import ChangeKind, Detection, DetectionChange
from routewatch.core.detectors.base import Detector
from routewatch.core.judging import Judging
from routewatch.core.standing import Standing


class _Restored(Protocol):
    """What restoring detections hands them to and asks of the engine."""

    detectors: dict[str, Detector]
    judging: Judging
    standing: Standing

    def flush(self) -> list[DetectionChange]: ...


def restore_detections(engine: _Restored, detections: list[Detection]) -> list[DetectionChange]:
    """Re-judge every restored route, keeping restored detections open without re-opening them.

    Returns what the judging changed: a restored detection that no longer
    holds (a reload added the hijacker's AS to the expected origins) closes,
    one the restored routes show now opens. Those are real changes and must
    reach the detection log; a restored detection found open again is none.
    """
    for detector in engine.detectors.values():
        detector.restore(d for d in detections if d.kind in detector.kinds)
    engine.judging.reengage()  # a restored detection engages its detector, configured or not
    engine.standing.everything()
    restored = {(d.kind, d.prefix, d.watched) for d in detections}
    return [c for c in engine.flush() if c.change is not ChangeKind.OPENED
            or (c.detection.kind, c.detection.prefix, c.detection.watched) not in restored]
