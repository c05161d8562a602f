"""Errors of the codec layer.

Every failure to decode says whose fault it is (always the remote peer's for
``DecodeError``), which field was wrong, and what to answer: the name of the
response PDU to send (``None`` when nothing may be answered, e.g. for a bad
response) and the status to put in it.  ``fatal`` means the byte stream can no
longer be trusted (framing error) and the connection should be closed after
answering.
"""

from __future__ import annotations

from typing import Any


class CodecError(Exception):
    """Base class of everything the codec raises."""


class EncodeError(CodecError):
    """Our own fault: a value does not fit the field it is meant for."""

    def __init__(self, reason: str, *, protocol: str, command: str | None = None, field: str | None = None):
        self.reason = reason
        self.protocol = protocol
        self.command = command
        self.field = field
        where = ".".join(p for p in (protocol, command, field) if p)
        super().__init__(f"{where}: {reason}")


class DecodeError(CodecError):
    """The remote peer sent bytes we cannot accept."""

    def __init__(
        self,
        reason: str,
        *,
        protocol: str,
        status: int,
        command: str | None = None,
        command_id: int | None = None,
        sequence: Any = None,
        field: str | None = None,
        response: str | None = None,
        fatal: bool = False,
    ):
        self.reason = reason
        self.protocol = protocol
        self.status = status
        self.command = command
        self.command_id = command_id
        self.sequence = sequence
        self.field = field
        self.response = response
        self.fatal = fatal
        what = command or (f"command 0x{command_id:08x}" if command_id is not None else "PDU")
        where = f" field {field}" if field else ""
        super().__init__(f"{protocol} {what}{where}: {reason} (answer status 0x{status:x})")


class FieldError(Exception):
    """Internal: raised by custom field kinds with a reason; the engine adds context."""

    def __init__(self, reason: str, status: int | None = None):
        self.reason = reason
        self.status = status
        super().__init__(reason)
