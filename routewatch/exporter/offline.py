"""Prometheus text exposition without a server (``replay --metrics-out``, tests)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector


def render(collectors: Iterable[Collector]) -> bytes:
    """The text exposition of ``collectors`` in a fresh registry."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
