"""The web centre and the HTTP API as one ``twisted.web`` resource tree.

    root = build_site(store, intake, reactor, admins=...)
    root.putChild(b"metrics", metrics_resource)      # other resources mount beside ours
    reactor.listenTCP(port, make_site(root), interface=...)

``/api/…`` is the JSON API (``api``), ``/static/…`` our own stylesheet and
script (no CDN: the pages load nothing from elsewhere), and every other path
goes to the web centre's router (``pages``).  Both routers read the whole
path, so the tree stays flat.
"""

from __future__ import annotations

from datetime import timezone
from pathlib import Path
from typing import Any, Callable, Mapping, cast

from twisted.web import resource, server, static
from twisted.web.server import Request

from smsgw.policy.lockout import Lockout
from smsgw.web.api import Api, KeyCache
from smsgw.web.auth import Guard, SignIn
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Router, WebRequest
from smsgw.web.pages.admin import Admin
from smsgw.web.pages.dashboard import Dashboard
from smsgw.web.pages.manage import Manage
from smsgw.web.pages.records import Records
from smsgw.web.pages.send import Send
from smsgw.web.pages.settings import Settings
from smsgw.web.render import Renderer, finish
from smsgw.web.sending import Sender
from smsgw.web.sessions import Sessions
from smsgw.web.texts import tz_of

STATIC = Path(__file__).resolve().parent / "static"


class _Static(static.File):
    """Our static files, without directory listings."""

    def directoryListing(self) -> resource.Resource:  # noqa: N802 (Twisted's name)
        return resource.NoResource()


class WebRoot(resource.Resource):
    """``/api`` and ``/static`` are children; anything else is a page of the web centre."""

    def __init__(self, pages: Router, api: Router, deps: Deps) -> None:
        super().__init__()
        self.pages = pages
        self.api = api
        self.deps = deps
        self.putChild(b"api", cast(resource.IResource, api))
        self.putChild(b"static", cast(resource.IResource, _Static(str(STATIC))))

    def getChild(self, path: bytes, request: Request) -> resource.Resource:  # noqa: N802 (Twisted's name)
        return self.pages


def build_site(
    store: Any,
    intake: Any,
    reactor: Any,
    *,
    admins: Mapping[str, str] | None = None,
    lockout: Lockout | None = None,
    tz_offset_minutes: int = 480,
    secure: bool = False,
    changed: Callable[[str, int], None] | None = None,
    policies: Any = None,
) -> WebRoot:
    """The resource tree of the web centre and the HTTP API.

    ``store``: the pipeline's ``StoreClient``; ``intake``: the SMPP ``Intake``
    (submissions take its path); ``admins``: provider administrators, name →
    argon2 hash (the manhole's users); ``lockout``: shared with the SMPP
    binds by default (the intake's); ``tz_offset_minutes``: the time zone
    pages show and read times in (China Standard Time by default);
    ``secure``: mark cookies Secure (served behind TLS); ``changed(kind,
    enterprise_id)``: told when the web centre changed a blacklist or
    signatures (the policy layer reloads its index); ``policies``: the policy
    service, which decides reviews and keeps per-account rules (default: the
    intake's, when it has one).
    """
    tz: timezone = tz_of(tz_offset_minutes)
    keys = KeyCache(store, reactor.seconds)
    deps = Deps(
        store=store, intake=intake, reactor=reactor, sender=Sender(intake, reactor),
        sessions=Sessions(reactor.seconds), lockout=lockout if lockout is not None else intake.lockout,
        admins=dict(admins or {}), renderer=Renderer(tz), keys=keys, tz=tz,
        policies=policies if policies is not None else _policy_service(intake),
    )  # fmt: skip
    notify = changed or (lambda kind, enterprise_id: None)
    api = Api(store, deps.sender, keys, clock=reactor.seconds)
    api_router = Router(api.routes(), api.guard, api.not_found, api.not_allowed, api.failed, secure=secure)
    areas: list[Any] = [SignIn(deps), Dashboard(deps), Send(deps), Records(deps), Manage(deps, notify), Settings(deps),
             Admin(deps, notify)]
    routes = [route for area in areas for route in area.routes()]
    renderer = deps.renderer

    def not_found(web: WebRequest) -> Response:
        return renderer.error(web, 404, "error.not_found", "error.not_found_text")

    def not_allowed(web: WebRequest, allowed: list[str]) -> Response:
        return renderer.error(web, 405, "error.method", "error.not_found_text")

    def failed(web: WebRequest) -> Response:
        return renderer.error(web, 500, "error.failed", "error.failed_text")

    pages = Router(routes, Guard(deps), not_found, not_allowed, failed, after=finish, secure=secure)
    return WebRoot(pages, api_router, deps)


def _policy_service(intake: Any) -> Any:
    """The intake's policy service, if it runs one (not the pass-all stand-in)."""
    found = getattr(intake, "policies", None)
    return found if hasattr(found, "review") else None


def make_site(root: resource.Resource) -> server.Site:
    """The HTTP factory to listen with: no tracebacks to visitors."""
    site = server.Site(root)
    site.displayTracebacks = False
    return site
