"""The RTR router-side state machine, sans I/O (in the manner of dnspython's ``_Resolution``).

The socket layer hands it bytes, connection events and the time; it answers
with bytes to send and whether to close. Everything the RFCs ask of a router
is here, so it is tested without a socket:

- a new connection sends a Reset Query, or a Serial Query when a session id and
  serial are known (RFC 8210 5.4/5.3);
- a Serial Notify, and the refresh timer after an End of Data, send a Serial
  Query; a Cache Reset sends a Reset Query (5.2, 5.9, 6);
- a Cache Response opens a transaction of Prefix PDUs that End of Data commits;
  a withdrawal of an unknown record or a duplicate announcement is a fatal
  error (codes 6 and 7), a malformed PDU is Corrupt Data or Unsupported PDU
  Type: an Error Report is sent (never in answer to one) and the connection
  closed (5.11, 8);
- a cache that speaks only version 0 answers with an Unsupported Protocol
  Version error, and the router reconnects speaking version 0 (7);
- a Cache Response under another session id, or an Error Report answering a
  Serial Query, or a close with no answer to it (what StayRTR does on a session
  id mismatch), means the cache restarted or lost track: the next connection
  starts with a Reset Query.

Through all of it the last committed set is kept: a failed or aborted transaction
never empties it. It becomes ``stale`` once the expire interval passes without
a successful End of Data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from routewatch.rpki.rtr_pdu import (
    CacheReset,
    CacheResponse,
    EndOfData,
    ErrorReport,
    Pdu,
    PduReader,
    PrefixPdu,
    ResetQuery,
    RouterKey,
    RtrErrorCode,
    SerialNotify,
    SerialQuery,
    encode_pdu,
)
from routewatch.rpki.vrp import VrpSet

DEFAULT_REFRESH = 3600
DEFAULT_RETRY = 600
DEFAULT_EXPIRE = 7200


class RtrPhase(StrEnum):
    DISCONNECTED = "disconnected"
    QUERYING = "querying"
    RECEIVING = "receiving"
    IDLE = "idle"


@dataclass(frozen=True, slots=True)
class RtrStep:
    """What the socket layer must do: send ``send``, then close when ``close``.

    After a close it reconnects after a back-off, or ``at_once`` after a protocol version fallback.
    """

    send: bytes = b""
    close: bool = False
    reason: str = ""
    at_once: bool = False


@dataclass(slots=True)
class RtrCounters:
    """Bad input and protocol events, counted for metrics (never fatal to the process)."""

    malformed: int = 0
    errors_received: int = 0
    errors_sent: int = 0
    cache_resets: int = 0
    session_changes: int = 0
    full_loads: int = 0
    incremental_updates: int = 0
    timeouts: int = 0


@dataclass(slots=True)
class _Transaction:
    session_id: int
    work: set[int]
    """The set being built, packed (an RTR VRP has no expiry, so its packed form is its identity)."""


@dataclass(slots=True)
class RtrSession:
    """One router's view of one cache; ``vrps`` is the last committed set."""

    version: int = 1
    refresh: float = DEFAULT_REFRESH
    retry: float = DEFAULT_RETRY
    expire: float = DEFAULT_EXPIRE
    vrps: VrpSet = field(default_factory=VrpSet)
    session_id: int | None = None
    serial: int | None = None
    last_update: float | None = None
    phase: RtrPhase = RtrPhase.DISCONNECTED
    counters: RtrCounters = field(default_factory=RtrCounters)
    _reader: PduReader = field(default_factory=PduReader)
    _transaction: _Transaction | None = None
    _next_query: float | None = None
    _query_deadline: float | None = None
    _negotiated: bool = False
    _resetting: bool = False

    def stale(self, now: float) -> bool:
        """No set yet, or none committed within the expire interval."""
        return self.last_update is None or now - self.last_update > self.expire

    @property
    def deadline(self) -> float | None:
        """When :meth:`tick` has something to do."""
        if self.phase is RtrPhase.IDLE:
            return self._next_query
        if self.phase in (RtrPhase.QUERYING, RtrPhase.RECEIVING):
            return self._query_deadline
        return None

    def connected(self, now: float) -> RtrStep:
        self._reader = PduReader()
        self._transaction = None
        return self._query(now)

    def disconnected(self) -> None:
        if self.phase is RtrPhase.QUERYING:
            # A query the cache closed on without answering: a cache restarted under a new session id
            # may do just that to our Serial Query (StayRTR does, with no Error Report), and would do it
            # again on every reconnection; the next connection starts over with a Reset Query.
            self._resetting = True
        self.phase = RtrPhase.DISCONNECTED
        self._transaction = None
        self._next_query = self._query_deadline = None

    def tick(self, now: float) -> RtrStep:
        deadline = self.deadline
        if deadline is None or now < deadline:
            return RtrStep()
        if self.phase is RtrPhase.IDLE:
            return self._query(now)
        self.counters.timeouts += 1
        return self._fail("no answer from the cache within the retry interval")

    def receive(self, data: bytes, now: float) -> RtrStep:
        pdus, error = self._reader.feed(data)
        sent = bytearray()
        for pdu in pdus:
            step = self._handle(pdu, now)
            sent += step.send
            if step.close:
                return replace(step, send=bytes(sent))
        if error is not None:
            self.counters.malformed += 1
            step = self._report(error.code, str(error), error.pdu, answering_error=error.pdu[1:2] == b"\x0a")
            return RtrStep(bytes(sent) + step.send, True, step.reason)
        return RtrStep(bytes(sent))

    def _query(self, now: float) -> RtrStep:
        self.phase = RtrPhase.QUERYING
        self._query_deadline = now + self.retry
        self._next_query = None
        if self.session_id is None or self.serial is None or self._resetting:
            self._resetting = True
            return RtrStep(encode_pdu(ResetQuery(self.version)))
        return RtrStep(encode_pdu(SerialQuery(self.version, self.session_id, self.serial)))

    def _fail(self, reason: str) -> RtrStep:
        self._transaction = None
        return RtrStep(b"", True, reason)

    def _report(self, code: RtrErrorCode, text: str, pdu: bytes = b"", *, answering_error: bool = False) -> RtrStep:
        """Send an Error Report (never in answer to one) and close."""
        self._transaction = None
        if answering_error:
            return RtrStep(b"", True, text)
        self.counters.errors_sent += 1
        return RtrStep(encode_pdu(ErrorReport(self.version, code, pdu[:1024], text)), True, text)

    def _handle(self, pdu: Pdu, now: float) -> RtrStep:
        if pdu.version != self.version:
            return self._other_version(pdu)
        self._negotiated = True
        match pdu:
            case SerialNotify():
                if self.phase is RtrPhase.IDLE:
                    if pdu.session_id != self.session_id:
                        self._resetting = True
                    return self._query(now)
                return RtrStep()
            case CacheResponse():
                return self._open(pdu)
            case PrefixPdu():
                return self._prefix(pdu)
            case EndOfData():
                return self._commit(pdu, now)
            case CacheReset():
                self.counters.cache_resets += 1
                self._transaction = None
                self._resetting = True
                return self._query(now)
            case ErrorReport():
                return self._error(pdu, now)
            case RouterKey():
                return RtrStep()
        self.counters.malformed += 1
        return self._report(RtrErrorCode.INVALID_REQUEST, f"a router does not accept {type(pdu).__name__}")

    def _other_version(self, pdu: Pdu) -> RtrStep:
        if not self._negotiated and pdu.version < self.version:
            # RFC 8210 7: a version 0 cache answers our version 1 query in version 0; speak 0 from now on.
            self.version = pdu.version
            self._negotiated = True
            return RtrStep(b"", True, f"the cache speaks RTR version {pdu.version}; reconnecting with it", True)
        self.counters.malformed += 1
        return self._report(
            RtrErrorCode.UNEXPECTED_PROTOCOL_VERSION, f"version {pdu.version} PDU in a version {self.version} session",
            answering_error=isinstance(pdu, ErrorReport),
        )

    def _open(self, pdu: CacheResponse) -> RtrStep:
        if self.phase is not RtrPhase.QUERYING:
            self.counters.malformed += 1
            return self._report(RtrErrorCode.CORRUPT_DATA, "Cache Response without a query")
        if not self._resetting and pdu.session_id != self.session_id:
            self._resetting = True
            return self._fail(f"session id changed from {self.session_id} to {pdu.session_id}")
        work = set() if self._resetting else set(self.vrps.packed)
        self._transaction = _Transaction(pdu.session_id, work)
        self.phase = RtrPhase.RECEIVING
        return RtrStep()

    def _prefix(self, pdu: PrefixPdu) -> RtrStep:
        transaction = self._transaction
        if transaction is None:
            self.counters.malformed += 1
            return self._report(RtrErrorCode.CORRUPT_DATA, "Prefix PDU outside a Cache Response", encode_pdu(pdu))
        key = pdu.vrp.packed
        if pdu.announce:
            if key in transaction.work:
                self.counters.malformed += 1
                return self._report(RtrErrorCode.DUPLICATE_ANNOUNCEMENT, f"{pdu.vrp} announced twice", encode_pdu(pdu))
            transaction.work.add(key)
        elif key in transaction.work:
            transaction.work.remove(key)
        else:
            self.counters.malformed += 1
            return self._report(
                RtrErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD, f"{pdu.vrp} withdrawn but unknown", encode_pdu(pdu)
            )
        return RtrStep()

    def _commit(self, pdu: EndOfData, now: float) -> RtrStep:
        transaction = self._transaction
        if transaction is None or pdu.session_id != transaction.session_id:
            self.counters.malformed += 1
            return self._report(RtrErrorCode.CORRUPT_DATA, "End of Data outside its Cache Response", encode_pdu(pdu))
        if self._resetting:
            if self.session_id is not None and self.session_id != pdu.session_id:
                self.counters.session_changes += 1
            self.counters.full_loads += 1
        else:
            self.counters.incremental_updates += 1
        self.vrps = VrpSet.of_packed(transaction.work)
        self.session_id, self.serial, self.last_update = pdu.session_id, pdu.serial, now
        self._transaction, self._resetting = None, False
        if pdu.refresh:
            self.refresh, self.retry, self.expire = pdu.refresh, pdu.retry or self.retry, pdu.expire or self.expire
        self.phase = RtrPhase.IDLE
        self._next_query, self._query_deadline = now + self.refresh, None
        return RtrStep()

    def _error(self, pdu: ErrorReport, now: float) -> RtrStep:
        self.counters.errors_received += 1
        self._transaction = None
        if pdu.code == RtrErrorCode.NO_DATA_AVAILABLE:
            # Not fatal (RFC 8210 12): the cache has nothing yet; ask again after the retry interval.
            self.phase = RtrPhase.IDLE
            self._next_query = now + self.retry
            return RtrStep()
        if pdu.code == RtrErrorCode.UNSUPPORTED_PROTOCOL_VERSION and self.version > 0 and not self._negotiated:
            self.version -= 1
            return RtrStep(b"", True, f"the cache does not speak RTR version {self.version + 1}: {pdu.text}", True)
        # A cache that restarted answers our Serial Query with Corrupt Data ("session id mismatch", as
        # StayRTR does): whatever the error, the next connection starts over with a Reset Query.
        self._resetting = True
        return self._fail(f"the cache reported error {pdu.code}: {pdu.text}")
