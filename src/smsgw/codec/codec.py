"""``Codec``: one protocol's tables compiled into ``decode(frame)`` and ``encode(pdu)``.

Decoding never raises anything but ``DecodeError``, whatever the bytes; the
error carries the field, the status and the response to answer with (the
request's own response, the protocol's generic_nack, or nothing for a bad
response, since responses are never answered).
"""

from __future__ import annotations

import struct
from typing import Any, Callable

from smsgw.codec.compiler import _Bad, compile_decoder, compile_encoder, compile_struct
from smsgw.codec.errors import DecodeError, EncodeError, FieldError
from smsgw.codec.fields import Command, ProtocolSpec, Struct
from smsgw.codec.framing import Framer
from smsgw.codec.pdu import Pdu

_Decoder = Callable[[bytes, int, int], "tuple[dict[str, Any], int]"]


class _Compiled:
    __slots__ = ("command", "decode", "encode", "response")

    def __init__(self, command: Command, response: str | None):
        self.command = command
        self.decode: _Decoder = compile_decoder(command.fields, command.name, command.optional_from)
        self.encode = compile_encoder(command.fields, command.name)
        self.response = response


class Codec:
    """Compiled encoder/decoder for one ``ProtocolSpec``."""

    def __init__(self, spec: ProtocolSpec) -> None:
        self.spec = spec
        self.protocol = spec.id
        ids = {c.id: c for c in spec.commands}
        if len(ids) != len(spec.commands):
            raise ValueError(f"{spec.id}: duplicate command ids")
        self._by_id: dict[int, _Compiled] = {}
        self._by_name: dict[str, tuple[int, _Compiled]] = {}
        for c in spec.commands:
            resp = ids.get(c.id | 0x80000000) if not c.is_response else None
            compiled = _Compiled(c, resp.name if resp else None)
            self._by_id[c.id] = compiled
            self._by_name[c.name] = (c.id, compiled)
        kind = spec.header.kind
        self.header_size = spec.header.size
        if kind == "smpp":
            self._head = struct.Struct(">IIII")
        elif kind == "cmpp":
            self._head = struct.Struct(">III")
        elif kind == "sgip":
            self._head = struct.Struct(">IIIII")
        else:  # pragma: no cover - table error
            raise ValueError(kind)
        self._kind = kind

    # ------------------------------------------------------------------ names

    def command_id(self, name: str) -> int:
        return self._by_name[name][0]

    def command_name(self, command_id: int) -> str | None:
        c = self._by_id.get(command_id)
        return c.command.name if c else None

    def response_name(self, request: str) -> str | None:
        """Name of the response to ``request`` (``None`` for responses and unanswered PDUs)."""
        return self._by_name[request][1].response

    def knows(self, command_id: int) -> bool:
        return command_id in self._by_id

    def framer(self) -> Framer:
        """A new framer for one connection of this protocol."""
        spec = self.spec
        return Framer(
            protocol=spec.id,
            min_length=self.header_size,
            max_length=spec.max_length,
            bad_length_status=spec.status_bad_length,
            generic_nack=spec.generic_nack,
            sequence_at=12 if self._kind == "smpp" else (8 if self._kind == "cmpp" else None),
            resync_limit=spec.resync_limit,
            known_command=self.knows,
        )

    # ------------------------------------------------------------------ decode

    def decode(self, frame: bytes) -> Pdu:
        """Decode one whole PDU (as cut by the framer)."""
        end = len(frame)
        hs = self.header_size
        if end < hs:
            raise DecodeError(
                f"{end} bytes is shorter than the {hs}-byte header",
                protocol=self.protocol, status=self.spec.status_bad_length,
                response=self.spec.generic_nack, fatal=True,
            )
        head = self._head.unpack_from(frame, 0)
        length, command_id = head[0], head[1]
        if self._kind == "smpp":
            status, sequence = head[2], head[3]
        elif self._kind == "cmpp":
            status, sequence = 0, head[2]
        else:
            status, sequence = 0, (head[2], head[3], head[4])
        if length != end:
            raise DecodeError(
                f"length field says {length} but the frame has {end} bytes",
                protocol=self.protocol, status=self.spec.status_bad_length, command_id=command_id,
                sequence=sequence, response=self.spec.generic_nack, fatal=True,
            )
        compiled = self._by_id.get(command_id)
        if compiled is None:
            raise DecodeError(
                f"unknown command id 0x{command_id:08x}",
                protocol=self.protocol, status=self.spec.status_unknown_command, command_id=command_id,
                sequence=sequence,
                # a response is never answered, even with generic_nack (avoids loops)
                response=None if command_id & 0x80000000 and self._kind != "smpp" else self.spec.generic_nack,
            )
        if status and end == hs and self.spec.error_response_without_body and compiled.command.is_response:
            return Pdu(compiled.command.name, sequence, {}, status)
        try:
            fields, pos = compiled.decode(frame, hs, end)
        except _Bad as bad:
            raise self._body_error(compiled, command_id, sequence, bad.field, bad.reason, bad.status) from None
        except FieldError as bad:  # pragma: no cover - custom kinds raise inside try blocks
            raise self._body_error(compiled, command_id, sequence, None, bad.reason, bad.status) from None
        if pos != end and not compiled.command.trailing_ok:
            raise self._body_error(
                compiled, command_id, sequence, None, f"{end - pos} bytes after the last field", self.spec.status_bad_length
            )
        return Pdu(compiled.command.name, sequence, fields, status)

    def _body_error(
        self, compiled: _Compiled, command_id: int, sequence: Any, field: str | None, reason: str, status: int | None
    ) -> DecodeError:
        is_response = compiled.command.is_response
        if is_response:
            response = None
        else:
            response = compiled.response or self.spec.generic_nack
        return DecodeError(
            reason,
            protocol=self.protocol,
            status=status if status is not None else self.spec.status_bad_body,
            command=compiled.command.name,
            command_id=command_id,
            sequence=sequence,
            field=field,
            response=response,
        )

    # ------------------------------------------------------------------ encode

    def encode(self, pdu: Pdu) -> bytes:
        """Encode a PDU; raises ``EncodeError`` if a value does not fit its field."""
        try:
            command_id, compiled = self._by_name[pdu.command]
        except KeyError:
            raise EncodeError(f"unknown command {pdu.command!r}", protocol=self.protocol) from None
        command = compiled.command
        if pdu.status and self.spec.error_response_without_body and command.is_response and not command.body_on_error:
            body = b""
        else:
            try:
                body = compiled.encode(pdu.fields)
            except _Bad as bad:
                raise EncodeError(bad.reason, protocol=self.protocol, command=pdu.command, field=bad.field) from None
        length = self.header_size + len(body)
        if length > self.spec.max_length:
            raise EncodeError(f"PDU of {length} bytes exceeds the maximum {self.spec.max_length}",
                              protocol=self.protocol, command=pdu.command)
        try:
            if self._kind == "smpp":
                head = self._head.pack(length, command_id, pdu.status, pdu.sequence)
            elif self._kind == "cmpp":
                head = self._head.pack(length, command_id, pdu.sequence)
            else:
                node, stamp, counter = pdu.sequence
                head = self._head.pack(length, command_id, node, stamp, counter)
        except (struct.error, TypeError, ValueError) as x:
            raise EncodeError(f"bad header value: {x}", protocol=self.protocol, command=pdu.command) from None
        return head + body

    def encode_body(self, command: str, fields: dict[str, Any]) -> bytes:
        """Encode only the body of ``command`` (for tests and nested structures)."""
        try:
            return self._by_name[command][1].encode(fields)
        except _Bad as bad:
            raise EncodeError(bad.reason, protocol=self.protocol, command=command, field=bad.field) from None


class StructCodec:
    """A ``Struct`` on its own (e.g. a status report inside a message's content)."""

    def __init__(self, struct_: Struct, protocol: str, status: int) -> None:
        self.name = struct_.name
        self.protocol = protocol
        self.status = status
        self._decode, self._encode = compile_struct(struct_)

    def decode(self, data: bytes) -> dict[str, Any]:
        """Decode exactly ``data``; raises ``DecodeError`` (with ``status``) on anything else."""
        try:
            fields, pos = self._decode(data, 0, len(data))
        except _Bad as bad:
            raise DecodeError(bad.reason, protocol=self.protocol, status=bad.status if bad.status is not None
                              else self.status, command=self.name, field=bad.field) from None
        if pos != len(data):
            raise DecodeError(f"{len(data) - pos} bytes after the last field", protocol=self.protocol,
                              status=self.status, command=self.name)
        return fields

    def encode(self, fields: dict[str, Any]) -> bytes:
        try:
            return self._encode(fields)
        except _Bad as bad:
            raise EncodeError(bad.reason, protocol=self.protocol, command=self.name, field=bad.field) from None
