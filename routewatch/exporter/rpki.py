"""VRP source health metrics: per configured RPKI source, its last good set and whether it is current.

A source that fails keeps its last good set: ``routewatch_rpki_source_vrps``
stays at that set's size while ``routewatch_rpki_source_stale`` says 1 and
``routewatch_rpki_source_errors_total`` counts the failures, so a dead cache
is a state to alert on, never a drop to zero VRPs. Source names come from the
config (``rpki.sources[].name``), so the label set is bounded.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from routewatch.rpki.vrp import VrpSourceKind, VrpSourceStatus


def rpki_source_families(statuses: tuple[VrpSourceStatus, ...]) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """The per-source families; none at all while no VRP source is configured."""
    if not statuses:
        return
    vrps = GaugeMetricFamily("routewatch_rpki_source_vrps", "VRPs in the source's last good set.",
                             labels=["source"])
    serial = GaugeMetricFamily("routewatch_rpki_source_serial", "Serial of the RTR cache's last good set.",
                               labels=["source"])
    last = GaugeMetricFamily("routewatch_rpki_source_last_update_timestamp_seconds",
                             "When the source last delivered a set.", labels=["source"])
    stale = GaugeMetricFamily("routewatch_rpki_source_stale",
                              "1 while the source fails to load or refresh (its last good set stays in use), "
                              "and before its first set.", labels=["source"])
    errors = CounterMetricFamily("routewatch_rpki_source_errors",
                                 "Failed loads, refreshes and protocol errors of the source.", labels=["source"])
    for status in statuses:
        label = [status.name]
        if status.loaded:  # before the first set nothing is known: absent, not zero
            vrps.add_metric(label, len(status.vrps))
        # A JSON source numbers its loads itself; only an RTR cache's serial means something outside routewatch.
        if status.kind is VrpSourceKind.RTR and status.serial is not None:
            serial.add_metric(label, status.serial)
        if status.last_update is not None:
            last.add_metric(label, status.last_update)
        stale.add_metric(label, 1.0 if status.stale else 0.0)
        errors.add_metric(label, status.errors)
    yield from (vrps, serial, last, stale, errors)
