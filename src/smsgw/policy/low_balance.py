"""The low-balance alert: one SMS to the enterprise's reserved phone per crossing.

An enterprise with a ``low_balance_threshold`` is *armed* while its balance
is at or above the threshold; the first charge that takes it below sends one
alert and disarms it; a balance seen at or above the threshold again (after a
recharge) re-arms it.  The balance comes from the store after each accepted
batch (``AcceptResult.balance``).  After a restart an enterprise's state is
taken from its first balance seen, counting that message's charge back, so
a crossing by the first message after a restart still alerts and a balance
already below does not alert again.
"""

from __future__ import annotations

from smsgw.domain.model import YUAN


class LowBalanceWatch:
    def __init__(self) -> None:
        self._armed: dict[int, bool] = {}

    def observe(self, enterprise_id: int, balance: int, charge: int, threshold: int | None) -> bool:
        """True when this balance crosses below ``threshold``: send the alert now."""
        if threshold is None:
            self._armed.pop(enterprise_id, None)
            return False
        armed = self._armed.get(enterprise_id)
        if armed is None:
            armed = balance + charge >= threshold
        if balance >= threshold:
            self._armed[enterprise_id] = True
            return False
        self._armed[enterprise_id] = False
        return armed


def yuan(milli_fen: int) -> str:
    """Money for people: 12345000 milli-fen → "123.45"."""
    sign = "-" if milli_fen < 0 else ""
    fen = abs(milli_fen) * 100 // YUAN
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def alert_text(template: str, signature: str, balance: int, threshold: int) -> str:
    return signature + template.format(balance=yuan(balance), threshold=yuan(threshold))
