"""Basic-auth failures are limited per client network, not only per address.

One IPv6 host holds a whole /64: limited per address, it could make every guess
from a fresh address, each with its own burst of bcrypt checks, and keep a
legitimate scrape waiting behind them.
"""

from __future__ import annotations

import base64

import bcrypt

from routewatch.exporter.auth import FAILURE_BURST, AuthVerdict, BasicAuth

PASSWORD = "s3cret-scrape"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4))


def header(password: str) -> str:
    return "Basic " + base64.b64encode(f"prometheus:{password}".encode()).decode()


def test_guesses_from_ever_new_addresses_of_one_ipv6_64_share_one_limit() -> None:
    auth = BasicAuth({"prometheus": HASH}, clock=lambda: 1000.0)
    verdicts = [auth.verdict(header(f"guess-{i}"), f"2001:db8:0:1::{i:x}") for i in range(50)]
    assert verdicts[:FAILURE_BURST] == [AuthVerdict.DENIED] * FAILURE_BURST
    assert set(verdicts[FAILURE_BURST:]) == {AuthVerdict.THROTTLED}
    assert auth.bcrypt_checks == FAILURE_BURST
    # another /64, and IPv4 addresses, each keep their own allowance; the right password is served anywhere
    assert auth.verdict(header("guess-x"), "2001:db8:0:2::1") is AuthVerdict.DENIED
    assert auth.verdict(header("guess-y"), "192.0.2.1") is AuthVerdict.DENIED
    assert auth.verdict(header("guess-z"), "192.0.2.2") is AuthVerdict.DENIED
    assert auth.verdict(header(PASSWORD), "2001:db8:0:3::1") is AuthVerdict.OK
