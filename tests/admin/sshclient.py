"""An SSH client for the manhole test (twisted.conch's client side): password login, a pty and a shell.

It trusts the host key it is shown and records it, so the test can compare it
with the key file the gateway made.  The shell's output goes to a
``ManholeClient``-like screen (``expect``, ``run``).
"""

from __future__ import annotations

from typing import Any

from twisted.conch.ssh import channel, connection, session, transport, userauth
from twisted.internet import defer, reactor
from twisted.internet.protocol import ClientFactory

from tests.admin.telnet import ManholeClient


class _Shell(channel.SSHChannel):
    name = b"session"

    def __init__(self, screen: "SshScreen", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.screen = screen

    def channelOpen(self, data: bytes) -> None:  # noqa: N802 (Twisted's name)
        pty = session.packRequest_pty_req(b"xterm", (40, 120, 0, 0), b"")
        self.conn.sendRequest(self, b"pty-req", pty, wantReply=True)
        d = self.conn.sendRequest(self, b"shell", b"", wantReply=True)
        d.addCallback(lambda _: self.screen.opened.callback(self))
        d.addErrback(self.screen.opened.errback)

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted's name)
        self.screen.received += data

    def closed(self) -> None:
        if not self.screen.lost.called:
            self.screen.lost.callback(None)
        self.loseConnection()


class SshScreen:
    """Plays the part of the telnet client's terminal for ``ManholeClient``."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.lost: defer.Deferred[None] = defer.Deferred()
        self.opened: defer.Deferred[_Shell] = defer.Deferred()
        self.host_key: bytes | None = None
        self.refused: defer.Deferred[None] = defer.Deferred()


class _Connection(connection.SSHConnection):
    def __init__(self, screen: SshScreen) -> None:
        super().__init__()
        self.screen = screen

    def serviceStarted(self) -> None:  # noqa: N802 (Twisted's name)
        self.openChannel(_Shell(self.screen, conn=self))


class _Auth(userauth.SSHUserAuthClient):
    def __init__(self, user: str, password: str, conn: _Connection) -> None:
        super().__init__(user.encode(), conn)
        self.password = password
        self.tried = False

    def getPassword(self, prompt: Any = None) -> Any:  # noqa: N802 (Twisted's name)
        if self.tried:
            return None  # one try: then the server's refusal ends the login
        self.tried = True
        return defer.succeed(self.password.encode())

    def getPublicKey(self) -> None:  # noqa: N802 (Twisted's name)
        return None


class _Transport(transport.SSHClientTransport):
    def __init__(self, screen: SshScreen, user: str, password: str) -> None:
        self.screen = screen
        self.user = user
        self.password = password

    def verifyHostKey(self, pubKey: bytes, fingerprint: str) -> Any:  # noqa: N802 (Twisted's names)
        self.screen.host_key = pubKey
        return defer.succeed(True)

    def connectionSecure(self) -> None:  # noqa: N802 (Twisted's name)
        self.requestService(_Auth(self.user, self.password, _Connection(self.screen)))

    def connectionLost(self, reason: Any) -> None:  # noqa: N802 (Twisted's name)
        super().connectionLost(reason)
        if not self.screen.opened.called:
            self.screen.opened.errback(reason)
        if not self.screen.lost.called:
            self.screen.lost.callback(None)


class SshManholeClient(ManholeClient):
    def __init__(self, shell: _Shell, screen: SshScreen) -> None:
        self.shell = shell
        self.terminal = screen  # type: ignore[assignment]
        self._mark = 0

    def send(self, line: str) -> None:
        self.shell.write(line.encode() + b"\r")

    def close(self) -> defer.Deferred[None]:
        if not self.terminal.lost.called:
            self.shell.conn.transport.loseConnection()
        return self.terminal.lost


async def ssh_connect(port: int, user: str, password: str) -> tuple[SshManholeClient, SshScreen]:
    """Logged in with a shell; fails (ConnectionLost) when the password is refused."""
    screen = SshScreen()

    class Factory(ClientFactory):
        def buildProtocol(self, addr: Any) -> _Transport:  # noqa: N802 (Twisted's name)
            return _Transport(screen, user, password)

    reactor.connectTCP("127.0.0.1", port, Factory(), timeout=5)
    shell = await screen.opened
    return SshManholeClient(shell, screen), screen

