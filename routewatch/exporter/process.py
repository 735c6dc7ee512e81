"""Process metrics: build, configuration reloads, and the supervised components."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from routewatch.exporter.state import ProcessStatus


def process_families(status: ProcessStatus) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    build = GaugeMetricFamily("routewatch_build_info", "Always 1; the version is in the label.", labels=["version"])
    build.add_metric([status.version], 1.0)
    reload_ok = GaugeMetricFamily("routewatch_config_last_reload_successful",
                                  "1 when the last configuration load or reload succeeded, 0 when it was rejected.")
    reload_ok.add_metric([], 1.0 if status.reload_successful else 0.0)
    reloaded = GaugeMetricFamily("routewatch_config_last_reload_success_timestamp_seconds",
                                 "When the configuration in force was loaded.")
    if status.reload_success_time is not None:
        reloaded.add_metric([], status.reload_success_time)
    up = GaugeMetricFamily("routewatch_component_up", "1 while the supervised component runs, 0 while it waits "
                           "to be restarted.", labels=["component"])
    restarts = CounterMetricFamily("routewatch_component_restarts", "Restarts of the component after a failure.",
                                   labels=["component"])
    for component in status.components:
        up.add_metric([component.component], 1.0 if component.up else 0.0)
        restarts.add_metric([component.component], component.restarts)
    degraded = GaugeMetricFamily("routewatch_bootstrap_degraded",
                                 "1 when the start-up snapshot was read from damaged archives (some routes may be "
                                 "missing until the feed sends them).")
    degraded.add_metric([], 1.0 if status.bootstrap_degraded else 0.0)
    rejected = GaugeMetricFamily("routewatch_state_restore_rejected",
                                 "1 when the saved state failed validation at start and was set aside.")
    rejected.add_metric([], 1.0 if status.state_rejected else 0.0)
    shard = GaugeMetricFamily("routewatch_shard_info", "Always 1: which shard of how many this process watches "
                              "(rules page when one is absent or claimed twice).", labels=["shard", "shards"])
    shard.add_metric([str(status.shard[0]), str(status.shard[1])], 1.0)
    shards = GaugeMetricFamily("routewatch_shards", "How many shards divide the work (sharding.shards).")
    shards.add_metric([], float(status.shard[1]))
    yield from (build, reload_ok, reloaded, up, restarts, degraded, rejected, shard, shards)
