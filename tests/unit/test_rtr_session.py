"""The RTR state machine, driven with PDUs and a stepped clock (no socket)."""

from __future__ import annotations

import ipaddress
import struct

from routewatch.rpki.rtr_pdu import (
    CacheReset,
    CacheResponse,
    EndOfData,
    ErrorReport,
    Pdu,
    PduReader,
    PrefixPdu,
    ResetQuery,
    RtrErrorCode,
    SerialNotify,
    SerialQuery,
    encode_pdu,
)
from routewatch.rpki.rtr_session import RtrPhase, RtrSession, RtrStep
from routewatch.rpki.vrp import Vrp

A = Vrp(ipaddress.ip_network("192.0.2.0/24"), 24, 64496)
B = Vrp(ipaddress.ip_network("2001:db8::/32"), 48, 64497)
C = Vrp(ipaddress.ip_network("198.51.100.0/24"), 24, 64498)


def wire(*pdus: Pdu) -> bytes:
    return b"".join(encode_pdu(p) for p in pdus)


def sent(step: RtrStep) -> list[Pdu]:
    pdus, error = PduReader().feed(step.send)
    assert error is None
    return pdus


def loaded(session_id: int = 7, serial: int = 1, now: float = 0.0) -> RtrSession:
    session = RtrSession()
    assert sent(session.connected(now)) == [ResetQuery(1)]
    step = session.receive(
        wire(CacheResponse(1, session_id), PrefixPdu(1, True, A), PrefixPdu(1, True, B),
             EndOfData(1, session_id, serial, 900, 60, 1800)), now,
    )
    assert step == RtrStep()
    return session


def test_full_load_commits_at_end_of_data_and_takes_the_timers() -> None:
    session = RtrSession()
    session.connected(0.0)
    session.receive(wire(CacheResponse(1, 7), PrefixPdu(1, True, A)), 1.0)
    assert session.vrps == frozenset() and session.stale(1.0)
    session.receive(wire(PrefixPdu(1, True, B), EndOfData(1, 7, 1, 900, 60, 1800)), 2.0)
    assert session.vrps == {A, B}
    assert (session.session_id, session.serial, session.last_update) == (7, 1, 2.0)
    assert (session.refresh, session.retry, session.expire) == (900, 60, 1800)
    assert session.deadline == 902.0 and session.counters.full_loads == 1


def test_refresh_timer_sends_a_serial_query_and_applies_the_delta() -> None:
    session = loaded()
    assert session.tick(100.0) == RtrStep()
    assert sent(session.tick(900.0)) == [SerialQuery(1, 7, 1)]
    session.receive(wire(CacheResponse(1, 7), PrefixPdu(1, False, A), PrefixPdu(1, True, C),
                         EndOfData(1, 7, 2, 900, 60, 1800)), 901.0)
    assert session.vrps == {B, C} and session.serial == 2
    assert session.counters.incremental_updates == 1


def test_serial_notify_asks_at_once() -> None:
    session = loaded()
    assert sent(session.receive(wire(SerialNotify(1, 7, 2)), 5.0)) == [SerialQuery(1, 7, 1)]
    assert session.phase is RtrPhase.QUERYING


def test_cache_reset_sends_a_reset_query_and_keeps_the_set_until_the_new_one() -> None:
    session = loaded()
    session.tick(900.0)
    assert sent(session.receive(wire(CacheReset(1)), 901.0)) == [ResetQuery(1)]
    assert session.vrps == {A, B}
    session.receive(wire(CacheResponse(1, 7), PrefixPdu(1, True, C), EndOfData(1, 7, 5, 900, 60, 1800)), 902.0)
    assert session.vrps == {C} and session.counters.cache_resets == 1


def test_a_new_session_id_drops_the_connection_then_reloads_in_full() -> None:
    session = loaded()
    session.tick(900.0)
    step = session.receive(wire(CacheResponse(1, 8)), 901.0)
    assert step.close and "session id changed" in step.reason
    assert session.vrps == {A, B}
    session.disconnected()
    assert sent(session.connected(902.0)) == [ResetQuery(1)]
    session.receive(wire(CacheResponse(1, 8), PrefixPdu(1, True, C), EndOfData(1, 8, 1, 900, 60, 1800)), 903.0)
    assert session.vrps == {C} and session.session_id == 8 and session.counters.session_changes == 1


def test_reconnecting_with_a_known_session_uses_a_serial_query() -> None:
    session = loaded()
    session.disconnected()
    assert sent(session.connected(10.0)) == [SerialQuery(1, 7, 1)]


def test_a_serial_query_the_cache_closes_on_unanswered_is_followed_by_a_reset_query() -> None:
    """A restarted StayRTR closes on a Serial Query under the old session id, sending nothing."""
    session = loaded()
    session.disconnected()
    assert sent(session.connected(10.0)) == [SerialQuery(1, 7, 1)]
    session.disconnected()
    assert sent(session.connected(20.0)) == [ResetQuery(1)]
    session.receive(wire(CacheResponse(1, 9), PrefixPdu(1, True, C), EndOfData(1, 9, 0, 900, 60, 1800)), 21.0)
    assert session.vrps == {C} and session.session_id == 9 and session.counters.session_changes == 1
    session.disconnected()
    assert sent(session.connected(30.0)) == [SerialQuery(1, 9, 0)]


def test_withdrawal_of_an_unknown_record_is_reported_and_the_last_set_kept() -> None:
    session = loaded()
    session.tick(900.0)
    step = session.receive(wire(CacheResponse(1, 7), PrefixPdu(1, False, C)), 901.0)
    assert step.close
    (report,) = sent(step)
    assert isinstance(report, ErrorReport) and report.code == RtrErrorCode.WITHDRAWAL_OF_UNKNOWN_RECORD
    assert session.vrps == {A, B} and session.serial == 1


def test_duplicate_announcement_is_reported() -> None:
    session = RtrSession()
    session.connected(0.0)
    step = session.receive(wire(CacheResponse(1, 7), PrefixPdu(1, True, A), PrefixPdu(1, True, A)), 1.0)
    (report,) = sent(step)
    assert step.close and isinstance(report, ErrorReport) and report.code == RtrErrorCode.DUPLICATE_ANNOUNCEMENT


def test_corrupt_input_is_counted_reported_with_the_pdu_and_closes() -> None:
    session = loaded()
    bad = struct.pack("!BBHI", 1, 2, 0, 2**32 - 1)
    step = session.receive(bad, 5.0)
    (report,) = sent(step)
    assert step.close and isinstance(report, ErrorReport)
    assert report.code == RtrErrorCode.CORRUPT_DATA and report.pdu == bad
    assert session.counters.malformed == 1 and session.vrps == {A, B}


def test_unknown_pdu_type_is_reported_as_unsupported() -> None:
    session = loaded()
    step = session.receive(struct.pack("!BBHI", 1, 42, 0, 8), 5.0)
    (report,) = sent(step)
    assert isinstance(report, ErrorReport) and report.code == RtrErrorCode.UNSUPPORTED_PDU_TYPE


def test_an_error_report_is_never_answered_with_one() -> None:
    session = loaded()
    bad_report = struct.pack("!BBHI", 1, 10, 0, 12) + b"\0\0\0\x09"
    step = session.receive(bad_report, 5.0)
    assert step.close and step.send == b""


def test_a_received_error_report_closes_and_keeps_the_set() -> None:
    session = loaded()
    step = session.receive(wire(ErrorReport(1, RtrErrorCode.INTERNAL_ERROR, b"", "oops")), 5.0)
    assert step.close and "oops" in step.reason and step.send == b""
    assert session.vrps == {A, B} and session.counters.errors_received == 1
    session.disconnected()
    assert sent(session.connected(6.0)) == [ResetQuery(1)]


def test_no_data_available_waits_the_retry_interval() -> None:
    session = RtrSession(retry=30)
    session.connected(0.0)
    step = session.receive(wire(ErrorReport(1, RtrErrorCode.NO_DATA_AVAILABLE, b"", "")), 1.0)
    assert step == RtrStep() and session.deadline == 31.0
    assert sent(session.tick(31.0)) == [ResetQuery(1)]


def test_a_version_0_cache_makes_the_router_fall_back() -> None:
    session = RtrSession()
    session.connected(0.0)
    step = session.receive(wire(ErrorReport(0, RtrErrorCode.UNSUPPORTED_PROTOCOL_VERSION, b"", "v0 only")), 1.0)
    assert step.close and step.at_once and session.version == 0
    session.disconnected()
    assert sent(session.connected(1.0)) == [ResetQuery(0)]
    session.receive(wire(CacheResponse(0, 3), PrefixPdu(0, True, A), EndOfData(0, 3, 1)), 2.0)
    assert session.vrps == {A} and session.refresh == 3600


def test_a_version_change_after_negotiation_is_unexpected() -> None:
    session = loaded()
    step = session.receive(wire(SerialNotify(0, 7, 2)), 5.0)
    (report,) = sent(step)
    assert isinstance(report, ErrorReport) and report.code == RtrErrorCode.UNEXPECTED_PROTOCOL_VERSION


def test_no_answer_within_the_retry_interval_closes() -> None:
    session = loaded()
    session.tick(900.0)
    step = session.tick(960.0)
    assert step.close and session.counters.timeouts == 1


def test_the_set_goes_stale_after_expire_without_an_update() -> None:
    session = loaded()
    assert not session.stale(1800.0)
    assert session.stale(1800.1)
