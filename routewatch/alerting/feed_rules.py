"""Alert rules on routewatch itself: feeds, collectors, dropped messages, components, config, absence."""

from __future__ import annotations

from routewatch.alerting.rule import PAGE_KEEP_FIRING, Group, Rule, Severity, by, expr

# Not exported by routewatch, so named here: how far behind a source may fall before it counts as stale.
SOURCE_STALE_SECONDS = 600
SOURCE_KEYS = ("source",)


def _feed_rules() -> list[Rule]:
    source_down = by("max", "routewatch_source_up", SOURCE_KEYS) + " == 0"
    return [
        Rule(
            name="RoutewatchSourceDown",
            group=Group.FEED,
            expr=source_down,
            for_="5m",
            severity=Severity.WARNING,
            summary="BGP source {{ $labels.source }} is down",
            description="Source {{ $labels.source }} has been disconnected on every routewatch replica for 5 minutes.",
            runbook="source-down",
        ),
        Rule(
            name="RoutewatchSourceStale",
            group=Group.FEED,
            expr=expr(f"""
                {by("min", "routewatch_source_lag_seconds", SOURCE_KEYS)} > {SOURCE_STALE_SECONDS}
                unless on (source)
                {source_down}
            """),
            for_="5m",
            severity=Severity.WARNING,
            summary="BGP source {{ $labels.source }} is stale",
            description="Source {{ $labels.source }} is connected but its data is {{ $value | humanizeDuration }} old.",
            runbook="source-stale",
        ),
        Rule(
            name="RoutewatchCollectorStale",
            group=Group.FEED,
            expr=expr(f"""
                {by("max", "routewatch_source_collector_up", ("source", "collector"))} == 0
                unless on (source)
                {source_down}
            """),
            for_="10m",
            severity=Severity.WARNING,
            summary="Collector {{ $labels.collector }} of {{ $labels.source }} is stale",
            description=(
                "Collector {{ $labels.collector }} has sent nothing fresh through {{ $labels.source }} for 10 "
                "minutes: its peers no longer count towards visibility."
            ),
            runbook="collector-stale",
        ),
        Rule(
            name="RoutewatchMessagesDropped",
            group=Group.FEED,
            expr=by("max", "rate(routewatch_source_messages_dropped_total[5m])", SOURCE_KEYS) + " > 0",
            for_="5m",
            severity=Severity.WARNING,
            summary="routewatch drops messages from {{ $labels.source }}",
            description=(
                "{{ $value | humanize }} messages per second from {{ $labels.source }} are dropped because the "
                "core does not keep up: visibility lags or misses changes until a reconciliation."
            ),
            runbook="messages-dropped",
        ),
    ]


def _process_rules(job: str) -> list[Rule]:
    return [
        Rule(
            name="RoutewatchComponentDown",
            group=Group.FEED,
            expr=by("min", "routewatch_component_up", ("component",)) + " == 0",
            for_="5m",
            severity=Severity.WARNING,
            summary="routewatch component {{ $labels.component }} is down",
            description=(
                "The supervised component {{ $labels.component }} has been down for 5 minutes on at least one "
                "routewatch replica, waiting to be restarted."
            ),
            runbook="component-down",
        ),
        Rule(
            name="RoutewatchConfigReloadFailed",
            group=Group.FEED,
            expr="min(routewatch_config_last_reload_successful) == 0",
            for_="1m",
            severity=Severity.WARNING,
            summary="routewatch rejected its configuration",
            description=(
                "The last configuration load or reload failed on at least one replica: it runs with the previous "
                "configuration, and the next restart may not start at all."
            ),
            runbook="config-reload-failed",
        ),
        Rule(
            name="RoutewatchAbsent",
            group=Group.FEED,
            expr=f'absent(up{{job="{job}"}} == 1)',
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="routewatch is not being scraped",
            description=(
                f"No routewatch target of job {job} has been scraped successfully for 5 minutes: "
                "nothing watches the routes and nameservers."
            ),
            runbook="routewatch-absent",
            labels={"job": job},
        ),
    ]


def _shard_rules() -> list[Rule]:
    """Sharded installs (``sharding.shards`` > 1): every part watched, each by one process.

    Claimed-twice counts the processes reporting a shard, so it is the one rule
    that must not aggregate them away: a sharded install runs one process per
    shard (the StatefulSet restarts it), not replicas of each. It counts
    distinct ``instance`` values (one per process), so a second Prometheus
    replica seen through a query layer does not look like a second process.
    """
    return [
        Rule(
            name="RoutewatchShardAbsent",
            group=Group.FEED,
            expr=expr(f"""
                count by (job) ({by("max", "routewatch_shard_info", ("job", "shard"))})
                < on (job)
                {by("max", "routewatch_shards", ("job",))}
            """),
            for_="5m",
            keep_firing_for=PAGE_KEEP_FIRING,
            severity=Severity.CRITICAL,
            summary="A shard of {{ $labels.job }} is missing",
            description=(
                "Only {{ $value }} of the configured shards of {{ $labels.job }} are scraped: the prefixes, ASNs and "
                "zones of the missing shard are watched by nobody."
            ),
            runbook="shard-absent",
        ),
        Rule(
            name="RoutewatchShardClaimedTwice",
            group=Group.FEED,
            expr=expr("""
                count by (shard, shards) (
                  max by (shard, shards, instance) (routewatch_shard_info{shards!="1"})
                ) > 1
            """),
            for_="5m",
            severity=Severity.WARNING,
            summary="Shard {{ $labels.shard }} is claimed by {{ $value }} processes",
            description=(
                "{{ $value }} processes watch shard {{ $labels.shard }} of {{ $labels.shards }}: a repeated "
                "ROUTEWATCH_SHARD or sharding.shard, so another shard may be missing."
            ),
            runbook="shard-claimed-twice",
        ),
    ]


def feed_rules(job: str) -> list[Rule]:
    return [*_feed_rules(), *_process_rules(job), *_shard_rules()]
