"""Settings of the signed-in account: HTTP API keys and the password."""

from __future__ import annotations

from smsgw.store import api_keys
from smsgw.store.accounts import AuthFailure
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest, redirect
from smsgw.web.pages.common import actor, notice, who


class Settings:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def routes(self) -> list[Route]:
        return [
            Route("/settings", ("GET",), self.show, "user"),
            Route("/settings/keys", ("POST",), self.issue_key, "user"),
            Route("/settings/keys/<key_id>/revoke", ("POST",), self.revoke_key, "user"),
            Route("/settings/password", ("POST",), self.change_password, "user"),
        ]

    async def show(self, web: WebRequest, new_key: str | None = None) -> Response:
        account, _ = who(web)
        keys = await self.deps.store.read(api_keys.keys_of, account.id)
        return self.deps.renderer.page(web, "settings.html", title_key="settings.title", keys=keys, new_key=new_key,
                                       active="/settings")

    async def issue_key(self, web: WebRequest) -> Response:
        deps = self.deps
        account, _ = who(web)
        key_id, secret, whole = api_keys.new_secret()
        try:
            await deps.store.run(api_keys.IssueApiKey(account.id, key_id, api_keys.secret_hash(secret),
                                                      web.arg("label")[:64], deps.now_ms(), actor(web)))
        except Exception as error:  # the store's refusal (too many keys) is shown as it is
            notice(web, "error", str(error))
            return redirect("/settings")
        # shown on this answer only: the key is not stored anywhere we could show it from again
        return await self.show(web, new_key=whole)

    async def revoke_key(self, web: WebRequest, key_id: str) -> Response:
        deps = self.deps
        account, _ = who(web)
        revoked = await deps.store.run(api_keys.RevokeApiKey(account.id, key_id[:24], deps.now_ms(), actor(web)))
        if revoked:
            deps.keys.forget(key_id)
            notice(web, "ok", deps.renderer.t(web)("settings.revoked"))
        return redirect("/settings")

    async def change_password(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        account, _ = who(web)

        current, new, repeat = web.secret("current"), web.secret("new"), web.secret("repeat")
        if new != repeat:
            notice(web, "error", t("settings.mismatch"))
            return redirect("/settings")
        if len(new) < 6:
            notice(web, "error", t("accounts.bad_password"))
            return redirect("/settings")
        result = await deps.store.authenticate(account.login, current, None)
        if not (result.ok or result.failure is AuthFailure.ADDRESS_NOT_ALLOWED):
            deps.lockout.failed(f"id:{account.login}", deps.reactor.seconds())
            notice(web, "error", t("settings.wrong_current"))
            return redirect("/settings")
        await deps.store.set_password(account.id, new, deps.now_ms(), actor(web))
        session = web.state["session"]
        deps.sessions.end_account(account.id)  # every other session of the account ends
        fresh = deps.sessions.sign_in(None, account_id=account.id, login=account.login)
        fresh.lang = session.lang
        web.state["set_session"] = fresh.token
        web.state["session"] = fresh
        notice(web, "ok", t("settings.changed"))
        return redirect("/settings")
