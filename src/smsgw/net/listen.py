"""Listening for clients over plain TCP, or TLS when a PEM certificate and key are configured.

The SMPP listener and the web centre share this: a certificate without its key
(or the reverse) is a configuration error, not a silent fall-back to plain TCP.
"""

from __future__ import annotations

from typing import Any


def tls_options(tls_cert: str, tls_key: str) -> Any:
    """Twisted TLS context options for a server with this certificate (chain) and key (PEM files)."""
    from twisted.internet import ssl

    with open(tls_cert, "rb") as f:
        cert_pem = f.read()
    with open(tls_key, "rb") as f:
        key_pem = f.read()
    return ssl.PrivateCertificate.loadPEM(cert_pem + b"\n" + key_pem).options()


def listen(reactor: Any, factory: Any, port: int, interface: str, tls_cert: str = "", tls_key: str = "",
           what: str = "listener") -> Any:
    """``reactor.listenTCP``, or ``listenSSL`` when both ``tls_cert`` and ``tls_key`` are given."""
    if bool(tls_cert) != bool(tls_key):
        raise ValueError(f"{what} TLS needs both tls_cert and tls_key")
    if not tls_cert:
        return reactor.listenTCP(port, factory, interface=interface)
    return reactor.listenSSL(port, factory, tls_options(tls_cert, tls_key), interface=interface)
