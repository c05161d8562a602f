"""SMPP over TLS when a certificate is configured: a TLS client binds; plain TCP on that port fails."""

from __future__ import annotations

import datetime
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest_twisted
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from twisted.internet import reactor, threads

from smsgw.codec import Pdu
from smsgw.net.smpp_listener import SmppServerFactory, listen
from smsgw.session.codecs import codec_for
from tests.gateway.rig import make_rig


def _self_signed(folder: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def _bind_over_tls(port: int, cafile: str) -> Any:
    codec = codec_for("smpp34")
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(codec.encode(Pdu("bind_transceiver", 1, {"system_id": "demo", "password": "demo"})))
            framer = codec.framer()
            frames: list[bytes] = []
            while not frames:
                frames = framer.feed(sock.recv(4096))
            return codec.decode(frames[0])


@pytest_twisted.inlineCallbacks
def test_bind_over_tls(tmp_path: Path) -> None:
    rig = yield make_rig(tmp_path)
    cert, key = _self_signed(tmp_path)
    port = listen(reactor, SmppServerFactory(rig.intake, reactor), 0, "127.0.0.1", cert, key)
    try:
        resp = yield threads.deferToThread(_bind_over_tls, port.getHost().port, cert)
        assert (resp.command, resp.status) == ("bind_transceiver_resp", 0)
    finally:
        yield port.stopListening()
        yield rig.close()
