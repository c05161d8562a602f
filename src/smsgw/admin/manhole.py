"""The telnet manhole: a Python prompt inside the running gateway, for administrators.

``manhole_factory(...)`` builds the Twisted ``ServerFactory`` the gateway
listens with (on 127.0.0.1 by default).  A connection asks for a user name
and password (``twisted.conch.telnet.AuthenticatingTelnetProtocol``) checked
against argon2 hashes from the configuration (``HashedPasswords``); three
failures end the connection.  A logged-in administrator gets a
``twisted.conch.manhole`` prompt whose namespace is the curated helpers of
``smsgw.admin.helpers``, bound to the actor ``manhole:<user>`` for the audit
log.

Unlike the stock manhole, a helper's Deferred is not shown as
``<Deferred #0>``: its result is printed as text when it fires, and an
expected failure (an unknown account, a refused operation) is one line, not
a traceback.
"""

from __future__ import annotations

import codecs
from typing import Any, Callable, Mapping

from twisted.conch import manhole, telnet
from twisted.conch.insults import insults
from twisted.cred import credentials, error, portal
from twisted.cred.checkers import ICredentialsChecker
from twisted.internet import defer
from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from smsgw.admin.helpers import describe_failure

log = Logger(namespace="smsgw.admin.manhole")

#: failed logins before the connection is closed
MAX_FAILURES = 3
WELCOME = "smsgw manhole, logged in as {user}. help() lists the helpers; ^D leaves."

Verify = Callable[[str, str], "defer.Deferred[bool]"]
NamespaceFor = Callable[[str], dict[str, Any]]


@implementer(ICredentialsChecker)
class HashedPasswords:
    """User names and argon2 hashes; ``verify(hash, password)`` runs off the reactor thread."""

    credentialInterfaces = (credentials.IUsernamePassword,)

    def __init__(self, users: Mapping[str, str], verify: Verify, decoy: str) -> None:
        """``decoy`` is a hash checked for unknown users, so that they cost what a wrong password costs."""
        self.users = dict(users)
        self.verify = verify
        self.decoy = decoy

    def requestAvatarId(self, creds: Any) -> defer.Deferred[str]:  # noqa: N802 (Twisted's name)
        user = creds.username.decode("utf-8", "replace")
        password = creds.password.decode("utf-8", "replace")
        known = self.users.get(user)
        d = self.verify(known or self.decoy, password)

        def checked(ok: bool) -> str:
            if ok and known is not None:
                log.info("manhole login: {user}", user=user)
                return user
            log.warn("manhole login refused for {user!r}", user=user)
            raise error.UnauthorizedLogin()

        return d.addCallback(checked)


class AdminInterpreter(manhole.ManholeInterpreter):
    """Shows Deferred results as text when they arrive, expected failures as one line."""

    _displaying = False

    def displayhook(self, obj: Any) -> None:
        self.locals["_"] = obj
        if isinstance(obj, defer.Deferred):
            # a Deferred that has already fired is shown now, in line; the others when they fire,
            # above the prompt the administrator may be typing at by then
            self._displaying = True
            try:
                obj.addCallbacks(self._fired, self._failed)
            finally:
                self._displaying = False
        elif obj is not None:
            self.write(repr(obj))

    def _fired(self, result: Any) -> None:
        self.locals["_"] = result
        if result is not None:
            self._show(repr(result))

    def _failed(self, failure: Failure) -> None:
        text = describe_failure(failure.value)
        if text is None:
            log.failure("manhole helper failed", failure)
            text = "".join(failure.getTraceback())
        self._show(text)

    def _show(self, text: str) -> None:
        if self._displaying:
            self.write(text)
        else:
            self.write(text + "\n", True)

    def excepthook(self, kind: Any, value: BaseException, traceback: Any) -> None:
        text = describe_failure(value)
        if text is None:
            super().excepthook(kind, value, traceback)
        else:
            self.write(text + "\n")


class AdminManhole(manhole.Manhole):
    """The prompt: the stock manhole with ``AdminInterpreter`` and a greeting."""

    def __init__(self, namespace: dict[str, Any], user: str) -> None:
        super().__init__(namespace)
        self.user = user
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def keystrokeReceived(self, keyID: Any, modifier: Any) -> None:  # noqa: N802 (Twisted's names)
        """Also take UTF-8 text (signatures and keywords are Chinese): the stock prompt drops non-ASCII.
        A character's bytes are gathered and kept together, so editing keys treat it as one."""
        if isinstance(keyID, bytes) and len(keyID) == 1 and keyID[0] >= 0x80 and modifier is None:
            try:
                char = self._utf8.decode(keyID)
            except UnicodeDecodeError:
                self._utf8.reset()
                return
            if char:
                self.characterReceived(char.encode("utf-8"), False)
            return
        super().keystrokeReceived(keyID, modifier)

    def connectionMade(self) -> None:  # noqa: N802 (Twisted's name)
        super().connectionMade()
        self.interpreter = AdminInterpreter(self, self.namespace)

    def initializeScreen(self) -> None:  # noqa: N802 (Twisted's name)
        self.terminal.reset()
        self.terminal.write(WELCOME.format(user=self.user).encode())
        self.terminal.nextLine()
        self.terminal.write(self.ps[self.pn])
        self.setInsertMode()


@implementer(portal.IRealm)
class ManholeRealm:
    """Gives each administrator a manhole whose namespace knows who they are."""

    def __init__(self, namespace_for: NamespaceFor) -> None:
        self.namespace_for = namespace_for

    def requestAvatar(self, avatar_id: Any, mind: Any, *interfaces: Any) -> Any:  # noqa: N802
        if telnet.ITelnetProtocol not in interfaces:
            raise NotImplementedError("the manhole speaks telnet only")
        user = avatar_id.decode() if isinstance(avatar_id, bytes) else str(avatar_id)
        proto = telnet.TelnetBootstrapProtocol(insults.ServerProtocol, AdminManhole, self.namespace_for(user), user)
        return telnet.ITelnetProtocol, proto, lambda: log.info("manhole logout: {user}", user=user)


class LimitedLogin(telnet.AuthenticatingTelnetProtocol):
    """Asks for a user name and password; hangs up after ``MAX_FAILURES`` wrong ones."""

    failures = 0

    def telnet_User(self, line: bytes) -> str:  # noqa: N802 (Twisted's name)
        return str(super().telnet_User(line.rstrip(b"\r")))  # clients that end lines with CR CR LF

    def telnet_Password(self, line: bytes) -> str:  # noqa: N802 (Twisted's name)
        return str(super().telnet_Password(line.rstrip(b"\r")))

    def _ebLogin(self, failure: Failure) -> None:  # noqa: N802 (Twisted's name)
        self.failures += 1
        if self.failures >= MAX_FAILURES:
            transport: Any = self.transport  # the TelnetTransport
            transport.write(b"\r\nAuthentication failed\r\n")
            transport.loseConnection()
            return
        super()._ebLogin(failure)


def manhole_factory(namespace_for: NamespaceFor, checker: HashedPasswords) -> ServerFactory:
    """The telnet manhole's factory (listen on it with ``reactor.listenTCP``)."""
    login_portal = portal.Portal(ManholeRealm(namespace_for), [checker])
    factory = ServerFactory()
    factory.protocol = lambda: telnet.TelnetTransport(LimitedLogin, login_portal)  # type: ignore[assignment,misc]
    return factory
