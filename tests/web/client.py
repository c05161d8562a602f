"""A small HTTP client over Twisted's Agent for the in-process tests: cookies kept, redirects not followed."""

from __future__ import annotations

import json
import secrets
from http.cookiejar import CookieJar
from io import BytesIO
from typing import Any, Mapping
from urllib.parse import urlencode

import attrs
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.web.client import Agent, CookieAgent, FileBodyProducer, readBody
from twisted.web.http_headers import Headers


@attrs.frozen
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = CookieJar()
        self.agent = CookieAgent(Agent(reactor), self.cookies)

    def cookie(self, name: str) -> str | None:
        for cookie in self.cookies:
            if cookie.name == name:
                return cookie.value
        return None

    @inlineCallbacks
    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Any:
        raw = Headers({k.encode(): [v.encode()] for k, v in (headers or {}).items()})
        producer = FileBodyProducer(BytesIO(body)) if body is not None else None
        response = yield self.agent.request(method.encode(), (self.base + path).encode(), raw, producer)
        content = yield readBody(response)
        found = {name.decode().lower(): values[-1].decode("latin-1")
                 for name, values in response.headers.getAllRawHeaders()}
        return Reply(response.code, found, content)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Any:
        return self.request("GET", path, None, headers)

    def post(self, path: str, form: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Any:
        return self.request("POST", path, urlencode(form, doseq=True).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def post_multipart(self, path: str, form: Mapping[str, str], files: Mapping[str, tuple[str, bytes]]) -> Any:
        boundary = "----smsgw" + secrets.token_hex(8)
        parts = []
        for name, value in form.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                         + value.encode() + b"\r\n")
        for name, (filename, data) in files.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def api(self, method: str, path: str, key: str | None, payload: Any = None, raw: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
        return self.request(method, path, body, headers)
