"""SMPP over TLS when a certificate is configured: a TLS client binds (the whole gateway with TLS on
SMPP and the web centre, and plain clients refused, is in tests/security/test_tls.py)."""

from __future__ import annotations

from pathlib import Path

import pytest_twisted
from twisted.internet import reactor, threads

from smsgw.net.smpp_listener import SmppServerFactory, listen
from tests.gateway.rig import make_rig
from tests.security.certs import self_signed as _self_signed
from tests.security.certs import smpp_bind_over_tls as _bind_over_tls


@pytest_twisted.inlineCallbacks
def test_bind_over_tls(tmp_path: Path) -> None:
    rig = yield make_rig(tmp_path)
    cert, key = _self_signed(tmp_path)
    port = listen(reactor, SmppServerFactory(rig.intake, reactor), 0, "127.0.0.1", cert, key)
    try:
        resp = yield threads.deferToThread(_bind_over_tls, port.getHost().port, cert)
        assert (resp.command, resp.status) == ("bind_transceiver_resp", 0)
    finally:
        yield port.stopListening()
        yield rig.close()
