"""Messages the gateway itself sends to an account's reserved phone (a temporary password).

A notice is an ordinary stored message of the account it concerns, so the
dispatcher sends it like any other: queued now, uncharged, no receipt asked,
split into UCS2 segments (notices are Chinese text).  Its ``text`` column
holds a description, not the content: the password is only in the segment
payload the carrier needs.
"""

from __future__ import annotations

import secrets

from smsgw.domain.coding import Coding, to_msg_fmt
from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import Account, Message, MessageState, Segment, expires_at_for
from smsgw.domain.segments import split
from smsgw.routing.numbering import NumberingPlan

#: letters and digits that cannot be mistaken for one another on a phone screen
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
DEFAULT_TEMPLATE = "【smsgw】您的临时密码为 {password}，请登录后立即修改。"


def temporary_password(length: int = 10) -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def password_notice(account: Account, password: str, *, ids: IdGenerator, plan: NumberingPlan, now_ms: int,
                    template: str = DEFAULT_TEMPLATE,
                    source_addr: str = "") -> tuple[Message, tuple[Segment, ...]]:
    """The notice telling ``account``'s reserved phone its new password (see the module docstring).

    Raises ``ValueError`` when the account has no reserved phone, ``InvalidNumber``
    when the plan does not know the phone's carrier.
    """
    phone = account.reserved_phone
    if not phone:
        raise ValueError(f"account {account.login} has no reserved phone")
    carrier = plan.carrier_of(phone).value
    message_id = ids.next()
    parts = split(template.format(password=password), Coding.UCS2, message_id & 0xFF)
    segments = tuple(Segment(part.number, part.user_data, 0x40 if part.udh else 0) for part in parts)
    message = Message(
        id=message_id, account_id=account.id, enterprise_id=account.enterprise_id, source_addr=source_addr,
        dest_addr=phone, created_at=now_ms, expires_at=expires_at_for(now_ms, None, account.default_validity_s),
        parts=len(segments), text=f"[temporary password for {account.login}]", data_coding=to_msg_fmt(Coding.UCS2),
        registered_delivery=0, carrier=carrier, state=MessageState.QUEUED, charge=0,
    )  # fmt: skip
    return message, segments
