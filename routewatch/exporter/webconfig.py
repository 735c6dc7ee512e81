"""The Prometheus exporter-toolkit web configuration file: TLS and basic auth.

Operators already write this file for node_exporter and friends, so routewatch
reads the same format rather than inventing one. What it supports:

    tls_server_config:
      cert_file, key_file            (required when the section is present)
      client_auth_type               NoClientCert | VerifyClientCertIfGiven | RequireAndVerifyClientCert
      client_ca_file                 (required by the two verifying types)
      min_version, max_version       TLS10 | TLS11 | TLS12 | TLS13
    basic_auth_users:
      <user>: <bcrypt hash>

Everything else the toolkit knows (inline ``cert``/``key``/``client_ca``,
``client_allowed_sans``, ``cipher_suites``, ``curve_preferences``,
``http_server_config``, ``rate_limit``, and the two client auth types that
accept a certificate without verifying it, which Python's ``ssl`` cannot do)
is rejected by name: a setting that silently did nothing would be a security
hole. File paths are relative to the web config file, as in the toolkit.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from routewatch.config.messages import describe
from routewatch.config.yamlfile import read_yaml
from routewatch.errors import ConfigError

log = logging.getLogger(__name__)

_BCRYPT = re.compile(r"^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$")

_UNSUPPORTED_TOP = {
    "http_server_config": "HTTP server options are not supported",
    "rate_limit": "rate limiting is not supported",
}
_UNSUPPORTED_TLS = {
    "cert": "inline certificates are not supported; use cert_file",
    "key": "inline keys are not supported; use key_file",
    "client_ca": "an inline client CA is not supported; use client_ca_file",
    "client_allowed_sans": "matching client certificate SANs is not supported",
    "cipher_suites": "choosing cipher suites is not supported (the Python ssl defaults are used)",
    "prefer_server_cipher_suites": "choosing cipher suites is not supported",
    "curve_preferences": "choosing curves is not supported",
}
_TLS_KEYS = ("cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version")


class ClientAuth(StrEnum):
    NO_CLIENT_CERT = "NoClientCert"
    VERIFY_IF_GIVEN = "VerifyClientCertIfGiven"
    REQUIRE_AND_VERIFY = "RequireAndVerifyClientCert"


_UNVERIFIED_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert")

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True, slots=True)
class TlsSettings:
    cert_file: Path
    key_file: Path
    client_auth: ClientAuth = ClientAuth.NO_CLIENT_CERT
    client_ca_file: Path | None = None
    min_version: str = "TLS12"
    max_version: str = "TLS13"

    def context(self) -> ssl.SSLContext:
        """A server-side SSL context; raises ConfigError when a file cannot be loaded."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = TLS_VERSIONS[self.min_version]
        context.maximum_version = TLS_VERSIONS[self.max_version]
        try:
            context.load_cert_chain(self.cert_file, self.key_file)
            if self.client_ca_file is not None:
                context.load_verify_locations(cafile=self.client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError([f"tls_server_config: cannot load the certificate or key: {exc}"]) from None
        context.verify_mode = {
            ClientAuth.NO_CLIENT_CERT: ssl.CERT_NONE,
            ClientAuth.VERIFY_IF_GIVEN: ssl.CERT_OPTIONAL,
            ClientAuth.REQUIRE_AND_VERIFY: ssl.CERT_REQUIRED,
        }[self.client_auth]
        return context


@dataclass(frozen=True, slots=True)
class WebConfig:
    """TLS settings (None: plain HTTP) and basic auth users (empty: no auth)."""

    tls: TlsSettings | None = None
    users: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))


def load_web_config(path: str | Path) -> WebConfig:
    """Read and check a web config file; ConfigError lists every problem."""
    document, problems = read_yaml(Path(path))
    if document is None and problems:
        raise ConfigError(problems, str(path))
    config, more = parse_web_config(document, Path(path).parent)
    problems += more
    if problems or config is None:
        raise ConfigError(problems, str(path))
    if config.users and config.tls is None:
        log.warning("%s: basic auth without TLS sends passwords in clear text; add tls_server_config", path)
    if config.tls is not None:
        config.tls.context()  # fail at load, not at the first scrape
    return config


def parse_web_config(raw: object, base: Path) -> tuple[WebConfig | None, list[str]]:
    """The config and the problems found; the config is None when there is any problem."""
    if raw is None:
        return WebConfig(), []
    if not isinstance(raw, Mapping):
        return None, [f"(top level): expected a mapping, got {describe(raw)}"]
    problems: list[str] = []
    for key in raw:
        if key in _UNSUPPORTED_TOP:
            problems.append(f"{key}: {_UNSUPPORTED_TOP[key]} by routewatch")
        elif key not in ("tls_server_config", "basic_auth_users"):
            problems.append(f"{key}: unknown key (expected tls_server_config or basic_auth_users)")
    tls = _tls(raw.get("tls_server_config"), base, problems) if raw.get("tls_server_config") is not None else None
    users = _users(raw.get("basic_auth_users"), problems)
    if problems:
        return None, problems
    return WebConfig(tls, MappingProxyType(users)), []


def _tls(raw: object, base: Path, problems: list[str]) -> TlsSettings | None:
    where = "tls_server_config"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping, got {describe(raw)}")
        return None
    before = len(problems)
    for key in raw:
        if key in _UNSUPPORTED_TLS:
            problems.append(f"{where}.{key}: {_UNSUPPORTED_TLS[key]} by routewatch")
        elif key not in _TLS_KEYS:
            problems.append(f"{where}.{key}: unknown key (expected one of {', '.join(_TLS_KEYS)})")
    values: dict[str, str] = {}
    for key in _TLS_KEYS:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"{where}.{key}: expected a string, got {describe(value)}")
        elif value:
            values[key] = value
    for key in ("cert_file", "key_file"):
        if key not in values:
            problems.append(f"{where}.{key}: required when tls_server_config is set")
    auth = values.get("client_auth_type", ClientAuth.NO_CLIENT_CERT.value)
    if auth in _UNVERIFIED_CLIENT_AUTH:
        problems.append(f"{where}.client_auth_type: {auth} accepts a client certificate without verifying it, "
                        "which routewatch does not support; use RequireAndVerifyClientCert")
    elif auth not in {c.value for c in ClientAuth}:
        problems.append(f"{where}.client_auth_type: expected one of {', '.join(c.value for c in ClientAuth)}, "
                        f"got {auth!r}")
    elif auth != ClientAuth.NO_CLIENT_CERT and "client_ca_file" not in values:
        problems.append(f"{where}.client_ca_file: required with client_auth_type {auth}")
    for key, default in (("min_version", "TLS12"), ("max_version", "TLS13")):
        if values.get(key, default) not in TLS_VERSIONS:
            problems.append(f"{where}.{key}: expected one of {', '.join(TLS_VERSIONS)}, got {values[key]!r}")
    if len(problems) > before:
        return None
    ca = values.get("client_ca_file")
    return TlsSettings(base / values["cert_file"], base / values["key_file"], ClientAuth(auth),
                       base / ca if ca else None, values.get("min_version", "TLS12"),
                       values.get("max_version", "TLS13"))


def _users(raw: object, problems: list[str]) -> dict[str, bytes]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"basic_auth_users: expected a mapping of user to bcrypt hash, got {describe(raw)}")
        return {}
    users: dict[str, bytes] = {}
    for user, hashed in raw.items():
        if not isinstance(user, str) or not user or ":" in user:
            problems.append(f"basic_auth_users: {user!r} is not a valid user name (non-empty, without ':')")
        elif not isinstance(hashed, str) or not _BCRYPT.match(hashed):
            problems.append(f"basic_auth_users.{user}: expected a bcrypt hash such as $2y$10$..., "
                            f"got {describe(hashed) if not isinstance(hashed, str) else 'something else'}")
        else:
            users[user] = hashed.encode()
    return users
