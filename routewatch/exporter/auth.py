"""HTTP basic auth against bcrypt hashes, with verified credentials cached.

bcrypt is slow on purpose (tens of milliseconds at cost 10). Prometheus sends
the same credentials on every scrape, so a successful check is remembered,
keyed by a SHA-256 of user and password (never the password itself), and a
scrape costs one hash. Checks that do need bcrypt run one at a time, so a
client guessing passwords can burn at most one thread's worth of CPU, and an
unknown user costs the same as a wrong password (no user enumeration).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt

CACHE_SIZE = 256
# A hash of a random password nobody knows, so that an unknown user takes as long as a known one.
_DUMMY_HASH = b"$2b$10$0O7gSLmjHhmJeVvk2I/aQO3eE7WmwcjR79Ly3gc1C8D/jgz4SVC2."


class BasicAuth:
    """Checks ``Authorization`` headers against ``users`` (user -> bcrypt hash)."""

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = dict(users)
        self._verified: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()
        self._bcrypt = threading.Lock()
        self.bcrypt_checks = 0

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    def check(self, header: str | None) -> str | None:
        """The authenticated user, or None when the header is missing or wrong."""
        credentials = _parse(header)
        if credentials is None:
            return None
        user, password = credentials
        key = hashlib.sha256(user.encode() + b"\0" + password.encode()).digest()
        with self._lock:
            if key in self._verified:
                self._verified.move_to_end(key)
                return self._verified[key]
        hashed = self._users.get(user)
        with self._bcrypt:
            self.bcrypt_checks += 1
            ok = bcrypt.checkpw(password.encode(), hashed or _DUMMY_HASH) and hashed is not None
        if not ok:
            return None
        with self._lock:
            self._verified[key] = user
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return user


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

