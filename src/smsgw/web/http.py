"""The HTTP plumbing of the web centre and the API: requests in, responses out, routes.

``Router`` is a ``twisted.web`` leaf resource that dispatches on a werkzeug
``Map`` (rule → endpoint) to async handlers; every handler gets a ``WebRequest``
(a read-only view of the Twisted request with decoded arguments) and returns
a ``Response``.  Responses carry the security headers every page needs (CSP
that allows only our own scripts and styles, no framing, no sniffing).  An
exception that escapes a handler is logged and answered by the router's
``failed`` callback, never with a traceback.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import unquote

import attrs
from twisted.internet.defer import CancelledError, Deferred, ensureDeferred
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

log = Logger(namespace="smsgw.web")

#: the largest request body read (a CSV of some tens of thousands of numbers fits)
MAX_BODY = 8 * 1024 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@attrs.frozen
class Cookie:
    name: str
    value: str
    max_age: int | None = None  # None: a session cookie; 0: delete
    http_only: bool = True


@attrs.frozen
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    cookies: tuple[Cookie, ...] = ()

    def with_cookies(self, *cookies: Cookie) -> Response:
        return attrs.evolve(self, cookies=self.cookies + cookies)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, "application/json; charset=utf-8", dict(headers or {}))


def html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode("utf-8"))


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", "text/plain; charset=utf-8", {"Location": location})


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything that could leave the site becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 0x20 for ch in target):
        return default
    return target


class WebRequest:
    """What a handler may read of a request; arguments decoded as UTF-8."""

    def __init__(self, request: Request, secure: bool) -> None:
        self.raw = request
        self.secure = secure
        self.method = request.method.decode("ascii", "replace").upper()
        self.path = unquote(request.path.decode("utf-8", "replace"))
        self.uri = request.uri.decode("utf-8", "replace")
        self.client_ip = getattr(request.getClientAddress(), "host", "") or ""
        raw_args: dict[bytes, list[bytes]] = request.args or {}
        self._args: dict[str, list[bytes]] = {k.decode("utf-8", "replace"): v for k, v in raw_args.items()}
        self.state: dict[str, Any] = {}  # what guards learn (session, account) for the handler

    def arg(self, name: str, default: str = "") -> str:
        values = self._args.get(name)
        if not values:
            return default
        return values[0].decode("utf-8", "replace").strip()

    def secret(self, name: str) -> str:
        """An argument exactly as sent (passwords, message texts: no stripping)."""
        values = self._args.get(name)
        return values[0].decode("utf-8", "replace") if values else ""

    def args(self, name: str) -> list[str]:
        return [v.decode("utf-8", "replace") for v in self._args.get(name, [])]

    def file(self, name: str) -> bytes:
        values = self._args.get(name)
        return values[0] if values else b""

    def header(self, name: str) -> str | None:
        value = self.raw.getHeader(name)
        return value if value is None else str(value)

    def cookie(self, name: str) -> str | None:
        value = self.raw.getCookie(name.encode("ascii"))
        return None if value is None else value.decode("ascii", "replace")

    def body(self) -> bytes:
        content = self.raw.content
        if content is None:
            return b""
        content.seek(0, 2)
        size = content.tell()
        if size > MAX_BODY:
            raise BodyTooLarge(size)
        content.seek(0)
        return bytes(content.read())

    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


class BodyTooLarge(Exception):
    pass


Handler = Callable[..., Awaitable[Response]]


@attrs.frozen
class Route:
    rule: str
    methods: tuple[str, ...]
    handler: Handler
    #: what the router's guard checks before the handler runs (see ``Router``)
    access: str = "public"


class Router(Resource):
    """A leaf resource: matches the whole path against its routes and runs the handler.

    ``guard(route, web_request)`` runs first (sessions, CSRF, access) and may
    answer instead of the handler; ``not_found``, ``not_allowed`` and ``failed``
    make the answers for unknown paths, wrong methods and handler crashes;
    ``after`` may add to every answer (cookies).
    """

    isLeaf = True

    def __init__(
        self,
        routes: list[Route],
        guard: Callable[[Route, WebRequest], Awaitable[Response | None]],
        not_found: Callable[[WebRequest], Response],
        not_allowed: Callable[[WebRequest, list[str]], Response],
        failed: Callable[[WebRequest], Response],
        after: Callable[[WebRequest, Response], Response] | None = None,
        secure: bool = False,
    ) -> None:
        super().__init__()
        self._routes = {f"r{i}": route for i, route in enumerate(routes)}
        self._map = Map(
            [Rule(route.rule, endpoint=name, methods=list(route.methods)) for name, route in self._routes.items()],
            strict_slashes=False,
            merge_slashes=False,
        )
        self._guard = guard
        self._not_found = not_found
        self._not_allowed = not_allowed
        self._failed = failed
        self._after = after or (lambda web, response: response)
        self._secure = secure

    def render(self, request: Request) -> Any:
        web = WebRequest(request, self._secure or request.isSecure())
        d = ensureDeferred(self._answer(web))
        d.addCallback(lambda response: self._after(web, response))
        finished = request.notifyFinish()
        finished.addErrback(lambda _: d.cancel())

        def write(response: Response) -> None:
            if not finished.called:
                send(request, response, web.secure)

        def crashed(failure: Any) -> None:
            if failure.check(CancelledError):
                return
            log.failure("web handler for {path} failed", failure, path=web.path)
            if not finished.called:
                send(request, self._failed(web), web.secure)

        d.addCallbacks(write, crashed)
        return NOT_DONE_YET

    async def _answer(self, web: WebRequest) -> Response:
        adapter = self._map.bind("localhost")
        try:
            endpoint, values = adapter.match(web.path, web.method)
        except NotFound:
            return self._not_found(web)
        except MethodNotAllowed as error:
            return self._not_allowed(web, sorted(error.valid_methods or []))
        route = self._routes[endpoint]
        early = await self._guard(route, web)
        if early is not None:
            return early
        return await route.handler(web, **values)


def send(request: Request, response: Response, secure: bool = False) -> None:
    """Write ``response``; ``secure``: served over TLS (directly or behind a TLS proxy), so cookies are
    Secure and browsers are told to keep to HTTPS (HSTS)."""
    secure = secure or request.isSecure()
    request.setResponseCode(response.status)
    for name, value in SECURITY_HEADERS.items():
        request.setHeader(name, value)
    if secure:
        request.setHeader("Strict-Transport-Security", "max-age=31536000")
    request.setHeader("Content-Type", response.content_type)
    for name, value in response.headers.items():
        request.setHeader(name, value)
    for cookie in response.cookies:
        request.addCookie(
            cookie.name.encode("ascii"), cookie.value.encode("ascii"), path=b"/", httpOnly=cookie.http_only,
            sameSite="lax", secure=secure or None,
            max_age=None if cookie.max_age is None else str(cookie.max_age).encode("ascii"),
        )  # fmt: skip
    if request.method == b"HEAD":
        request.setHeader("Content-Length", str(len(response.body)))
        request.finish()
        return
    request.write(response.body)
    request.finish()


def sleep(reactor: Any, seconds: float) -> Deferred[None]:
    """A Deferred that fires after ``seconds`` on ``reactor`` (cancelling it cancels the timer)."""

    def cancel(_: Deferred[None]) -> None:
        if call.active():
            call.cancel()

    d: Deferred[None] = Deferred(cancel)
    call = reactor.callLater(seconds, d.callback, None)
    return d
