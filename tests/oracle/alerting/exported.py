"""The series routewatch exports over time, recorded as promtool ``input_series``.

Scenarios are driven through the real core (``Engine``) and the real
exporter (``BgpCollector`` rendered to the text format and parsed back, as
Prometheus would scrape it), one scrape every ``interval`` seconds of data
time. Nothing here knows what the rules expect: the rule tests only see what
routewatch actually exported.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from routewatch.core.engine import Engine
from routewatch.exporter.bgp import BgpCollector
from routewatch.exporter.offline import render
from routewatch.model import Event

JOB = "routewatch"
REPLICAS = ("replica-a:9108", "replica-b:9108")

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Recording:
    """Values per series per scrape; ``None`` where a scrape did not carry the series."""

    interval: int
    scrapes: int = 0
    values: dict[SeriesKey, list[float | None]] = field(default_factory=dict)

    def scrape(self, exposition: str) -> None:
        seen: set[SeriesKey] = set()
        for family in text_string_to_metric_families(exposition):
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                key = (sample.name, tuple(sorted(sample.labels.items())))
                series = self.values.setdefault(key, [None] * self.scrapes)
                series.append(float(sample.value))
                seen.add(key)
        for key, series in self.values.items():
            if key not in seen:
                series.append(None)
        self.scrapes += 1

    def value(self, name: str, at_scrape: int, **labels: str) -> float | None:
        return self.values[(name, tuple(sorted(labels.items())))][at_scrape]

    def input_series(self, instances: Iterable[str] = REPLICAS[:1]) -> list[dict[str, str]]:
        """promtool ``input_series``: every series once per instance, plus each instance's ``up``."""
        out = []
        for instance in instances:
            target = {"job": JOB, "instance": instance}
            out.append({"series": selector("up", target), "values": compress([1.0] * self.scrapes)})
            for (name, labels), values in sorted(self.values.items()):
                out.append({"series": selector(name, {**dict(labels), **target}), "values": compress(values)})
        return out


def selector(name: str, labels: dict[str, str]) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    return name + "{" + ",".join(f"{k}={quoted(v)}" for k, v in sorted(labels.items())) + "}"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _runs(values: list[float | None]) -> Iterator[tuple[float | None, float, int]]:
    """(start, step, count) runs: equal values, or integer values rising by a constant integer step."""
    i = 0
    while i < len(values):
        start = values[i]
        step = 0.0
        j = i + 1
        if start is not None and j < len(values) and values[j] is not None:
            candidate = values[j] - start  # type: ignore[operator]
            if candidate == 0 or (start.is_integer() and candidate.is_integer()):
                step = candidate
        while j < len(values) and (
            (start is None and values[j] is None)
            or (start is not None and values[j] is not None and values[j] == start + step * (j - i))
        ):
            j += 1
        yield start, step, j - i
        i = j


def compress(values: list[float | None]) -> str:
    """promtool's expanding notation; a series that disappears gets a staleness marker, as a scrape would."""
    tokens = []
    previous_present = False
    for start, step, count in _runs(values):
        if start is None:
            if previous_present:
                tokens.append("stale")
                count -= 1
            if count:
                tokens.append(f"_x{count}")
            previous_present = False
            continue
        if count == 1:
            tokens.append(_number(start))
        elif step == 0:
            tokens.append(f"{_number(start)}x{count - 1}")
        else:
            sign = "+" if step > 0 else "-"
            tokens.append(f"{_number(start)}{sign}{_number(abs(step))}x{count - 1}")
        previous_present = True
    return " ".join(tokens)


def record(monitor: Engine, events: Iterable[tuple[Event, bool]], start: float, end: float,
           interval: int = 30, extra: Iterable[Collector] = ()) -> Recording:
    """Drive ``monitor`` with (event, from_snapshot) pairs in time order, scraping at start, start+interval, ...

    Each scrape renders ``BgpCollector`` over the monitor's snapshot, and ``extra`` collectors.
    """
    recording = Recording(interval)
    collectors = [BgpCollector(monitor.snapshot), *extra]
    scrape_at = start
    for event, established in events:
        while event.time > scrape_at and scrape_at <= end:
            monitor.advance(scrape_at)
            recording.scrape(render(collectors).decode())
            scrape_at += interval
        if event.time > end:
            break
        monitor.apply(event, established=established)
    while scrape_at <= end:
        monitor.advance(scrape_at)
        recording.scrape(render(collectors).decode())
        scrape_at += interval
    return recording
