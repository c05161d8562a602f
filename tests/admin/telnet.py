"""A telnet client for the manhole tests: twisted.conch.telnet on the client side, a real TCP connection.

``ManholeClient.expect(text)`` waits until ``text`` appears in what the server
wrote after the last ``expect`` (VT100 control sequences removed), so a test
reads the manhole as an administrator's terminal shows it.
"""

from __future__ import annotations

import re
from typing import Any

from twisted.conch import telnet
from twisted.internet import defer, reactor
from twisted.internet.protocol import ClientFactory
from twisted.internet.task import deferLater

#: CSI sequences, charset selection, and the single-character escapes insults writes
_CONTROL = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[78=>cDEHM])")


class _Terminal(telnet.TelnetProtocol):
    """What the client sees; agrees to the options a terminal agrees to (the server echoes, no go-ahead)."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.lost: defer.Deferred[None] = defer.Deferred()

    def enableRemote(self, option: bytes) -> bool:  # noqa: N802 (Twisted's name)
        return option in (telnet.ECHO, telnet.SGA)

    def enableLocal(self, option: bytes) -> bool:  # noqa: N802 (Twisted's name)
        return option in (telnet.SGA, telnet.NAWS, telnet.LINEMODE)

    def disableRemote(self, option: bytes) -> None:  # noqa: N802 (Twisted's name)
        pass

    def disableLocal(self, option: bytes) -> None:  # noqa: N802 (Twisted's name)
        pass

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted's name)
        self.received += data

    def connectionLost(self, reason: Any) -> None:  # noqa: N802 (Twisted's name)
        self.lost.callback(None)


class ManholeClient:
    def __init__(self, transport: telnet.TelnetTransport) -> None:
        self.transport = transport
        self.terminal: _Terminal = transport.protocol
        self._mark = 0

    def screen(self) -> str:
        return _CONTROL.sub(b"", bytes(self.terminal.received)).decode("utf-8", "replace").replace("\r", "")

    def send(self, line: str) -> None:
        self.transport.write(line.encode() + b"\n")  # the transport sends CR LF

    async def expect(self, text: str, timeout: float = 10.0) -> str:
        """What arrived since the last ``expect``, up to and including ``text``; fails after ``timeout``."""
        waited = 0.0
        while True:
            screen = self.screen()
            found = screen.find(text, self._mark)
            if found >= 0:
                seen = screen[self._mark:found + len(text)]
                self._mark = found + len(text)
                return seen
            if waited >= timeout or self.terminal.lost.called:
                raise AssertionError(f"no {text!r} within {timeout} s; the screen since the mark:\n"
                                     f"{screen[self._mark:]}")
            await deferLater(reactor, 0.02, lambda: None)
            waited += 0.02

    async def run(self, command: str, until: str, timeout: float = 10.0) -> str:
        """Type a line and read up to ``until`` (what arrived after the echoed command)."""
        await self.expect(">>> ", timeout)
        self.send(command)
        await self.expect(command, timeout)  # the echo
        return await self.expect(until, timeout)

    async def login(self, user: str, password: str) -> str:
        await self.expect("Username: ")
        self.send(user)
        await self.expect("Password: ")
        self.send(password)
        return await self.expect("help() lists the helpers")

    def close(self) -> defer.Deferred[None]:
        if not self.terminal.lost.called:
            self.transport.loseConnection()
        return self.terminal.lost


async def connect(port: int) -> ManholeClient:
    connected: defer.Deferred[telnet.TelnetTransport] = defer.Deferred()

    class Factory(ClientFactory):
        def buildProtocol(self, addr: Any) -> telnet.TelnetTransport:  # noqa: N802 (Twisted's name)
            transport = telnet.TelnetTransport(_Terminal)
            reactor.callLater(0, connected.callback, transport)
            return transport

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:  # noqa: N802
            connected.errback(reason)

    reactor.connectTCP("127.0.0.1", port, Factory(), timeout=5)
    transport = await connected
    return ManholeClient(transport)
