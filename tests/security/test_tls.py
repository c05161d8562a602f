"""``smsgw run`` with TLS configured for both client interfaces: the web centre serves HTTPS only, with
Secure cookies and HSTS, and SMPP binds over TLS; plain connections to those ports get nothing."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from pathlib import Path
from urllib.parse import urlencode

import pytest

from smsgw.codec import Pdu
from smsgw.session.codecs import codec_for
from tests.e2e.run import ROOT, RunningGateway
from tests.security.certs import self_signed, smpp_bind_over_tls
from tests.web.rig import csrf_of


def _tls_config(tmp_path: Path) -> Path:
    cert, key = self_signed(tmp_path)
    text = (ROOT / "config" / "smsgw.toml").read_text(encoding="utf-8")
    tls = f'tls_cert = "{cert}"\ntls_key = "{key}"\n'
    text = text.replace("[web]\n", "[web]\n" + tls).replace("[smpp]\n", "[smpp]\n" + tls)
    text = text.replace('file = "numbering.toml"', f'file = "{ROOT / "config" / "numbering.toml"}"')
    config = tmp_path / "smsgw.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _https(port: int, cafile: str) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("localhost", port, timeout=20,
                                       context=ssl.create_default_context(cafile=cafile))


def _plain_gets_nothing_useful(port: int, request: bytes) -> bytes:
    """What a plain-TCP client reads back after sending ``request`` to a TLS port (at most a TLS alert)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        got = b""
        try:
            while chunk := sock.recv(4096):
                got += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return got


def test_web_and_smpp_over_tls(tmp_path: Path) -> None:
    config = _tls_config(tmp_path)
    cafile = str(tmp_path / "cert.pem")
    with RunningGateway(tmp_path / "data", config) as gw:
        web_line = next(line for line in gw.banner if line.strip().startswith("web"))
        found = re.search(r"https://[\d.]+:(\d+)/", web_line)
        assert found, web_line
        web_port = int(found.group(1))

        conn = _https(web_port, cafile)
        conn.request("GET", "/login")
        form = conn.getresponse()
        page = form.read().decode()
        assert form.status == 200
        assert form.getheader("Strict-Transport-Security", "").startswith("max-age=")
        first = form.getheader("Set-Cookie", "")
        cookie = first.split(";", 1)[0]
        assert "Secure" in first and "HttpOnly" in first, first

        body = urlencode({"login": "demo", "password": "demo", "csrf": csrf_of(page)})
        conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                              "Cookie": cookie})
        signed_in = conn.getresponse()
        signed_in.read()
        assert signed_in.status == 303, signed_in.status
        assert all("Secure" in c for c in signed_in.headers.get_all("Set-Cookie") or [])
        conn.close()

        resp = smpp_bind_over_tls(gw.smpp_port, cafile)
        assert (resp.command, resp.status) == ("bind_transceiver_resp", 0)

        # plain HTTP and plain SMPP on the TLS ports: no page, no bind response
        plain_web = _plain_gets_nothing_useful(web_port, b"GET /login HTTP/1.0\r\nHost: x\r\n\r\n")
        assert b"HTTP/1." not in plain_web
        bind = codec_for("smpp34").encode(Pdu("bind_transceiver", 1, {"system_id": "demo", "password": "demo"}))
        plain_smpp = _plain_gets_nothing_useful(gw.smpp_port, bind)
        assert b"demo" not in plain_smpp and not plain_smpp.startswith(b"\x00\x00")
        assert gw.stop() == 0, gw.stderr()[-3000:]


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    config = _tls_config(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r'(\[web\]\ntls_cert = "[^"]*"\n)tls_key = "[^"]*"\n', r"\1", text), encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"\[web\] TLS needs both tls_cert and tls_key"):
        RunningGateway(tmp_path / "data", config, timeout=60)
