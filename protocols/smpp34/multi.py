"""submit_multi's destination list (spec 4.5.1, tables 4-13 to 4-15), a ``Custom`` field.

The list is ``number_of_dests`` (1 octet, 1..254) followed by that many
``dest_address`` entries whose layout depends on their first octet, dest_flag
(5.2.25): 1 = SME address (dest_addr_ton, dest_addr_npi, destination_addr
C-string <= 21), 2 = distribution list name (dl_name C-string <= 21).  The
engine's ``Array`` has no variant items, hence this hand-written codec.

Decoded value: a list of dicts, each either
``{"dest_flag": 1, "dest_addr_ton": int, "dest_addr_npi": int, "destination_addr": str}`` or
``{"dest_flag": 2, "dl_name": str}``.  Like every count in our tables,
number_of_dests does not appear in the decoded fields: it is ``len(list)``.
"""

from __future__ import annotations

from typing import Any

from smsgw.codec.errors import FieldError

from smsgw.protocols.smpp34.constants import DEST_FLAG_DISTRIBUTION_LIST, DEST_FLAG_SME_ADDRESS, MAX_NUMBER_OF_DESTS
from smsgw.protocols.smpp34.status import CommandStatus

#: destination_addr and dl_name: "Var. max 21" including the NUL (tables 4-14, 4-15)
ADDRESS_MAX = 21

# plain ints, like every status the engine reports
_RINVNUMDESTS = int(CommandStatus.ESME_RINVNUMDESTS)
_RINVDSTTON = int(CommandStatus.ESME_RINVDSTTON)
_RINVDSTNPI = int(CommandStatus.ESME_RINVDSTNPI)
_RINVDSTADR = int(CommandStatus.ESME_RINVDSTADR)
_RINVDLNAME = int(CommandStatus.ESME_RINVDLNAME)
_RINVDESTFLAG = int(CommandStatus.ESME_RINVDESTFLAG)

_SME_KEYS = frozenset({"dest_flag", "dest_addr_ton", "dest_addr_npi", "destination_addr"})
_DL_KEYS = frozenset({"dest_flag", "dl_name"})


def _cstring(buf: bytes, pos: int, end: int, what: str, status: int) -> tuple[str, int]:
    nul = buf.find(0, pos, min(pos + ADDRESS_MAX, end))
    if nul < 0:
        raise FieldError(f"{what}: no NUL within {ADDRESS_MAX} bytes", status)
    return bytes(buf[pos:nul]).decode("latin-1"), nul + 1


def decode_dest_addresses(buf: bytes, pos: int, end: int) -> tuple[list[dict[str, Any]], int]:
    """number_of_dests and the dest_address entries; raises ``FieldError`` with the status to answer."""
    if pos >= end:
        raise FieldError("body ends before number_of_dests", _RINVNUMDESTS)
    count = buf[pos]
    pos += 1
    if not 1 <= count <= MAX_NUMBER_OF_DESTS:
        raise FieldError(f"number_of_dests {count} is not in 1..{MAX_NUMBER_OF_DESTS}", _RINVNUMDESTS)
    out: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        where = f"dest_address {i} of {count}"
        if pos >= end:
            raise FieldError(f"{where}: body ends before dest_flag", _RINVNUMDESTS)
        flag = buf[pos]
        pos += 1
        if flag == DEST_FLAG_SME_ADDRESS:
            if pos >= end:
                raise FieldError(f"{where}: body ends in dest_addr_ton", _RINVDSTTON)
            if pos + 1 >= end:
                raise FieldError(f"{where}: body ends in dest_addr_npi", _RINVDSTNPI)
            ton, npi = buf[pos], buf[pos + 1]
            addr, pos = _cstring(buf, pos + 2, end, f"{where} destination_addr", _RINVDSTADR)
            out.append({"dest_flag": flag, "dest_addr_ton": ton, "dest_addr_npi": npi, "destination_addr": addr})
        elif flag == DEST_FLAG_DISTRIBUTION_LIST:
            name, pos = _cstring(buf, pos, end, f"{where} dl_name", _RINVDLNAME)
            out.append({"dest_flag": flag, "dl_name": name})
        else:
            raise FieldError(f"{where}: dest_flag {flag} is neither 1 (SME) nor 2 (list)", _RINVDESTFLAG)
    return out, pos


def _encode_cstring(value: Any, what: str) -> bytes:
    raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
    if len(raw) >= ADDRESS_MAX or 0 in raw:
        raise FieldError(f"{what} longer than {ADDRESS_MAX - 1} bytes or contains NUL")
    return raw + b"\0"


def encode_dest_addresses(value: Any) -> bytes:
    """The inverse of ``decode_dest_addresses``; raises ``FieldError`` for values that do not fit."""
    entries = list(value or ())
    if not 1 <= len(entries) <= MAX_NUMBER_OF_DESTS:
        raise FieldError(f"submit_multi needs 1..{MAX_NUMBER_OF_DESTS} destinations, got {len(entries)}")
    out = [bytes((len(entries),))]
    for i, entry in enumerate(entries, 1):
        flag = entry.get("dest_flag", DEST_FLAG_SME_ADDRESS if "destination_addr" in entry else None)
        if flag == DEST_FLAG_SME_ADDRESS and set(entry) <= _SME_KEYS:
            ton, npi = entry.get("dest_addr_ton", 0), entry.get("dest_addr_npi", 0)
            if not (isinstance(ton, int) and isinstance(npi, int) and 0 <= ton <= 255 and 0 <= npi <= 255):
                raise FieldError(f"dest_address {i}: dest_addr_ton/dest_addr_npi must be 0..255")
            out.append(bytes((flag, ton, npi)))
            out.append(_encode_cstring(entry.get("destination_addr", ""), f"dest_address {i} destination_addr"))
        elif flag == DEST_FLAG_DISTRIBUTION_LIST and set(entry) <= _DL_KEYS:
            out.append(bytes((flag,)))
            out.append(_encode_cstring(entry.get("dl_name", ""), f"dest_address {i} dl_name"))
        else:
            raise FieldError(f"dest_address {i}: not an SME address or a distribution list: {entry!r}")
    return b"".join(out)
