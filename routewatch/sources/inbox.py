"""The bounded buffer between a live socket and the core, counted in messages.

RIS Live closes consumers that fall behind, so the socket side must never wait
for the core: it puts in everything one socket read brought, and what does
not fit is cut off, dropped and counted by the caller. The core side takes
batches of up to a given number of messages. Each read is kept as one chunk
with its receipt times, so putting a few hundred messages costs one append.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chunk:
    """Messages that came off the socket together: ``receipt`` is ``time.perf_counter()``, ``wall`` the clock."""

    receipt: float
    wall: float
    messages: list[bytes]


class Inbox:
    """A bounded queue of messages, stored as chunks; single producer, single consumer, one event loop."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._chunks: deque[Chunk] = deque()
        self._size = 0
        self._ready = asyncio.Event()

    def put(self, receipt: float, wall: float, messages: list[bytes]) -> int:
        """Keep what fits; returns how many messages were dropped."""
        room = self.capacity - self._size
        dropped = max(0, len(messages) - room)
        if dropped:
            messages = messages[:room]
        if messages:
            self._chunks.append(Chunk(receipt, wall, messages))
            self._size += len(messages)
            self._ready.set()
        return dropped

    def take(self, limit: int) -> list[Chunk]:
        """Up to ``limit`` messages, oldest first, without waiting."""
        taken: list[Chunk] = []
        chunks = self._chunks
        while chunks and limit > 0:
            chunk = chunks[0]
            if len(chunk.messages) <= limit:
                chunks.popleft()
            else:
                chunks[0] = Chunk(chunk.receipt, chunk.wall, chunk.messages[limit:])
                chunk = Chunk(chunk.receipt, chunk.wall, chunk.messages[:limit])
            taken.append(chunk)
            limit -= len(chunk.messages)
            self._size -= len(chunk.messages)
        if not chunks:
            self._ready.clear()
        return taken

    async def wait(self) -> None:
        """Return once there is something to take."""
        await self._ready.wait()

    def empty(self) -> bool:
        return not self._size
