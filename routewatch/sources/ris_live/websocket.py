"""A websockets client connection that hands over all the messages one socket read brings, in one call.

websockets' ``recv()`` delivers one message per await: with a client that
does nothing else that machinery costs 11-15 us a message on the benchmark
machine, a third of what parsing and the core cost together.
:class:`BatchingConnection` is a ``ClientConnection`` (the library's own
extension point: ``connect(..., create_connection=...)``), so connecting,
proxies, redirects, TLS, keepalive pings, size limits and the closing
handshake all stay the library's; only the data frames take another way. Each
socket read's complete messages are collected as its frames are parsed and
handed over in one list when the read is done (8-10 us a message).

``process_event`` and ``data_received`` are websockets internals, not its
public API, so pyproject.toml pins the range this is tested with (17.4 up to,
not including, 18): 13.1, 15.0.1, 16.0 and 17.0, tried, lack the ``close_exc``
the client reads, and a new major version may change the internals. Widen the pin only after the RIS
Live tests pass on the new version.

Messages are handed over as the bytes off the wire; whoever parses them
(orjson) checks the UTF-8, so the text is never decoded twice. A message that
is not valid UTF-8 is therefore the parser's malformed message, not a reason
to close the connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

#: Called with every complete message of one socket read, in order.
OnMessages = Callable[[list[bytes]], None]

_DATA = (Opcode.TEXT, Opcode.BINARY)


class BatchingConnection(ClientConnection):
    """Data frames are assembled here and delivered per socket read to the callback given to :meth:`deliver_to`.

    ``recv()`` and ``async for`` get nothing on this connection. Messages that
    arrive before :meth:`deliver_to` (in the same read as the handshake
    response) wait for it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deliver: OnMessages | None = None
        self._batch: list[bytes] = []
        self._fragments: list[bytes] | None = None

    def deliver_to(self, on_messages: OnMessages) -> None:
        self._deliver = on_messages
        self._hand_over()

    def process_event(self, event: Event) -> None:
        if isinstance(event, Frame) and self.response is not None:
            opcode = event.opcode
            if opcode in _DATA:
                if event.fin:
                    self._batch.append(bytes(event.data))
                else:
                    self._fragments = [bytes(event.data)]
                return
            if opcode is Opcode.CONT:
                if self._fragments is not None:
                    self._fragments.append(bytes(event.data))
                    if event.fin:
                        self._batch.append(b"".join(self._fragments))
                        self._fragments = None
                return
        super().process_event(event)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._hand_over()

    def _hand_over(self) -> None:
        if self._batch and self._deliver is not None:
            batch, self._batch = self._batch, []
            self._deliver(batch)
