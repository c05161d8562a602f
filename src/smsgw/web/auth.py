"""Who may see a page: sessions, CSRF, access levels; signing in and out.

Access levels of a route: ``public`` (sign-in pages), ``user`` (any signed-in
enterprise or sub-account user), ``enterprise`` (the enterprise account only:
sub-accounts, blacklist), ``admin`` (the provider's administrators).

* Every POST must carry the session's CSRF token (form field ``csrf`` or
  header ``X-CSRF-Token``), and an ``Origin`` header, when the browser sends
  one, must be this site.  The sign-in form has a token too (the visitor's
  anonymous session).
* Enterprise users sign in with their account's password (argon2, checked
  on a reader thread by the store's ``authenticate``); the account's
  ``allowed_ips`` limit SMPP binds, not the web centre.  Password checks are
  bounded (``smsgw.pipeline.password_checks``): when too many sign-ins and
  binds wait for one, a sign-in is answered 429 at once.
* Administrators are the manhole's users (name → argon2 hash, the same
  ``[manhole] users``); they sign in at ``/admin/login`` and see only the
  administrators' pages.
* Failures count towards the same ``Lockout`` as SMPP binds, per login
  (``id:<login>``, administrators ``admin:<name>``) and per address
  (``ip:<address>``): five failures lock for fifteen minutes by default.
* Every request reloads the account: a suspended account (or one whose
  enterprise is suspended) is signed out at its next click.
"""

from __future__ import annotations

from typing import Callable
from urllib.parse import quote, urlsplit

from argon2 import PasswordHasher

from smsgw.domain.model import AccountStatus
from smsgw.pipeline.password_checks import PasswordCheckDropped, PasswordChecksBusy
from smsgw.store.accounts import AuthFailure
from smsgw.web import i18n
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest, redirect, safe_next
from smsgw.web.render import lang_of
from smsgw.web.sessions import Session

#: compared against when an administrator's name is unknown, so that the answer takes as long
_DUMMY_HASH = PasswordHasher().hash("not a password")


class Guard:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, route: Route, web: WebRequest) -> Response | None:
        deps = self.deps
        session = deps.sessions.get(web.cookie("smsgw_session"))
        if session is None:
            session = deps.sessions.new(lang=i18n.pick(web.cookie("smsgw_lang")) if web.cookie("smsgw_lang") else None)
            web.state["set_session"] = session.token
        web.state["session"] = session
        if web.method == "POST":
            token = web.arg("csrf") or web.header("x-csrf-token")
            if not same_origin(web) or not session.csrf_ok(token):
                return deps.renderer.error(web, 403, "error.forbidden", "error.csrf")
        if route.access == "public":
            return None
        if route.access == "admin":
            if session.admin is None or session.admin not in deps.admins:
                return redirect("/admin/login")
            return None
        if session.account_id is None:
            return redirect("/login?next=" + quote(web.uri if web.method == "GET" else "/", safe=""))
        account = await deps.store.get_account(session.account_id)
        enterprise = account
        if account is not None and not account.is_enterprise:
            enterprise = await deps.store.get_account(account.enterprise_id)
        if (account is None or enterprise is None or account.status is not AccountStatus.ACTIVE
                or enterprise.status is not AccountStatus.ACTIVE):
            deps.sessions.end(session)
            fresh = deps.sessions.new(session.lang)
            fresh.notices.append(("error", i18n.translator(lang_of(web))("login.inactive")))
            web.state["set_session"] = fresh.token
            return redirect("/login")
        web.state["account"] = account
        web.state["enterprise"] = enterprise
        if route.access == "enterprise" and not account.is_enterprise:
            return deps.renderer.error(web, 403, "error.forbidden", "error.forbidden_text")
        return None


def same_origin(web: WebRequest) -> bool:
    """False when the browser says the request comes from another site (or from an opaque origin)."""
    origin = web.header("origin")
    if origin is None or origin == "":
        return True
    if origin == "null":
        return False
    host = web.header("host")
    return host is not None and urlsplit(origin).netloc.lower() == host.lower()


class SignIn:
    """/login, /logout, /admin/login, /lang/<code>."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def routes(self) -> list[Route]:
        return [
            Route("/login", ("GET",), self.login_form, "public"),
            Route("/login", ("POST",), self.login, "public"),
            Route("/logout", ("POST",), self.logout, "public"),
            Route("/admin/login", ("GET",), self.admin_form, "public"),
            Route("/admin/login", ("POST",), self.admin_login, "public"),
            Route("/lang/<code>", ("GET",), self.language, "public"),
        ]

    async def login_form(self, web: WebRequest) -> Response:
        session: Session = web.state["session"]
        if session.account_id is not None:
            return redirect(safe_next(web.arg("next")))
        return self._form(web, admin=False)

    def _form(self, web: WebRequest, admin: bool, error: str | None = None, login: str = "",
              status: int = 200) -> Response:
        return self.deps.renderer.page(web, "login.html", status, admin_login=admin, error=error, login=login,
                                       next=safe_next(web.arg("next")), title_key="login.title")

    async def login(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        login, password = web.arg("login")[:64], web.secret("password")
        keys = (f"id:{login}", f"ip:{web.client_ip}")
        unlocked = self._unlocked(keys)
        if not unlocked():
            return self._form(web, False, t("login.locked"), login, 429)
        try:
            result = await deps.store.authenticate(login, password, web.client_ip, unlocked)
        except PasswordChecksBusy:
            return self._form(web, False, t("login.busy"), login, 429)
        except PasswordCheckDropped:
            return self._form(web, False, t("login.locked"), login, 429)
        ok = result.ok or result.failure is AuthFailure.ADDRESS_NOT_ALLOWED
        if not ok:
            if result.failure is not AuthFailure.INACTIVE:
                for key in keys:
                    deps.lockout.failed(key, deps.reactor.seconds())
                return self._form(web, False, t("login.failed"), login, 401)
            return self._form(web, False, t("login.inactive"), login, 403)
        for key in keys:
            deps.lockout.succeeded(key)
        session = deps.sessions.sign_in(web.state["session"], account_id=result.account.id,
                                        login=result.account.login)
        web.state["set_session"] = session.token
        return redirect(safe_next(web.arg("next")))

    def _unlocked(self, keys: tuple[str, ...]) -> Callable[[], bool]:
        """Whether none of ``keys`` is locked out (asked now, and when the password check's turn comes)."""
        lockout, reactor = self.deps.lockout, self.deps.reactor
        return lambda: not any(lockout.locked(key, reactor.seconds()) for key in keys)

    async def logout(self, web: WebRequest) -> Response:
        session: Session = web.state["session"]
        self.deps.sessions.end(session)
        web.state["set_session"] = ""
        return redirect("/login")

    async def admin_form(self, web: WebRequest) -> Response:
        session: Session = web.state["session"]
        if session.admin is not None:
            return redirect("/admin")
        return self._form(web, admin=True)

    async def admin_login(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        name = web.arg("login")[:64]
        password = web.secret("password")
        keys = (f"admin:{name}", f"ip:{web.client_ip}")
        unlocked = self._unlocked(keys)
        if not unlocked():
            return self._form(web, True, t("login.locked"), name, 429)
        known = deps.admins.get(name)
        try:
            ok = await deps.store.check_password(known or _DUMMY_HASH, password or "-", unlocked)
        except PasswordChecksBusy:
            return self._form(web, True, t("login.busy"), name, 429)
        except PasswordCheckDropped:
            return self._form(web, True, t("login.locked"), name, 429)
        if not (ok and known):
            for key in keys:
                deps.lockout.failed(key, deps.reactor.seconds())
            return self._form(web, True, t("login.failed"), name, 401)
        for key in keys:
            deps.lockout.succeeded(key)
        session = deps.sessions.sign_in(web.state["session"], admin=name)
        web.state["set_session"] = session.token
        return redirect("/admin")

    async def language(self, web: WebRequest, code: str) -> Response:
        lang = i18n.pick(code)
        session: Session = web.state["session"]
        session.lang = lang
        web.state["set_lang"] = lang
        return redirect(safe_next(web.arg("next")))

