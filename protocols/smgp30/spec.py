"""The SMGP 3.0 ``ProtocolSpec`` (12-byte header as CMPP: length, RequestID, SequenceID; smgp.md 2)."""

from __future__ import annotations

from smsgw.codec.fields import CMPP_HEADER, ProtocolSpec

from smsgw.protocols.smgp30.status import STATUS_NAMES, Status
from smsgw.protocols.smgp30.tables import COMMANDS

#: Largest PDU accepted: a Submit to 100 receivers is 126 + 21 x 100 + 255 = 2481 bytes before TLVs,
#: and DestTermPseudo can repeat 100 pseudo numbers; 8 KiB leaves room without inviting abuse.
MAX_LENGTH = 8192

SPEC = ProtocolSpec(
    id="smgp30",
    header=CMPP_HEADER,
    commands=COMMANDS,
    max_length=MAX_LENGTH,
    status_unknown_command=int(Status.COMMAND_WORD),
    status_bad_length=int(Status.MESSAGE_STRUCTURE),
    status_bad_body=int(Status.MESSAGE_STRUCTURE),
    # no generic_nack in SMGP: an undecodable request gets its own *_resp with a Status
    status_names=STATUS_NAMES,
)
