"""SGIP 1.2 sequence numbers: node ids, the MMDDHHMMSS word and the counter (sgip.md section 2).

Every SGIP header carries the triple (node id of the originating node,
MMDDHHMMSS, counter).  The triple must be unique over the network (spec 3.4),
a response echoes it, and since Submit_Resp carries no message id the Submit's
triple IS the MT's carrier id that the Report quotes back.  This module builds
triples and renders them as our carrier message id text.  Pure: the clock is
passed in.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Callable

import attrs

#: (node id, MMDDHHMMSS, counter), as in ``Pdu.sequence`` for SGIP
Triple = tuple[int, int, int]

_UINT32 = 2**32
#: node kinds and their leading digit (spec 3.3)
NODE_PREFIX = {"smg": 1, "smsc": 2, "sp": 3, "gns": 4}


def _area_digits(area_code: str) -> str:
    """AAAA: the long-distance area code left-aligned and right-padded with '0' to 4 digits."""
    if not re.fullmatch(r"0[0-9]{2,3}", area_code):
        raise ValueError(f"area code must be 3 or 4 digits with the leading 0, like 010 or 0755, not {area_code!r}")
    return area_code.ljust(4, "0")


def sp_node_id(area_code: str, corp_id: str | int) -> int:
    """SP node id 3AAAAQQQQQ (spec 3.3): area 010 and corp 12345 give 3010012345 (SGIP-02)."""
    corp = str(corp_id)
    if not re.fullmatch(r"[0-9]{1,5}", corp):
        raise ValueError(f"corp id must be 0-99999, not {corp_id!r}")
    return int("3" + _area_digits(area_code) + corp.zfill(5))


def gateway_node_id(kind: str, area_code: str, index: int) -> int:
    """Node id 1AAAAX (SMG), 2AAAAX (SMSC) or 4AAAAX (GNS): SMG 1 in area 010 is 101001 (SGIP-12)."""
    if kind not in ("smg", "smsc", "gns"):
        raise ValueError(f"kind must be smg, smsc or gns, not {kind!r}")
    if not 0 <= index <= 9:
        raise ValueError(f"index is one digit, not {index!r}")
    return int(f"{NODE_PREFIX[kind]}{_area_digits(area_code)}{index}")


def time_word(when: datetime) -> int:
    """The second word: MMDDHHMMSS as a decimal integer (Nov 21 20:55:57 -> 1121205557)."""
    return ((((when.month * 100 + when.day) * 100 + when.hour) * 100 + when.minute) * 100) + when.second


@attrs.define
class SequenceGenerator:
    """Triples for the requests one node sends: its node id, the current time word and a counter.

    The counter starts at ``start``, goes up by one per request and wraps at 2**32
    (spec 3.4); ``clock`` returns the current local time (the carrier's, i.e. UTC+8).
    """

    node_id: int = attrs.field()
    clock: Callable[[], datetime]
    counter: int = 0

    @node_id.validator
    def _check_node_id(self, _attribute: object, value: int) -> None:
        if not 0 <= value < _UINT32:
            raise ValueError(f"node id {value} does not fit in uint32")

    def next(self) -> Triple:
        triple = (self.node_id, time_word(self.clock()), self.counter)
        self.counter = (self.counter + 1) % _UINT32
        return triple


def format_message_id(triple: Triple) -> str:
    """Our carrier message id text for an SGIP MT: the three words as 10 zero-padded decimal digits each.

    30 digits, fixed width, so the text sorts and parses back; (3010012345, 1121205557, 2) gives
    "301001234511212055570000000002".
    """
    node, stamp, counter = triple
    for word in triple:
        if not 0 <= word < _UINT32:
            raise ValueError(f"sequence word {word} does not fit in uint32")
    return f"{node:010d}{stamp:010d}{counter:010d}"


def parse_message_id(text: str) -> Triple:
    """The inverse of ``format_message_id``."""
    if not re.fullmatch(r"[0-9]{30}", text):
        raise ValueError(f"an SGIP message id is 30 decimal digits, not {text!r}")
    words = (int(text[0:10]), int(text[10:20]), int(text[20:30]))
    if any(w >= _UINT32 for w in words):
        raise ValueError(f"{text!r}: a word does not fit in uint32")
    return words
