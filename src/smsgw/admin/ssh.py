"""The manhole over SSH (optional, ``[manhole] ssh = true``): the same prompt and helpers as telnet.

Passwords are checked by the same ``HashedPasswords`` checker.  The host key
is an Ed25519 key in OpenSSH format, made on first start when its file does
not exist (``host_key``), so clients can pin it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.conch import interfaces as iconch
from twisted.conch import manhole_ssh
from twisted.conch.insults import insults
from twisted.conch.ssh import keys
from twisted.cred import portal
from twisted.python import components

from smsgw.admin.manhole import AdminManhole, HashedPasswords, NamespaceFor


def host_key(path: str | Path) -> keys.Key:
    """The host key at ``path``, made (Ed25519, owner-only file) when there is none."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = keys.Key(ed25519.Ed25519PrivateKey.generate())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.toString("OPENSSH"))
    return keys.Key.fromFile(str(path))


class SshManholeRealm(manhole_ssh.TerminalRealm):
    """A terminal session whose prompt is ``AdminManhole`` with the user's own namespace."""

    def __init__(self, namespace_for: NamespaceFor) -> None:
        super().__init__()
        self.namespace_for = namespace_for

    def _getAvatar(self, avatar_id: Any) -> Any:  # noqa: N802 (Twisted's name)
        user = avatar_id.decode() if isinstance(avatar_id, bytes) else str(avatar_id)
        holder = components.Componentized()
        avatar = self.userFactory(holder, avatar_id)
        session = self.sessionFactory(holder)
        session.transportFactory = self.transportFactory
        session.chainedProtocolFactory = lambda: insults.ServerProtocol(  # type: ignore[misc,assignment]
            AdminManhole, self.namespace_for(user), user)
        holder.setComponent(iconch.IConchUser, avatar)
        holder.setComponent(iconch.ISession, session)
        return avatar


def ssh_factory(namespace_for: NamespaceFor, checker: HashedPasswords, key: keys.Key) -> manhole_ssh.ConchFactory:
    """The SSH manhole's factory (listen on it with ``reactor.listenTCP``)."""
    factory = manhole_ssh.ConchFactory(portal.Portal(SshManholeRealm(namespace_for), [checker]))
    factory.publicKeys = {key.sshType(): key.public()}
    factory.privateKeys = {key.sshType(): key}  # type: ignore[dict-item]  # Keys, as SSHFactory uses them
    return factory
