"""The ``/metrics`` body, with each watched prefix's sample lines kept between scrapes.

Ten thousand watched prefixes are 140,000 samples, and prometheus_client
formats them in ~2.7 s on every scrape while holding the GIL that the live feed
needs. The core's snapshots keep the same ``PrefixStatus`` object while a
prefix is unchanged, so the lines of each status are formatted once (straight
from the status by ``prefix_lines``, held line for line to prometheus_client's
own text by a test; the family headers are prometheus_client's) and kept while
that status is current: a scrape formats only the prefixes that changed and
joins the rest. Everything else (process, sources, DNS, core totals) is small and is
rendered fresh. Both the Prometheus text format and OpenMetrics are served,
whichever the scraper asks for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import PrefixStatus
from routewatch.exporter.bgp import core_families, prefix_families
from routewatch.exporter.dns import dns_families
from routewatch.exporter.prefix_lines import prefix_lines
from routewatch.exporter.process import process_families
from routewatch.exporter.rpki import rpki_source_families
from routewatch.exporter.sources import source_families
from routewatch.exporter.state import ExportState, SnapshotBox

Encoder = Callable[[CollectorRegistry], bytes]
#: How many exposition variants (format, version, escaping) keep a cache; past it they start over.
_MAX_VARIANTS = 8
_EOF = "# EOF\n"


def families(state: ExportState, *, per_prefix: bool = True) -> Iterator[Metric]:
    """Every family of ``state``; parts not known yet (no core, no DNS snapshot) are absent.

    ``per_prefix=False`` leaves out the per-prefix BGP families, which :class:`Exposition` keeps formatted.
    """
    yield from process_families(state.process)
    if state.core is not None:
        if per_prefix:
            yield from prefix_families(state.core.prefixes, state.default_thresholds)
        yield from core_families(state.core, state.default_thresholds)
    yield from source_families(state.sources, state.max_collectors, state.max_ignored_types)
    yield from rpki_source_families(state.rpki_sources)
    if state.dns is not None:
        yield from dns_families(state.dns, state.core)


class _Families(Collector):
    def __init__(self, produce: Callable[[], Iterator[Metric]]) -> None:
        self._produce = produce

    def collect(self) -> Iterator[Metric]:
        return self._produce()


def encode(encoder: Encoder, produce: Callable[[], Iterator[Metric]]) -> str:
    """The families ``produce`` yields, written by prometheus_client's ``encoder``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(produce))
    return encoder(registry).decode()


def _split(text: str) -> tuple[list[str], list[list[str]]]:
    """Each family's ``# HELP``/``# TYPE`` header, and its sample lines, in order; ``# EOF`` dropped."""
    headers: list[list[str]] = []
    samples: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# HELP "):
            headers.append([line])
            samples.append([])
        elif line.startswith("# "):
            if line != _EOF:
                headers[-1].append(line)
        else:
            samples[-1].append(line)
    return ["".join(h) for h in headers], samples


class PrefixLines:
    """One exposition variant: the per-prefix families' headers once, and each status's sample lines."""

    def __init__(self, encoder: Encoder, default: WithdrawalThresholds) -> None:
        self.encoder = encoder
        self.default = default
        self.headers = _split(encode(encoder, partial(prefix_families, (), default)))[0]
        self.lock = threading.Lock()
        self.formatted = 0
        # id(status) -> (status, its lines per family); the status is held so its id cannot be reused.
        self._kept: dict[int, tuple[PrefixStatus, list[str]]] = {}

    def render(self, statuses: Iterable[PrefixStatus]) -> str:
        with self.lock:
            kept: dict[int, tuple[PrefixStatus, list[str]]] = {}
            order: list[int] = []
            missed: list[PrefixStatus] = []
            for status in statuses:
                if not status.exported:
                    continue
                key = id(status)
                entry = self._kept.get(key)
                if entry is not None and entry[0] is status:
                    kept[key] = entry
                else:
                    missed.append(status)
                order.append(key)
            for status, lines in self._format(missed):
                kept[id(status)] = (status, lines)
            self._kept = kept
            rows = [kept[key][1] for key in order]
        out: list[str] = []
        for index, header in enumerate(self.headers):
            out.append(header)
            out.extend(row[index] for row in rows)
        return "".join(out)

    def _format(self, statuses: list[PrefixStatus]) -> Iterator[tuple[PrefixStatus, list[str]]]:
        """Each status's lines per family."""
        self.formatted += len(statuses)
        for status in statuses:
            yield status, prefix_lines(status, self.default)


class Exposition:
    """Renders the current ``ExportState`` for an ``Accept`` header; safe to call from several threads."""

    def __init__(self, box: SnapshotBox) -> None:
        self._box = box
        self._variants: dict[str, PrefixLines] = {}
        self._lock = threading.Lock()

    def __call__(self, accept: str) -> tuple[bytes, str]:
        """The body and its content type."""
        encoder, content_type = choose_encoder(accept)
        state = self._box.current
        rest = encode(encoder, partial(families, state, per_prefix=False))
        if state.core is None:
            return rest.encode(), content_type
        prefixes = self._variant(encoder, content_type, state.default_thresholds).render(state.core.prefixes)
        return (prefixes + rest).encode(), content_type

    def formatted(self) -> int:
        """How many prefix statuses were formatted so far, over all variants (tests watch the cache with it)."""
        return sum(v.formatted for v in self._variants.values())

    def _variant(self, encoder: Encoder, content_type: str, default: WithdrawalThresholds) -> PrefixLines:
        """The cache for this format; started over when the default thresholds change (a reload)."""
        with self._lock:
            variant = self._variants.get(content_type)
            if variant is None or variant.default != default:
                if len(self._variants) >= _MAX_VARIANTS:
                    self._variants.clear()
                variant = self._variants[content_type] = PrefixLines(encoder, default)
            return variant
