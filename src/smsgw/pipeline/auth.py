"""Binds through a ``twisted.cred`` portal: credentials checked against the store's accounts.

The checker verifies the argon2 hash (on a reader thread, through the store's
bounded password checks), the account's and enterprise's status and the
allowed client addresses; the realm hands out the ``Account`` as the avatar.
A refusal is an ``UnauthorizedLogin`` subclass that keeps the store's reason,
so the SMPP listener can answer with the right status (ESME_RINVSYSID,
ESME_RINVPASWD, ESME_RBINDFAIL).  A bind the store's checks are too busy for
fails with ``PasswordChecksBusy`` or ``PasswordCheckDropped`` (``smsgw.pipeline.password_checks``),
passed through unchanged.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred
from zope.interface import Interface, implementer

from smsgw.store.accounts import AuthFailure


class IAccount(Interface):
    """The avatar of a bound client: its ``smsgw.domain.model.Account``."""


def _still_wanted() -> bool:
    return True


@implementer(IUsernamePassword)
@attrs.frozen
class BindCredentials:
    """system_id and password of a bind, with the address it came from (allowed IPs); ``wanted``
    says, when the password check's turn comes, whether the bind is still worth checking."""

    username: str
    password: str
    peer_host: str
    wanted: Callable[[], bool] = attrs.field(default=_still_wanted, eq=False, repr=False)

    def checkPassword(self, password: str) -> bool:  # noqa: N802 - twisted.cred's name
        return self.password == password


class RefusedLogin(UnauthorizedLogin):
    def __init__(self, failure: AuthFailure):
        self.failure = failure
        super().__init__(failure.value)


@implementer(ICredentialsChecker)
class StoreChecker:
    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, store: Any) -> None:
        self.store = store
        #: the last verified accounts by id, for the realm (the avatar id is the account id)
        self._verified: dict[int, Any] = {}

    def requestAvatarId(self, credentials: BindCredentials) -> Deferred[Any]:  # noqa: N802
        d = self.store.authenticate(credentials.username, credentials.password,
                                    getattr(credentials, "peer_host", None), getattr(credentials, "wanted", None))

        def checked(result: Any) -> int:
            if not result.ok:
                raise RefusedLogin(result.failure)
            self._verified[result.account.id] = result.account
            return int(result.account.id)

        d.addCallback(checked)
        return d

    def take(self, account_id: int) -> Any:
        return self._verified.pop(account_id)


@implementer(IRealm)
class AccountRealm:
    def __init__(self, checker: StoreChecker) -> None:
        self.checker = checker

    def requestAvatar(self, avatar_id: int, mind: Any, *interfaces: Any) -> tuple[Any, Any, Any]:  # noqa: N802
        if IAccount not in interfaces:
            raise NotImplementedError("smsgw accounts only provide IAccount")
        return IAccount, self.checker.take(avatar_id), lambda: None


def account_portal(store: Any) -> Portal:
    """The portal binds log in through."""
    checker = StoreChecker(store)
    return Portal(AccountRealm(checker), [checker])
