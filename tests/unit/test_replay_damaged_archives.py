"""Damaged archives in ``routewatch replay``: located, counted errors; the other files keep their results.

Real files from the shared data are damaged here, the way a bad disk or a cut
download damages them: bit flips inside the compressed stream, an empty file, a
file of garbage, a RIB record whose entry count lies.
"""

from __future__ import annotations

import bz2
import gzip
import io
import random
import struct
import zlib
from pathlib import Path

import yaml
from click.testing import CliRunner

from routewatch.cli import main
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
from routewatch.sources.mrt.reader import MrtStats, read_mrt
from routewatch.tools.replay import replay_files
from tests.support.tools import MRT_DIR, require_data

UPDATES = "ris.rrc06.updates.1427846400.gz"
OTHER = "routeviews.route-views.jinx.updates.1401493500.bz2"


def config(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"prefixes": [{"prefix": "193.0.0.0/21", "asn": 3333}]}))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def flipped(tmp_path: Path, name: str, position: int, bit: int) -> Path:
    data = bytearray(require_data(MRT_DIR / name).read_bytes())
    data[position] ^= 1 << bit
    path = tmp_path / f"flip-{position}-{bit}.gz"
    path.write_bytes(bytes(data))
    return path


def monitor(tmp_path: Path) -> Engine:
    from routewatch.config.schema import load_config

    return build_engine(load_config(config(tmp_path)))


def test_bit_flips_in_the_first_kilobytes_never_escape_and_the_good_file_keeps_its_results(tmp_path: Path) -> None:
    good = require_data(MRT_DIR / OTHER)
    alone = replay_files(monitor(tmp_path), [str(good)])
    whole = replay_files(monitor(tmp_path), [str(require_data(MRT_DIR / UPDATES))])
    rng = random.Random(18)
    crashed_before = 0
    for _ in range(60):
        position, bit = rng.randrange(20, 1500), rng.randrange(8)
        damaged = flipped(tmp_path, UPDATES, position, bit)
        try:
            gzip.GzipFile(fileobj=io.BytesIO(damaged.read_bytes())).read(12)
        except zlib.error:
            crashed_before += 1  # the damage that escaped as an uncaught zlib.error
        except (OSError, EOFError):
            pass
        report = replay_files(monitor(tmp_path), [str(damaged), str(good)])
        assert report.stats[str(good)] == alone.stats[str(good)]
        assert report.exit_code() in (0, 1)
        if report.exit_code() == 0:  # a flip the format cannot see (a gzip header field): every record read
            assert report.stats[str(damaged)] == whole.stats[str(require_data(MRT_DIR / UPDATES))]
        damaged.unlink()
    assert crashed_before >= 10


def test_a_corrupt_stream_is_located_and_exits_1_with_counts(tmp_path: Path) -> None:
    damaged = flipped(tmp_path, UPDATES, 77, 4)
    code, err = run("replay", "-c", str(config(tmp_path)), str(damaged), str(MRT_DIR / OTHER))
    assert code == 1, err
    assert f"{damaged}: byte offset" in err
    assert "damaged input: 1 of 2 file(s) damaged" in err


def test_an_empty_file_is_an_error_not_zero_elements(tmp_path: Path) -> None:
    empty = tmp_path / "rrc00.updates.empty.gz"
    empty.write_bytes(b"")
    code, err = run("replay", "-c", str(config(tmp_path)), str(empty))
    assert code == 2, err
    assert f"{empty}: byte offset 0: no MRT record: the file is empty" in err
    code, err = run("replay", "-c", str(config(tmp_path)), str(empty), str(MRT_DIR / OTHER))
    assert code == 1, err
    assert "1 unreadable" in err


def test_files_that_are_not_mrt_at_all_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("this is not an archive\n" * 50)
    packed = tmp_path / "random.gz"
    packed.write_bytes(gzip.compress(random.Random(1).randbytes(5000)))
    empty_gzip = tmp_path / "empty.bz2"
    empty_gzip.write_bytes(bz2.compress(b""))
    code, err = run("replay", "-c", str(config(tmp_path)), str(text), str(packed), str(empty_gzip))
    assert code == 2, err
    for path in (text, packed, empty_gzip):
        assert f"error: mrt: {path}: byte offset 0" in err
    assert "3 unreadable" in err


def test_malformed_record_bodies_finish_with_exit_1_and_their_count(tmp_path: Path) -> None:
    data = bytearray(gzip.decompress(require_data(MRT_DIR / UPDATES).read_bytes()))
    pos, damaged = 0, 0
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos + 8)
        mrt_type, subtype = struct.unpack_from(">HH", data, pos + 4)
        if damaged < 5 and (mrt_type, subtype) == (16, 4) and struct.unpack_from(">H", data, pos + 22)[0] == 1:
            struct.pack_into(">H", data, pos + 12 + 20 + 16, 4000)  # BGP4MP AS4 IPv4: the BGP message length
            damaged += 1
        pos += 12 + length
    path = tmp_path / "rrc06.bodies.gz"
    path.write_bytes(gzip.compress(bytes(data)))
    code, err = run("replay", "-c", str(config(tmp_path)), str(path))
    assert code == 1, err
    assert "5 malformed record(s) skipped" in err


def rib_records(data: bytes) -> list[tuple[int, int]]:
    """(offset, subtype) of every record."""
    out, pos = [], 0
    while pos < len(data):
        _, _, subtype, length = struct.unpack_from(">IHHI", data, pos)
        out.append((pos, subtype))
        pos += 12 + length
    return out


def test_element_counts_are_real_elements(tmp_path: Path) -> None:
    name = "bview.ipv4_unicast_add_path.gz"
    data = bytearray(gzip.decompress(require_data(MRT_DIR / name).read_bytes()))
    whole = MrtStats()
    list(read_mrt(MRT_DIR / name, collector="c", stats=whole))
    offset = next(pos for pos, subtype in rib_records(bytes(data)) if subtype == 8)
    count_at = offset + 12 + 4 + 1 + (data[offset + 12 + 4] + 7) // 8  # sequence, length, prefix bytes
    (entries,) = struct.unpack_from(">H", data, count_at)
    struct.pack_into(">H", data, count_at, 0xFFFF)
    path = tmp_path / "rib"
    path.write_bytes(bytes(data))
    for accept in (None, lambda *_: False):  # the filtered path must not trust the count either
        stats = MrtStats()
        list(read_mrt(path, collector="c", stats=stats, prefix_filter=accept))
        assert stats.malformed == 1
        assert stats.elements == whole.elements - entries
