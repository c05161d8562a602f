"""SGIP 1.2 (China Unicom) wire tables: ``SPEC`` for ``smsgw.codec.Codec``.

20-byte header whose sequence is the triple (node id, MMDDHHMMSS, counter)
(sgip.md section 2); bodies in ``tables``; result codes and charge classes in
``status``.  SGIP has no generic_nack: a request that cannot be decoded is
answered with its own ``*_resp`` and a Result, or the connection is dropped
(spec 3.7.2).
"""

from __future__ import annotations

from smsgw.codec.fields import SGIP_HEADER, ProtocolSpec

from smsgw.protocols.sgip12.status import STATUS_NAMES, Result
from smsgw.protocols.sgip12.tables import COMMANDS

#: Largest PDU accepted: a Submit to 100 receivers (20 + 115 + 21 x 100 + content + 8 = 2243 + content,
#: content <= 160 in practice) with room to spare.  A Trace_Resp listing more than 86 nodes would not fit;
#: no real path is that long.
MAX_LENGTH = 4096

SPEC = ProtocolSpec(
    id="sgip12",
    header=SGIP_HEADER,
    commands=COMMANDS,
    max_length=MAX_LENGTH,
    # SGIP has no "unknown command" code; 5 is "parameter format error".  With no generic_nack
    # an unknown request is not answered anyway (the session drops the connection, spec 3.7.2).
    status_unknown_command=int(Result.PARAMETER_FORMAT),
    status_bad_length=int(Result.MESSAGE_LENGTH),
    status_bad_body=int(Result.PARAMETER_FORMAT),
    status_names=STATUS_NAMES,
)

__all__ = ["MAX_LENGTH", "SPEC"]
