"""wss:// (the default RIS Live URL) over real TLS: the server's certificate is verified against the system's CAs."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from routewatch.config.to_core import build_engine
from tests.integration.test_ris_live_misbehaving_server import ORIGIN, PREFIX, connected, update
from tests.support.live_harness import live_config, ris_server, running_live, wait_until
from tests.support.pki import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


def server_tls(pki: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.crt", pki / "server.key")
    return context


async def test_wss_with_a_trusted_certificate_subscribes_and_delivers(pki: Path, monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki / "ca.crt"))  # the system trust store, as OpenSSL reads it
    async with ris_server(tls=server_tls(pki)) as server:
        assert server.url.startswith("wss://")
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await connected(run, server, 1)
            await server.publish(update([PREFIX]))
            await wait_until(lambda: monitor.table.route_count() == 1, "the update over TLS applied")
            health = run.live.details()

    assert health.up and health.unacknowledged == 0 and health.malformed == 0


async def test_wss_with_an_unknown_certificate_authority_never_connects(pki: Path, caplog: pytest.LogCaptureFixture
                                                                       ) -> None:
    async with ris_server(tls=server_tls(pki)) as server:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await wait_until(lambda: "CERTIFICATE_VERIFY_FAILED" in caplog.text, "a certificate failure reported")
            health = run.live.details()

    assert not health.up and health.connects == 0 and server.connections == 0
