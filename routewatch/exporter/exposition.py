"""The ``/metrics`` body, with the watched prefixes' part of it kept between scrapes.

Ten thousand watched prefixes are 140,000 samples, and prometheus_client
formats them in ~2.7 s on every scrape while holding the GIL that the live feed
needs. The core's snapshots keep the same ``PrefixStatus`` object while a
prefix is unchanged, so the lines of each status are formatted once (straight
from the status by ``prefix_lines``, held line for line to prometheus_client's
own text by a test; the family headers are prometheus_client's) and kept while
that status is current. Joining, encoding and gzipping 20,000 prefixes' lines
(~21 MB) still cost ~30 + ~35 ms a scrape, so the per-prefix families are also
kept as encoded blocks of ``BLOCK`` prefixes, each with its deflated segment: a
scrape where no status changed reuses them all, one where a few changed joins
and deflates only their blocks again. Everything else (process, sources, DNS,
core totals) is small, changes with every published snapshot, and is rendered
fresh. Both the Prometheus text format and OpenMetrics are served, whichever the
scraper asks for, plain or gzipped.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, compress
from operator import is_, is_not

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from routewatch.core.settings import WithdrawalThresholds
from routewatch.core.snapshot import PrefixStatus
from routewatch.exporter.bgp import core_families, prefix_families
from routewatch.exporter.deflate import crc32_combine, deflated, gzip_member
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
#: Watched prefixes per kept block of a family: a changed status costs joining and deflating its ~21 blocks again.
BLOCK = 512


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


@dataclass(frozen=True, slots=True)
class PrefixBody:
    """The per-prefix families as sent: their text in pieces, in order, and the pieces deflated when asked for."""

    pieces: tuple[bytes, ...]
    size: int
    segments: tuple[bytes, ...] | None = None
    """``deflated`` of each piece; None until a scraper asks for gzip."""
    crc: int = 0
    """The CRC-32 of the pieces' text, whole (0 while ``segments`` is None)."""

    def body(self, rest: bytes, *, gzip: bool) -> bytes:
        """These families, then ``rest``; as one gzip member when ``gzip`` (rendered with ``deflate`` then)."""
        if not gzip:
            return b"".join((*self.pieces, rest))
        if self.segments is None:
            raise ValueError("the per-prefix families were rendered without their deflated segments")
        return gzip_member((*self.segments, deflated(rest)), zlib.crc32(rest, self.crc), self.size + len(rest))


class PrefixLines:
    """One exposition variant: the per-prefix families' headers, each status's lines, and the body in blocks.

    Family ``f``'s text is its header and then its lines of each ``block``
    exported statuses in order: ``self._pieces[f] == [header, block 0, block 1, ...]``.
    """

    def __init__(self, encoder: Encoder, default: WithdrawalThresholds, block: int = BLOCK) -> None:
        self.encoder = encoder
        self.default = default
        self.block = block
        headers = _split(encode(encoder, partial(prefix_families, (), default)))[0]
        self.lock = threading.Lock()
        self.formatted = 0
        # the statuses last rendered (held, so that no id in them can be reused), the exported ones and their lines
        self._statuses: Sequence[PrefixStatus] = ()
        self._order: list[PrefixStatus] = []
        self._rows: list[list[str]] = []
        self._pieces: list[list[bytes]] = [[header.encode()] for header in headers]
        self._segments: list[list[bytes | None]] = [[None] for _ in headers]
        self._crcs: list[int | None] = [None for _ in headers]  # each family's text's CRC-32
        self._body: PrefixBody | None = None  # None: a piece changed since the body was last put together

    def render(self, statuses: Sequence[PrefixStatus], *, deflate: bool = False) -> PrefixBody:
        """The families' text for ``statuses``, with its deflated segments when ``deflate``."""
        with self.lock:
            if not (statuses is self._statuses or (
                    len(statuses) == len(self._statuses) and all(map(is_, statuses, self._statuses)))):
                self._update(statuses)
            if self._body is None or (deflate and self._body.segments is None):
                self._body = self._assemble(deflate)
            return self._body

    def _update(self, statuses: Sequence[PrefixStatus]) -> None:
        """Take the lines of the statuses that are new, and join again the blocks whose statuses changed."""
        order = [status for status in statuses if status.exported]
        before, rows = self._order, self._rows[:len(order)]
        common = min(len(order), len(before))
        replaced = list(compress(range(common), map(is_not, order, before)))
        # a status moved (a prefix added or removed before it) was at a replaced position or past the new end
        earlier = {id(before[i]): self._rows[i] for i in chain(replaced, range(common, len(before)))}
        rows.extend([] for _ in range(common, len(order)))
        for i in chain(replaced, range(common, len(order))):
            status = order[i]
            row = earlier.get(id(status))
            if row is None:
                row = prefix_lines(status, self.default)
                self.formatted += 1
            rows[i] = row
        self._statuses, self._order, self._rows = statuses, order, rows
        if len(order) != len(before):
            self._body = None
            self._crcs = [None for _ in self._crcs]
        blocks = -(-len(order) // self.block)
        for pieces, segments in zip(self._pieces, self._segments, strict=True):
            del pieces[1 + blocks:], segments[1 + blocks:]
            pieces.extend(b"" for _ in range(len(pieces), 1 + blocks))
            segments.extend(None for _ in range(len(segments), 1 + blocks))
        for block in sorted({i // self.block for i in chain(replaced, range(common, max(len(order), len(before))))}):
            if block < blocks:
                self._join(block)

    def _join(self, block: int) -> None:
        """Join block ``block`` of every family again; a family whose text is unchanged keeps its segment."""
        columns = zip(*self._rows[block * self.block:(block + 1) * self.block], strict=True)
        for family, (pieces, segments, column) in enumerate(zip(self._pieces, self._segments, columns, strict=True)):
            text = "".join(column).encode()
            if text != pieces[1 + block]:
                pieces[1 + block] = text
                segments[1 + block] = None
                self._crcs[family] = None
                self._body = None

    def _assemble(self, deflate: bool) -> PrefixBody:
        """The body from the kept pieces; deflating the pieces not deflated yet, and combining the families' CRCs."""
        pieces = tuple(chain.from_iterable(self._pieces))
        size = sum(map(len, pieces))
        if not deflate:
            return PrefixBody(pieces, size)
        segments: list[bytes] = []
        crc = 0
        for family, (texts, kept) in enumerate(zip(self._pieces, self._segments, strict=True)):
            for i, segment in enumerate(kept):
                if segment is None:
                    segment = kept[i] = deflated(texts[i])
                segments.append(segment)
            family_crc = self._crcs[family]
            if family_crc is None:
                family_crc = 0
                for text in texts:
                    family_crc = zlib.crc32(text, family_crc)
                self._crcs[family] = family_crc
            crc = crc32_combine(crc, family_crc, sum(map(len, texts)))
        return PrefixBody(pieces, size, tuple(segments), crc)


_NO_PREFIXES = PrefixBody((), 0, (), 0)


class Exposition:
    """Renders the current ``ExportState`` for an ``Accept`` header; safe to call from several threads.

    ``block``: watched prefixes per kept block (see :class:`PrefixLines`).
    """

    def __init__(self, box: SnapshotBox, block: int = BLOCK) -> None:
        self._box = box
        self._block = block
        self._variants: dict[str, PrefixLines] = {}
        self._lock = threading.Lock()

    def __call__(self, accept: str, *, gzip: bool = False) -> tuple[bytes, str]:
        """The body (a gzip member when ``gzip``) and its content type."""
        encoder, content_type = choose_encoder(accept)
        state = self._box.current
        rest = encode(encoder, partial(families, state, per_prefix=False)).encode()
        prefixes = _NO_PREFIXES if state.core is None else self._variant(
            encoder, content_type, state.default_thresholds).render(state.core.prefixes, deflate=gzip)
        return prefixes.body(rest, gzip=gzip), content_type

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
                variant = self._variants[content_type] = PrefixLines(encoder, default, self._block)
            return variant
