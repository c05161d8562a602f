"""Web centre sessions: who is signed in, their CSRF token and language, in memory.

A session is a random token in an HttpOnly, SameSite cookie.  A visitor who
is not signed in gets one too (it carries the CSRF token of the login form).
Signing in replaces the session (a new token and CSRF token: no fixation).
Sessions end after ``idle`` seconds without a request or ``lifetime`` after
sign-in; at most ``size`` signed-in and ``anonymous`` anonymous sessions are
kept (the least recently used goes first), so anonymous visitors can neither
grow the store without bound nor push signed-in users out.  Sessions live in the
process: a restart signs everybody out.
"""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from typing import Callable

import attrs

COOKIE = "smsgw_session"


@attrs.define
class Session:
    token: str
    csrf: str
    created: float
    seen: float
    account_id: int | None = None
    login: str | None = None
    admin: str | None = None  # the administrator's name, for provider administrators
    lang: str | None = None
    #: one-time messages shown on the next page (after a redirect)
    notices: list[tuple[str, str]] = attrs.field(factory=list)

    @property
    def signed_in(self) -> bool:
        return self.account_id is not None or self.admin is not None

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf.encode(), (token or "").encode())


class Sessions:
    """Signed-in sessions and anonymous ones (a sign-in form's CSRF token) are kept apart, each
    bounded, so a flood of anonymous visits can never push a signed-in user out."""

    def __init__(self, clock: Callable[[], float], idle: float = 1800.0, lifetime: float = 12 * 3600.0,
                 size: int = 20_000, anonymous: int = 20_000) -> None:
        self.clock = clock
        self.idle = idle
        self.lifetime = lifetime
        self._signed_in: OrderedDict[str, Session] = OrderedDict()
        self._anonymous: OrderedDict[str, Session] = OrderedDict()
        self._limits = {id(self._signed_in): size, id(self._anonymous): anonymous}

    def _table(self, session: Session) -> OrderedDict[str, Session]:
        return self._signed_in if session.signed_in else self._anonymous

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        for table in (self._signed_in, self._anonymous):
            session = table.get(token)
            if session is None:
                continue
            now = self.clock()
            if now - session.seen > self.idle or now - session.created > self.lifetime:
                del table[token]
                return None
            session.seen = now
            table.move_to_end(token)
            return session
        return None

    def _keep(self, session: Session) -> Session:
        table = self._table(session)
        table[session.token] = session
        while len(table) > self._limits[id(table)]:
            table.popitem(last=False)
        return session

    def new(self, lang: str | None = None) -> Session:
        now = self.clock()
        return self._keep(Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, lang=lang))

    def sign_in(self, old: Session | None, *, account_id: int | None = None, login: str | None = None,
                admin: str | None = None) -> Session:
        """A fresh session for the signed-in user (the old one ends)."""
        if old is not None:
            self.end(old)
        now = self.clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now, account_id=account_id,
                          login=login, admin=admin, lang=old.lang if old is not None else None)
        return self._keep(session)

    def end(self, session: Session) -> None:
        self._signed_in.pop(session.token, None)
        self._anonymous.pop(session.token, None)

    def end_account(self, account_id: int) -> None:
        """Sign an account out everywhere (its password changed, it was suspended)."""
        for token in [t for t, s in self._signed_in.items() if s.account_id == account_id]:
            del self._signed_in[token]

    def __len__(self) -> int:
        return len(self._signed_in) + len(self._anonymous)
