"""HTTP basic auth against bcrypt hashes: verified and refused credentials cached, failures rate-limited.

bcrypt is slow on purpose (tens of milliseconds at cost 10). Prometheus sends
the same credentials on every scrape, so a successful check is remembered,
keyed by a SHA-256 of user and password (never the password itself), and a
scrape costs one hash. A refused password is remembered the same way, so
trying it again costs one hash too. Checks that do need bcrypt run one at a
time, and each client address (an IPv6 client: its /64, which one host holds
whole) may fail only ``FAILURE_BURST`` times, then once per ``FAILURE_REFILL``
seconds: a client guessing passwords burns a bounded amount of CPU and cannot
keep a legitimate scrape waiting behind its guesses.
An unknown user costs the same as a wrong password (no user enumeration); a
password longer than bcrypt's 72 bytes cannot match any hash and is refused
without one.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

import bcrypt

CACHE_SIZE = 256
FAILURE_BURST = 5
FAILURE_REFILL = 10.0
"""Seconds for a client address to earn back one allowed failure."""
CLIENTS_TRACKED = 4096
"""Client addresses whose failures are remembered; the least recently failing are forgotten first."""
MAX_PASSWORD_BYTES = 72
# A hash of a random password nobody knows, so that an unknown user takes as long as a known one.
_DUMMY_HASH = b"$2b$10$0O7gSLmjHhmJeVvk2I/aQO3eE7WmwcjR79Ly3gc1C8D/jgz4SVC2."


class AuthVerdict(enum.StrEnum):
    """What a request's credentials earned: served, 401, or 429 (too many failures from its address)."""

    OK = "ok"
    DENIED = "denied"
    THROTTLED = "throttled"


class BasicAuth:
    """Checks ``Authorization`` headers against ``users`` (user -> bcrypt hash)."""

    def __init__(self, users: Mapping[str, bytes], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._users = dict(users)
        self._clock = clock
        self._verified: OrderedDict[bytes, str] = OrderedDict()
        self._refused: OrderedDict[bytes, None] = OrderedDict()
        self._failures: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (allowance, when)
        self._lock = threading.Lock()
        self._bcrypt = threading.Lock()
        self.bcrypt_checks = 0

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    def check(self, header: str | None) -> str | None:
        """The authenticated user, or None when the header is missing or wrong (no rate limit)."""
        return self._check(header)

    def verdict(self, header: str | None, client: str) -> AuthVerdict:
        """Check a request from ``client`` (its address), counting and limiting its failures."""
        credentials = _parse(header)
        if credentials is None:
            return AuthVerdict.DENIED  # no credentials (a first request before the challenge) is no guess
        key = _key(*credentials)
        client = _network(client)
        with self._lock:
            if key in self._verified:
                self._verified.move_to_end(key)
                return AuthVerdict.OK
            if self._allowance(client) < 1:
                return AuthVerdict.THROTTLED
        if self._check(header) is not None:
            return AuthVerdict.OK
        with self._lock:
            allowance = self._allowance(client)
            self._failures[client] = (allowance - 1, self._clock())
            self._failures.move_to_end(client)
            while len(self._failures) > CLIENTS_TRACKED:
                self._failures.popitem(last=False)
        return AuthVerdict.DENIED

    def _allowance(self, client: str) -> float:
        """Failures ``client`` may still make now (called with the lock held)."""
        entry = self._failures.get(client)
        if entry is None:
            return FAILURE_BURST
        allowance, when = entry
        return min(FAILURE_BURST, allowance + (self._clock() - when) / FAILURE_REFILL)

    def _check(self, header: str | None) -> str | None:
        credentials = _parse(header)
        if credentials is None:
            return None
        user, password = credentials
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            return None
        key = _key(user, password)
        with self._lock:
            if key in self._verified:
                self._verified.move_to_end(key)
                return self._verified[key]
            if key in self._refused:
                self._refused.move_to_end(key)
                return None
        hashed = self._users.get(user)
        with self._bcrypt:
            self.bcrypt_checks += 1
            ok = bcrypt.checkpw(password.encode(), hashed or _DUMMY_HASH) and hashed is not None
        with self._lock:
            table: OrderedDict[bytes, str] | OrderedDict[bytes, None] = self._verified if ok else self._refused
            if ok:
                self._verified[key] = user
            else:
                self._refused[key] = None
            while len(table) > CACHE_SIZE:
                table.popitem(last=False)
        return user if ok else None


def _network(client: str) -> str:
    """Whose failures a client's count with: an IPv4 address alone, an IPv6 address's whole /64."""
    try:
        address = ipaddress.ip_address(client.partition("%")[0])
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv4Address):
        return client
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def _key(user: str, password: str) -> bytes:
    return hashlib.sha256(user.encode() + b"\0" + password.encode()).digest()


def _parse(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password
