"""Signing a submission: the enterprise's default signature put in front of a text without one.

The contract: a message without a signature (【…】) gets its enterprise's
default, and the signature counts toward segments and billing — so the text
is signed before pricing and its segments are cut again from the signed text
(``PolicyService.prepare``; a replace_sm's new text takes the same way).
"""

from __future__ import annotations

import attrs

from smsgw.domain.coding import Coding, choose_coding, encode
from smsgw.domain.model import Account
from smsgw.domain.segments import SegmentationError, split
from smsgw.domain.udh import concat_udh
from smsgw.policy.chain import Chain
from smsgw.session.smpp_submit import Submission

#: the carrier coding rules signed texts follow (the strictest: ASCII or UCS2)
CARRIER_PROTOCOL = "cmpp30"
#: octets of an unsegmented message per carrier coding (``domain.segments``: 70 UCS2 units, 159 ASCII)
_SINGLE_OCTETS = {Coding.UCS2: 140, Coding.ASCII: 159}


def sign_submission(chain: Chain, account: Account, sub: Submission, reference: int) -> Submission:
    """``sub`` with its enterprise's default signature put in front when it has none,
    its coding chosen and its segments cut again (what is stored is what is billed).

    Parts of a long message the client split itself are single submissions: only the
    first part is signed, and only when the signature still fits in it; otherwise the
    submission is left as it is (the chain rejects it if the enterprise has no signature)."""
    if sub.text is None:
        return sub
    signed = chain.signatures.sign(account.enterprise_id, sub.text)
    if signed is None:
        return sub
    coding = choose_coding(signed, CARRIER_PROTOCOL)
    concat = sub.client_concat
    if concat is not None:
        if concat.number != 1:
            return sub
        part = concat_udh(concat) + encode(signed, coding)
        if len(part) > 140:
            return sub
        return attrs.evolve(sub, text=signed, coding=coding, segments=(part,))
    single = encode(signed, coding)
    if len(single) <= _SINGLE_OCTETS.get(coding, 0):
        # one segment (most messages): its user data is the encoded text, as ``split`` makes it
        return attrs.evolve(sub, text=signed, coding=coding, segments=(single,), udhi=False)
    try:
        parts = split(signed, coding, reference & 0xFF)
    except SegmentationError:
        return sub
    return attrs.evolve(sub, text=signed, coding=coding, segments=tuple(p.user_data for p in parts),
                        udhi=len(parts) > 1)
