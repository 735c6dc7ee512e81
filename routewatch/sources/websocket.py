"""A websocket client connection that hands over all the messages one socket read brings, in one call.

websockets' asyncio client delivers one message per ``await recv()``: on the
RIS Live benchmark that machinery costs ~14 us a message, as much as the
route core. This module drives the same library's sans-I/O ``ClientProtocol``
(opening handshake, framing, size limit, automatic pongs, closing handshake)
from an asyncio ``Protocol`` instead, so a socket read carrying a few hundred
messages costs one callback and one list: ~7 us a message.

Text messages are handed over as the UTF-8 bytes off the wire; whoever parses
them (orjson) checks the encoding, so the text is never decoded twice.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidState
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

#: Called with every complete message of one socket read, in order.
OnMessages = Callable[[list[bytes]], None]

_DATA = (Opcode.TEXT, Opcode.BINARY)


class MessageSocket(asyncio.Protocol):
    """One websocket connection; open it with :func:`open_socket`."""

    def __init__(self, protocol: ClientProtocol, on_messages: OnMessages, close_timeout: float) -> None:
        self.protocol = protocol
        self.on_messages = on_messages
        self.close_timeout = close_timeout
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._fragments: list[bytes] | None = None
        self._pongs: dict[bytes, asyncio.Future[None]] = {}
        self._close_timer: asyncio.TimerHandle | None = None

    # -- asyncio callbacks ----------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self._handle_events()

    def eof_received(self) -> None:
        self.protocol.receive_eof()
        self._handle_events()

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.receive_eof()  # idempotent: the connection is CLOSED from here on
        if self._close_timer is not None:
            self._close_timer.cancel()
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost during the opening handshake: {exc}"))
        for waiter in self._pongs.values():
            waiter.cancel()
        self._pongs.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    # -- what the owner calls -------------------------------------------------------------------------------------

    @property
    def close_exc(self) -> ConnectionClosed:
        """Why the connection closed (codes sent and received); only once :attr:`closed` is done."""
        return self.protocol.close_exc

    def send_text(self, text: str) -> None:
        """Send one text message; raises ConnectionClosed once the connection is closing."""
        try:
            self.protocol.send_text(text.encode())
        except InvalidState:
            raise self._closing_exc() from None
        self._flush()

    async def ping(self, timeout: float) -> bool:
        """A websocket ping; True when its pong came back within ``timeout`` seconds."""
        payload = str(id(object())).encode()
        waiter = asyncio.get_running_loop().create_future()
        self._pongs[payload] = waiter
        try:
            self.protocol.send_ping(payload)
        except InvalidState:
            self._pongs.pop(payload, None)
            raise self._closing_exc() from None
        self._flush()
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._pongs.pop(payload, None)
        return True

    def fail(self, code: int, reason: str) -> None:
        """Close at once with ``code`` (a keepalive timeout: the peer is not answering)."""
        if self.protocol.state is State.OPEN:
            self.protocol.fail(code, reason)
            self._flush()
        self._abort_later(0.0)

    async def close(self) -> None:
        """The closing handshake, bounded by ``close_timeout``; the TCP connection is gone afterwards."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(CloseCode.NORMAL_CLOSURE)
            self._flush()
            self._abort_later(self.close_timeout)
        elif not self.closed.done():
            self._abort_later(0.0)
        await asyncio.shield(self.closed)

    # -- internals ------------------------------------------------------------------------------------------------

    def _handle_events(self) -> None:
        events = self.protocol.events_received()
        self._flush()  # automatic pongs and close replies
        if self.protocol.close_expected():
            self._abort_later(self.close_timeout)
        messages: list[bytes] = []
        for event in events:
            if not isinstance(event, Frame):  # the handshake response
                if not self.opened.done():
                    failure = self.protocol.handshake_exc
                    if failure is None:
                        self.opened.set_result(None)
                    else:
                        self.opened.set_exception(failure)
                continue
            opcode = event.opcode
            if opcode in _DATA:
                if event.fin:
                    messages.append(bytes(event.data))
                else:
                    self._fragments = [bytes(event.data)]
            elif opcode is Opcode.CONT and self._fragments is not None:
                self._fragments.append(bytes(event.data))
                if event.fin:
                    messages.append(b"".join(self._fragments))
                    self._fragments = None
            elif opcode is Opcode.PONG:
                waiter = self._pongs.pop(bytes(event.data), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
        if messages:
            self.on_messages(messages)

    def _flush(self) -> None:
        transport = self._transport
        if transport is None:
            return
        for data in self.protocol.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                transport.write_eof()
            else:
                transport.close()

    def _abort_later(self, delay: float) -> None:
        """Drop the TCP connection if the peer has not closed it within ``delay`` seconds."""
        transport = self._transport
        if transport is None or self._close_timer is not None:
            return
        self._close_timer = asyncio.get_running_loop().call_later(delay, transport.abort)

    def _closing_exc(self) -> ConnectionClosed:
        return ConnectionClosed(self.protocol.close_rcvd, self.protocol.close_sent, self.protocol.close_rcvd_then_sent)


async def open_socket(url: str, on_messages: OnMessages, *, max_size: int, open_timeout: float,
                      close_timeout: float) -> MessageSocket:
    """Connect and complete the opening handshake, or raise (OSError, TimeoutError, InvalidHandshake, InvalidURI)."""
    uri = parse_uri(url)
    loop = asyncio.get_running_loop()
    protocol = ClientProtocol(uri, max_size=max_size)
    context = ssl.create_default_context() if uri.secure else None
    transport, socket = await asyncio.wait_for(
        loop.create_connection(lambda: MessageSocket(protocol, on_messages, close_timeout), uri.host, uri.port,
                               ssl=context, server_hostname=uri.host if context else None),
        open_timeout)
    try:
        await asyncio.wait_for(asyncio.shield(socket.opened), open_timeout)
    except BaseException:
        socket.opened.add_done_callback(_consume)
        transport.abort()
        raise
    return socket


def _consume(future: asyncio.Future[None]) -> None:
    """Read a failed opening that nobody waits for any more, so asyncio does not report it as lost."""
    if not future.cancelled():
        future.exception()
