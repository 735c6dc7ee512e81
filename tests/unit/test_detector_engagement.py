"""Detectors nobody configured are not asked per update, and what can engage them does.

Skipping idle detectors is how the RPKI and path detectors cost nothing where
they are not configured (bench/RESULTS.md, "The house"). Skipping one that
should be asked would lose detections, so this holds both sides: the idle
ones are skipped under a plain config, and a VRP set, path policies or a
restored detection engage exactly the detectors they concern.
"""

from __future__ import annotations

from typing import Any

from routewatch.config.schema import parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.detection import Detection, DetectionKind
from routewatch.core.engine import Engine
from routewatch.model import parse_prefix
from routewatch.rpki.vrp import Vrp
from tests.support.events import announce, peer

P = "193.0.0.0/21"
OWN, OTHER = 3333, 64999
ALWAYS = {"withdrawal", "origin", "more-specific"}


def engine(**extra: Any) -> Engine:
    prefix = {"prefix": P, "asn": OWN, **extra.pop("prefix", {})}
    m = build_engine(parse_config({"prefixes": [prefix], **extra}))
    m.apply_all(announce(0, peer(i), P, (64500 + i, 174, OWN)) for i in range(3))
    return m


def engaged(m: Engine) -> set[str]:
    return {name for name, d in m.detectors.items() if d.engaged(m)}


def test_a_plain_config_asks_only_withdrawal_origin_and_more_specific() -> None:
    assert engaged(engine()) == ALWAYS


def test_path_policies_engage_the_path_and_neighbour_detectors() -> None:
    m = engine(prefix={"upstreams": [174], "path": [{"match": "64666"}]})
    assert engaged(m) == ALWAYS | {"neighbor", "path"}


def test_new_prefix_alerting_engages_the_new_prefix_detector() -> None:
    m = engine(asns=[{"asn": OWN, "new_prefixes": True}])
    assert "new-prefix" in engaged(m)


def test_a_vrp_set_engages_the_rpki_detectors_and_they_open_at_once() -> None:
    m = engine(rpki={"sources": [{"type": "json", "path": "vrps.json"}]})
    assert engaged(m) == ALWAYS  # no set yet: nothing to validate against
    changes = m.set_vrps([Vrp(parse_prefix(P), 21, OTHER)])
    assert engaged(m) == ALWAYS | {"rpki-invalid", "rpki-coverage", "rpki-roa-change"}
    assert {c.detection.kind for c in changes} == {DetectionKind.RPKI_INVALID}


def test_a_restored_detection_is_judged_though_nothing_configures_its_detector() -> None:
    """A neighbour detection saved before a reload removed the prefix's upstreams: judged again, it closes."""
    m = engine()
    hijack = Detection(DetectionKind.NEIGHBOR, parse_prefix(P), parse_prefix(P), start=0.0,
                       evidence={"neighbors": [64666]})
    changes = m.restore_anomalies([hijack])
    assert [(c.change.value, c.detection.kind) for c in changes] == [("closed", DetectionKind.NEIGHBOR)]
    assert engaged(m) == ALWAYS  # nothing left for it to hold
