"""The security tests' world: the web rig (real SQLite store, intake, web centre and API on loopback) with
a real SMPP listener on the same intake, so one store is reached through every client interface."""

from __future__ import annotations

import time
from typing import Any, AsyncIterator

import pytest_twisted

from smsgw.net.smpp_listener import SmppServerFactory
from tests.gateway.wire_client import connect, within
from tests.web.rig import make_web_rig

SMPP_PASSWORDS = {"acme-a": "a-smpp-1", "rival": "r-smpp-1"}


@pytest_twisted.async_yield_fixture
async def world(tmp_path: Any) -> AsyncIterator[Any]:
    from twisted.internet import reactor

    rig = await make_web_rig(tmp_path)
    for login in ("acme-a", "rival"):  # SMPP passwords are at most 8 characters
        await rig.store.set_password(rig.accounts[login].id, SMPP_PASSWORDS[login], int(time.time() * 1000), "test")
    smpp = reactor.listenTCP(0, SmppServerFactory(rig.intake, reactor), interface="127.0.0.1")
    try:
        yield rig, smpp.getHost().port
    finally:
        await smpp.stopListening()
        await rig.close()


async def smpp_client(port: int, login: str) -> Any:
    client = await within(connect(port))
    bound = await within(client.bind(login, SMPP_PASSWORDS[login], mode="transceiver"))
    assert bound.status == 0, (login, bound.status)
    return client
