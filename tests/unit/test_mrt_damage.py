"""Damaged MRT input: good records first, then a clear error with the byte offset; never a crash or hang."""

from __future__ import annotations

import bz2
import gzip
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routewatch.errors import MrtDecodeError, SourceError
from routewatch.model import Event, PeerStateChange, RouteAnnouncement, RouteWithdrawal
from routewatch.sources.mrt.reader import MrtStats, read_mrt
from tests.support.tools import MRT_DIR, require_data

SMALL_FILES = ["updates.20240914.2230.bz2", "bview.ipv4_unicast_add_path.gz", "ris.rrc06.updates.1427846400.gz"]


def decompressed(name: str) -> bytes:
    path = require_data(MRT_DIR / name)
    opener = bz2.open if name.endswith(".bz2") else gzip.open
    with opener(path, "rb") as handle:
        return handle.read()


def record_offsets(data: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 12 + struct.unpack_from(">I", data, pos + 8)[0]
    return offsets


def read_all(path: Path, stats: MrtStats | None = None) -> tuple[list[Event], MrtDecodeError | None]:
    events: list[Event] = []
    try:
        for event in read_mrt(path, collector="test", stats=stats):
            events.append(event)
    except MrtDecodeError as exc:
        return events, exc
    return events, None


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress], ids=["plain", "gzip", "bzip2"])
def test_truncated_file_yields_records_before_the_cut_then_fails(tmp_path: Path, compress) -> None:
    data = decompressed("ris.rrc06.updates.1427846400.gz")
    offsets = record_offsets(data)
    cut_record = offsets[400]
    damaged = data[: cut_record + 30]  # inside record 400
    (tmp_path / "whole").write_bytes(data[:cut_record])
    (tmp_path / "cut").write_bytes(compress(damaged) if compress else damaged)
    expected, error = read_all(tmp_path / "whole")
    assert error is None and expected
    events, error = read_all(tmp_path / "cut")
    assert events == expected
    assert error is not None and error.offset == cut_record
    assert str(tmp_path / "cut") in str(error) and "inside a record" in str(error)


def test_compressed_stream_cut_short(tmp_path: Path) -> None:
    packed = gzip.compress(decompressed("ris.rrc06.updates.1427846400.gz"))
    (tmp_path / "cut.gz").write_bytes(packed[: len(packed) // 2])
    events, error = read_all(tmp_path / "cut.gz")
    assert error is not None and events
    full, _ = read_all(MRT_DIR / "ris.rrc06.updates.1427846400.gz")
    assert events == full[: len(events)]


def test_corrupt_gzip_data_is_a_decode_error(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(decompressed("ris.rrc06.updates.1427846400.gz")))
    for i in range(len(packed) // 2, len(packed) // 2 + 64):
        packed[i] ^= 0x5A
    (tmp_path / "bad.gz").write_bytes(bytes(packed))
    events, error = read_all(tmp_path / "bad.gz")
    assert error is not None
    assert "corrupt" in str(error) or "inside a record" in str(error)


def test_impossible_length_stops_with_its_offset(tmp_path: Path) -> None:
    data = bytearray(decompressed("updates.20240914.2230.bz2"))
    offsets = record_offsets(bytes(data))
    struct.pack_into(">I", data, offsets[10] + 8, 0xFFFFFFF0)
    (tmp_path / "bad").write_bytes(bytes(data))
    events, error = read_all(tmp_path / "bad")
    assert error is not None and error.offset == offsets[10]
    assert "impossible record length" in str(error)
    assert len(events) == len(list(read_mrt(_prefix_file(tmp_path, data[: offsets[10]]))))


def _prefix_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "prefix"
    path.write_bytes(bytes(data))
    return path


def test_malformed_record_with_intact_framing_is_counted_and_skipped(tmp_path: Path) -> None:
    data = bytearray(decompressed("updates.20240914.2230.bz2"))
    offsets = record_offsets(bytes(data))
    victim = offsets[5]
    # BGP4MP_ET AS4 IPv4: 12 header + 4 microseconds + 12 + 8 addresses + 16 marker: the BGP length.
    struct.pack_into(">H", data, victim + 12 + 4 + 20 + 16, 4000)
    (tmp_path / "bad").write_bytes(bytes(data))
    stats = MrtStats()
    events, error = read_all(tmp_path / "bad", stats)
    assert error is None
    assert stats.malformed == 1 and stats.records == len(offsets)
    clean = bytes(decompressed("updates.20240914.2230.bz2"))
    before, _ = read_all(_prefix_file(tmp_path, clean[:victim]))
    (tmp_path / "after").write_bytes(clean[offsets[6] :])
    after, _ = read_all(tmp_path / "after")
    victim_events, _ = read_all(_prefix_file(tmp_path, clean[victim : offsets[6]]))
    assert victim_events and events == before + after


def test_missing_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        list(read_mrt(tmp_path / "absent.gz"))


def test_plain_and_compressed_read_the_same(tmp_path: Path) -> None:
    data = decompressed("bview.ipv6_unicast_add_path.gz")
    (tmp_path / "plain.gz").write_bytes(data)  # the name lies: the magic bytes decide
    (tmp_path / "packed").write_bytes(bz2.compress(data))
    stats = MrtStats()
    plain = list(read_mrt(tmp_path / "plain.gz", collector="c", stats=stats))
    assert plain == list(read_mrt(tmp_path / "packed", collector="c"))
    assert plain == list(read_mrt(MRT_DIR / "bview.ipv6_unicast_add_path.gz", collector="c"))
    assert stats.bytes_read == len(data) and stats.elements == 62


def _check(events: list[Event]) -> None:
    for event in events:
        assert isinstance(event, RouteAnnouncement | RouteWithdrawal | PeerStateChange)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(SMALL_FILES),
    mutations=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    compress=st.sampled_from(["plain", "gzip"]),
)
def test_mutated_files_never_crash(tmp_path: Path, name: str, mutations, cut, compress) -> None:
    data = bytearray(decompressed(name))
    for where, value in mutations:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    payload = gzip.compress(bytes(data)) if compress == "gzip" else bytes(data)
    path = tmp_path / "fuzz"
    path.write_bytes(payload)
    events, _error = read_all(path)
    _check(events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(SMALL_FILES),
    mutations=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_compressed_bytes_never_crash(tmp_path: Path, name: str, mutations) -> None:
    data = bytearray(require_data(MRT_DIR / name).read_bytes())
    for where, value in mutations:
        data[int(where * len(data))] = value
    path = tmp_path / "fuzz"
    path.write_bytes(bytes(data))
    events, _error = read_all(path)
    _check(events)
