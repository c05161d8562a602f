"""SMPP 3.4 wire tables: we are the SMSC towards client applications (ESMEs).

Source: "Short Message Peer to Peer Protocol Specification v3.4, Issue 1.2"
(1999) and the protocol notes (smpp-notes.md).  Modules:

* ``commands``: every PDU's field table and ``SPEC`` (the ``ProtocolSpec``);
* ``multi``: submit_multi's destination list (a ``Custom`` field);
* ``tlvs``: the complete 3.4 optional-parameter table;
* ``status``: command_status codes with their meanings;
* ``constants``: message_state, esm_class, registered_delivery, data_coding, TON/NPI.

Golden vectors are in ``vectors/`` (``smsgw.protocols.vectors.load("smpp34")``).
"""

from smsgw.protocols.smpp34.commands import COMMANDS, FIELD_STATUS, MAX_LENGTH, SPEC
from smsgw.protocols.smpp34.constants import DataCoding, MessageState
from smsgw.protocols.smpp34.status import MEANINGS, STATUS_NAMES, CommandStatus

__all__ = [
    "COMMANDS",
    "FIELD_STATUS",
    "MAX_LENGTH",
    "MEANINGS",
    "SPEC",
    "STATUS_NAMES",
    "CommandStatus",
    "DataCoding",
    "MessageState",
]
