"""MRT record framing: decompress a file and cut it into records.

The format is detected from magic bytes (gzip, bzip2, or plain), never from the
file name, because archive mirrors rename files freely. Framing damage (a
corrupt compressed stream, a file ending inside a record, an impossible record
length) cannot be skipped safely: every complete record before it is handed
out, then :class:`~routewatch.errors.MrtDecodeError` names the byte offset of
the first bad record in the decompressed stream. A file with no record at all
(empty, or unreadable from its first byte) is an error too, never "0 records".
"""

from __future__ import annotations

import bz2
import gzip
import os
import struct
from collections.abc import Iterator
from io import BufferedIOBase

from routewatch.errors import MrtDecodeError, SourceError

HEADER = struct.Struct(">IHHI")
HEADER_SIZE = HEADER.size
#: No real MRT record comes near this (a full-table TABLE_DUMP_V2 record for one
#: prefix with a thousand peers is well under 1 MiB); a larger length means the
#: framing is corrupt, and trusting it would read the rest of the file as one record.
MAX_RECORD_LENGTH = 16 * 1024 * 1024
CHUNK_SIZE = 1 << 20

#: (offset of the record in the decompressed stream, buffer, body start, body end,
#: timestamp, MRT type, MRT subtype). The body is left in the shared buffer so
#: that decoding needs no copy.
Record = tuple[int, bytes, int, int, int, int, int]


def open_mrt(path: str | os.PathLike[str]) -> BufferedIOBase:
    """A binary stream of the decompressed file, chosen by its magic bytes."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - handed to the caller, closed there
    except OSError as exc:
        raise SourceError("mrt", f"{os.fspath(path)}: cannot open: {exc.strerror or exc}") from exc
    magic = raw.read(3)
    raw.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic == b"BZh":
        return bz2.BZ2File(raw, mode="rb")
    return raw


def iter_records(stream: BufferedIOBase, path: str, counter: list[int]) -> Iterator[Record]:
    """Every complete record of ``stream``, then MrtDecodeError if it ends badly.

    ``counter[0]`` is advanced by the number of decompressed bytes consumed, so
    the caller's statistics stay right even when it stops early.
    """
    data = b""
    base = 0  # stream offset of data[0]
    failure: str | None = None
    eof = False
    while not eof:
        chunk, eof, failure = _read_chunk(stream)
        pos = 0
        data = data + chunk if data else chunk
        end = len(data)
        while pos + HEADER_SIZE <= end:
            ts, mrt_type, subtype, length = HEADER.unpack_from(data, pos)
            if length > MAX_RECORD_LENGTH:
                raise MrtDecodeError(path, base + pos, f"impossible record length {length}")
            body_end = pos + HEADER_SIZE + length
            if body_end > end:
                break
            counter[0] += HEADER_SIZE + length
            yield base + pos, data, pos + HEADER_SIZE, body_end, ts, mrt_type, subtype
            pos = body_end
        data = data[pos:]
        base += pos
    if failure is not None:
        raise MrtDecodeError(path, base, failure)
    if data:
        raise MrtDecodeError(path, base, f"file ends inside a record ({len(data)} bytes of an incomplete record)")
    if base == 0:
        raise MrtDecodeError(path, 0, "no MRT record: the file is empty")


def first_header(stream: BufferedIOBase) -> tuple[int, int, int, int] | None:
    """The header of the stream's first record, or None when it cannot be read.

    Reads by decompression steps, as :func:`iter_records` does, so that a
    stream corrupt further on still shows its first record; a stream corrupt
    from the start gives None here, and :func:`iter_records` reports where.
    """
    head = b""
    while len(head) < HEADER_SIZE:
        try:
            part = stream.read1(HEADER_SIZE - len(head))
        except Exception:  # noqa: BLE001 - any decompressor failure: the reader reports it with its offset
            return None
        if not part:
            return None
        head += part
    ts, mrt_type, subtype, length = HEADER.unpack_from(head)
    return ts, mrt_type, subtype, length


def _read_chunk(stream: BufferedIOBase) -> tuple[bytes, bool, str | None]:
    """About CHUNK_SIZE decompressed bytes: (data, end of stream, failure message).

    ``read1`` returns what one decompression step produced, so that the data
    decoded before a corrupt or cut-short compressed stream is kept rather than
    dropped with the exception (``read`` of a large size would discard it).
    """
    parts: list[bytes] = []
    size = 0
    while size < CHUNK_SIZE:
        try:
            part = stream.read1(CHUNK_SIZE)
        except Exception as exc:  # noqa: BLE001 - any decompressor failure is framing damage
            return b"".join(parts), True, f"corrupt compressed stream: {exc or type(exc).__name__}"
        if not part:
            return b"".join(parts), True, None
        parts.append(part)
        size += len(part)
    return b"".join(parts), False, None
