"""Feed health metrics: per source (from the config) and per collector (capped).

Source names come from the config (at most ``limits.max_sources``). Collector
names and ignored message types come from the feed, so both are capped: the
first ``max_collectors`` collectors by name are exported and the rest are
counted in ``routewatch_source_collectors_over_cap``; ignored types beyond
the cap are folded into ``type="other"``. A source that holds a connection
per collector (a BMP router) also counts its messages, damaged messages and
peers up; the others have no such series.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from routewatch.sources.health import SourceHealth

OTHER_TYPE = "other"


def source_families(sources: tuple[SourceHealth, ...], max_collectors: int,
                    max_ignored_types: int) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    up = GaugeMetricFamily("routewatch_source_up", "1 while the feed is connected and delivering, 0 when not.",
                           labels=["source"])
    last = GaugeMetricFamily("routewatch_source_last_message_timestamp_seconds",
                             "Data timestamp of the newest message the feed delivered.", labels=["source"])
    lag = GaugeMetricFamily("routewatch_source_lag_seconds",
                            "Wall clock minus the data timestamp of the newest message (live feeds: now).",
                            labels=["source"])
    reconnects = CounterMetricFamily("routewatch_source_reconnects", "Reconnections of the feed.", labels=["source"])
    failures = CounterMetricFamily("routewatch_source_connect_failures",
                                   "Connection attempts that failed (refused, timed out, handshake rejected).",
                                   labels=["source"])
    messages = CounterMetricFamily("routewatch_source_messages", "Messages received from the feed.",
                                   labels=["source"])
    malformed = CounterMetricFamily("routewatch_source_messages_malformed",
                                    "Messages that could not be decoded (counted and skipped).", labels=["source"])
    dropped = CounterMetricFamily("routewatch_source_messages_dropped",
                                  "Messages dropped because the queue to the core was full.", labels=["source"])
    ignored = CounterMetricFamily("routewatch_source_messages_ignored",
                                  "Messages skipped on purpose, by message type.", labels=["source", "type"])
    c_up = GaugeMetricFamily("routewatch_source_collector_up", "1 while the collector is fresh, 0 when stale.",
                             labels=["source", "collector"])
    c_lag = GaugeMetricFamily("routewatch_source_collector_lag_seconds",
                              "Wall clock minus data timestamp of the collector's newest message.",
                              labels=["source", "collector"])
    c_last = GaugeMetricFamily("routewatch_source_collector_last_message_timestamp_seconds",
                               "Data timestamp of the collector's newest message.", labels=["source", "collector"])
    c_messages = CounterMetricFamily("routewatch_source_collector_messages",
                                     "Messages received from the collector (a BMP router).",
                                     labels=["source", "collector"])
    c_malformed = CounterMetricFamily("routewatch_source_collector_messages_malformed",
                                      "Damaged messages from the collector (each reset its connection).",
                                      labels=["source", "collector"])
    c_peers = GaugeMetricFamily("routewatch_source_collector_peers_up",
                                "The collector's monitored peers whose session is up (a BMP router's Peer Ups).",
                                labels=["source", "collector"])
    paths = GaugeMetricFamily("routewatch_source_path_subscriptions",
                              "Subscriptions to every path through a watched AS with declared downstreams "
                              "(RIS Live), at most limits.max_path_subscriptions.", labels=["source"])
    over = GaugeMetricFamily("routewatch_source_collectors_over_cap",
                             "Collectors seen beyond limits.max_collectors (counted, not exported).",
                             labels=["source"])
    for health in sources:
        label = [health.source]
        if health.up is not None:
            up.add_metric(label, 1.0 if health.up else 0.0)
        if health.last_message is not None:
            last.add_metric(label, health.last_message)
        if health.lag is not None:
            lag.add_metric(label, health.lag)
        reconnects.add_metric(label, health.reconnects)
        failures.add_metric(label, health.connect_failures)
        messages.add_metric(label, health.messages)
        malformed.add_metric(label, health.malformed)
        dropped.add_metric(label, health.dropped)
        for kind, count in _capped_types(dict(health.ignored), max_ignored_types).items():
            ignored.add_metric([*label, kind], count)
        collectors = sorted(health.collectors, key=lambda c: c.collector)
        for collector in collectors[:max_collectors]:
            labels = [*label, collector.collector]
            c_up.add_metric(labels, 1.0 if collector.up else 0.0)
            if collector.lag is not None:
                c_lag.add_metric(labels, collector.lag)
            if collector.last_message is not None:
                c_last.add_metric(labels, collector.last_message)
            if collector.messages is not None:
                c_messages.add_metric(labels, collector.messages)
            if collector.malformed is not None:
                c_malformed.add_metric(labels, collector.malformed)
            if collector.peers_up is not None:
                c_peers.add_metric(labels, collector.peers_up)
        over.add_metric(label, max(0, len(collectors) - max_collectors))
        if health.path_subscriptions is not None:
            paths.add_metric(label, health.path_subscriptions)
    yield from (up, last, lag, reconnects, failures, messages, malformed, dropped, ignored, c_up, c_lag, c_last,
                c_messages, c_malformed, c_peers, over, paths)


def _capped_types(counts: dict[str, int], cap: int) -> dict[str, int]:
    """At most ``cap`` type labels (the most frequent), the rest summed under ``other``."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[: max(0, cap - 1)] if len(ranked) > cap else ranked)
    rest = sum(count for kind, count in ranked if kind not in kept)
    if rest or len(ranked) > cap:
        kept[OTHER_TYPE] = kept.get(OTHER_TYPE, 0) + rest
    return kept
