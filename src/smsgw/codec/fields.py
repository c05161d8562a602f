"""Field kinds: the vocabulary in which ``protocols/<id>/`` tables are written.

A table is data: a tuple of field declarations per command.  Nothing here
reads or writes bytes; ``smsgw.codec.compiler`` turns the declarations into
decoders and encoders once, when a ``Codec`` is built.

Conventions shared by the carrier protocols and SMPP:

* integers are unsigned big-endian;
* ``CString`` is SMPP's C-Octet String: at most ``max_size`` bytes *including*
  the terminating NUL (smpp-notes.md section 4);
* ``Text`` is the fixed-width "Octet String" of CMPP/SGIP/SMGP: exactly ``size``
  bytes, left-aligned and padded with NUL; decoding stops at the first NUL;
* a length or count is declared once (``UInt(..., length_of=...)``); it is read
  on decode and computed on encode, and never appears in the decoded fields.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Union

import attrs

#: ``decode(buf, pos, end) -> (value, new_pos)``; raise ``FieldError`` on bad bytes.
CustomDecode = Callable[[bytes, int, int], "tuple[Any, int]"]
#: ``encode(value) -> bytes``; raise ``FieldError`` when the value does not fit.
CustomEncode = Callable[[Any], bytes]


@attrs.frozen
class UInt:
    """Unsigned big-endian integer of 1, 2, 4 or 8 bytes."""

    name: str
    size: int = 1
    status: int | None = None
    #: name of the field whose ``len()`` this integer carries (a length or a count)
    length_of: str | None = None
    default: int = 0

    def __attrs_post_init__(self) -> None:
        if self.size not in (1, 2, 4, 8):
            raise ValueError(f"UInt {self.name}: size must be 1, 2, 4 or 8")


@attrs.frozen
class CString:
    """NUL-terminated string of at most ``max_size`` bytes including the NUL."""

    name: str
    max_size: int
    status: int | None = None
    encoding: str = "latin-1"
    #: sizes other than 1 and ``max_size`` that are refused (SMPP times are 1 or 17)
    exact_sizes: tuple[int, ...] = ()
    default: str = ""


@attrs.frozen
class Text:
    """Fixed-width NUL-padded text of exactly ``size`` bytes."""

    name: str
    size: int
    status: int | None = None
    encoding: str = "latin-1"
    default: str = ""


@attrs.frozen
class Octets:
    """Raw bytes: a fixed ``size``, or as many as the field ``length_field`` says."""

    name: str
    size: int | None = None
    length_field: str | None = None
    status: int | None = None
    default: bytes | None = None

    def __attrs_post_init__(self) -> None:
        if (self.size is None) == (self.length_field is None):
            raise ValueError(f"Octets {self.name}: give exactly one of size and length_field")


@attrs.frozen
class Struct:
    """A group of fields, used as the item of an ``Array`` or as a body of its own."""

    name: str
    fields: tuple["Field", ...]


@attrs.frozen
class Array:
    """``count_field`` repetitions of ``item`` (a ``Text`` or a ``Struct``); decodes to a list."""

    name: str
    count_field: str
    item: Union[Text, Struct]
    status: int | None = None


@attrs.frozen
class Custom:
    """A field with hand-written decode/encode (for layouts that are not a plain sequence)."""

    name: str
    decode: CustomDecode
    encode: CustomEncode
    status: int | None = None
    default: Any = None


@attrs.frozen
class TlvSpec:
    """One known optional parameter.

    ``kind`` is ``"uint"`` (value length must equal ``size``), ``"cstring"``
    (NUL-terminated, at most ``size`` bytes with the NUL), ``"text"`` (NUL-padded
    text; encoded padded to ``size`` when given) or ``"octets"``.
    """

    tag: int
    name: str
    kind: str = "octets"
    size: int | None = None
    #: accept a "uint" of another length than ``size`` (peers that mis-size it; SMGP "trust Length")
    lenient: bool = False

    def __attrs_post_init__(self) -> None:
        if self.kind not in ("uint", "cstring", "text", "octets"):
            raise ValueError(f"TLV {self.name}: unknown kind {self.kind!r}")
        if self.kind == "uint" and self.size not in (1, 2, 4):
            raise ValueError(f"TLV {self.name}: uint size must be 1, 2 or 4")


@attrs.frozen
class Tlvs:
    """Tag-length-value parameters filling the rest of the body.

    Decodes to a dict keyed by the parameter's name for known tags and by the
    integer tag for unknown ones (kept, so a PDU re-encodes to the same bytes).
    """

    name: str
    table: tuple[TlvSpec, ...]
    #: status when the TLV stream itself is broken (truncated header, value overrunning the body)
    status: int | None = None
    #: status when a known TLV has a length its kind does not allow
    length_status: int | None = None


Field = Union[UInt, CString, Text, Octets, Array, Custom, Tlvs]


@attrs.frozen
class Command:
    """One PDU type: its name as in the spec (lowercased), id and body fields."""

    name: str
    id: int
    fields: tuple[Field, ...] = ()
    #: the body may end before this field (all later fields then take their defaults)
    optional_from: str | None = None
    #: bytes after the last field are tolerated and dropped (peers known to send them)
    trailing_ok: bool = False
    #: a response that keeps its body when command_status is non-zero, where the protocol
    #: otherwise drops it (``ProtocolSpec.error_response_without_body``): the body is the error's detail
    body_on_error: bool = False
    description: str = ""

    @property
    def is_response(self) -> bool:
        return bool(self.id & 0x80000000)


@attrs.frozen
class HeaderLayout:
    """The fixed header: ``kind`` is ``"smpp"`` (length, id, status, sequence),
    ``"cmpp"`` (length, id, sequence; also SMGP) or ``"sgip"`` (length, id and a
    three-part sequence: node id, time MMDDHHMMSS, counter)."""

    kind: str

    @property
    def size(self) -> int:
        return {"smpp": 16, "cmpp": 12, "sgip": 20}[self.kind]


SMPP_HEADER = HeaderLayout("smpp")
CMPP_HEADER = HeaderLayout("cmpp")
SGIP_HEADER = HeaderLayout("sgip")


@attrs.frozen
class ProtocolSpec:
    """Everything the engine needs to know about one protocol (one version)."""

    id: str
    header: HeaderLayout
    commands: tuple[Command, ...]
    max_length: int
    #: status to answer an unknown command id with
    status_unknown_command: int
    #: status to answer an impossible length with
    status_bad_length: int
    #: status for a malformed body when the field names none of its own
    status_bad_body: int
    #: name of the response sent for PDUs that cannot be answered with their own response
    generic_nack: str | None = None
    #: SMPP: a response with a non-zero command_status carries no body (section 4.1 notes),
    #: unless its ``Command.body_on_error`` says otherwise
    error_response_without_body: bool = False
    #: bytes the framer may skip to find the next plausible header after a peer's
    #: mis-declared length (0 = the stream is unusable after the first bad length)
    resync_limit: int = 0
    status_names: Mapping[int, str] = attrs.field(factory=dict)

    def command(self, name: str) -> Command:
        for c in self.commands:
            if c.name == name:
                return c
        raise KeyError(f"{self.id} has no command {name!r}")
