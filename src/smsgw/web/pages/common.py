"""Small helpers every page uses: who is asking, what they may see, one-time notices."""

from __future__ import annotations

from typing import Any

from smsgw.domain import ids
from smsgw.domain.model import Account
from smsgw.store import web_queries
from smsgw.web.deps import Deps
from smsgw.web.http import WebRequest


def who(web: WebRequest) -> tuple[Account, Account]:
    """(the signed-in account, its enterprise)."""
    return web.state["account"], web.state["enterprise"]


def actor(web: WebRequest) -> str:
    """How the audit log names the person acting through the web centre."""
    session = web.state["session"]
    return f"web:{session.admin}" if session.admin else f"web:{session.login}"


async def scope(deps: Deps, account: Account) -> list[int]:
    return list(await deps.store.read(web_queries.scope_ids, account))


async def logins(deps: Deps, account_ids: Any) -> dict[int, str]:
    return dict(await deps.store.read(web_queries.logins, list(account_ids)))


def notice(web: WebRequest, kind: str, text: str) -> None:
    """Shown once, on the next page (after the redirect)."""
    web.state["session"].notices.append((kind, text))


def parse_id(text: str) -> int | None:
    try:
        return ids.from_text(text)
    except ValueError:
        return None


def parse_int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 19 else None
