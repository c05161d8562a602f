"""Pages from Jinja2 templates (``smsgw/web/templates``), escaped by default, in the visitor's language."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from smsgw.domain import ids
from smsgw.policy.china_time import format_hhmm
from smsgw.web import i18n
from smsgw.web.http import Cookie, Response, WebRequest, html_response
from smsgw.web.sessions import COOKIE, Session
from smsgw.web.texts import local, yuan

LANG_COOKIE = "smsgw_lang"

ENTERPRISE_NAV = (
    ("nav.dashboard", "/"), ("nav.send", "/send"), ("nav.records", "/records"), ("nav.receipts", "/receipts"),
    ("nav.inbox", "/inbox"), ("nav.accounts", "/accounts"), ("nav.signatures", "/signatures"),
    ("nav.blacklist", "/blacklist"), ("nav.ledger", "/ledger"), ("nav.settings", "/settings"),
)  # fmt: skip
SUB_ACCOUNT_NAV = tuple(item for item in ENTERPRISE_NAV if item[1] not in ("/accounts", "/blacklist"))


def lang_of(web: WebRequest) -> str:
    session: Session | None = web.state.get("session")
    if session is not None and session.lang:
        return i18n.pick(session.lang)
    return i18n.pick(web.cookie(LANG_COOKIE))


class Renderer:
    def __init__(self, tz: timezone) -> None:
        self.tz = tz
        env = Environment(
            loader=PackageLoader("smsgw.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["yuan"] = yuan
        env.filters["when"] = lambda ms: local(ms, tz)
        env.filters["msgid"] = lambda value: ids.to_text(int(value))
        env.filters["hhmm"] = format_hhmm
        self.env = env

    def t(self, web: WebRequest) -> Any:
        return i18n.translator(lang_of(web))

    def text(self, web: WebRequest, template: str, **context: Any) -> str:
        session: Session | None = web.state.get("session")
        account = web.state.get("account")
        lang = lang_of(web)
        notices = []
        if session is not None and session.notices:
            notices, session.notices = list(session.notices), []
        values = {
            "lang": lang, "t": i18n.translator(lang), "session": session, "csrf": session.csrf if session else "",
            "nav": ENTERPRISE_NAV if account is None or account.is_enterprise else SUB_ACCOUNT_NAV,
            "active": context.pop("active", web.path), "here": web.uri if web.method == "GET" else web.path,
            "notices": notices, "title_key": None, "refresh": None,
        }  # fmt: skip
        values.update(context)
        return self.env.get_template(template).render(values)

    def page(self, web: WebRequest, template: str, http_status: int = 200, **context: Any) -> Response:
        return html_response(self.text(web, template, **context), http_status)

    def error(self, web: WebRequest, status: int, heading: str, message: str) -> Response:
        t = self.t(web)
        return self.page(web, "error.html", status, heading=t(heading), message=t(message), title_key=heading)


def finish(web: WebRequest, response: Response) -> Response:
    """Cookies the guard or handler decided on: a new session, a language."""
    cookies = []
    token = web.state.get("set_session")
    if token is not None:
        cookies.append(Cookie(COOKIE, token) if token else Cookie(COOKIE, "", max_age=0))
    lang = web.state.get("set_lang")
    if lang is not None:
        cookies.append(Cookie(LANG_COOKIE, lang, max_age=365 * 86400))
    return response.with_cookies(*cookies) if cookies else response
