"""Codec engine: field kinds, table compiler, framing, PDU objects, errors.

Protocol tables live in ``smsgw.protocols.<id>`` and are compiled here into
fast encoders/decoders (see ``Codec``).  Pure: no I/O, no Twisted.
"""

from smsgw.codec.codec import Codec, StructCodec
from smsgw.codec.errors import CodecError, DecodeError, EncodeError, FieldError
from smsgw.codec.framing import Framer
from smsgw.codec.pdu import Pdu

__all__ = ["Codec", "StructCodec", "CodecError", "DecodeError", "EncodeError", "FieldError", "Framer", "Pdu"]
