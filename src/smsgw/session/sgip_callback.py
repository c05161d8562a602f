"""Sans-IO SGIP 1.2 session of our SMG simulator connecting back to an SP's listener (Bind type 2).

The SMG opens this connection to push MO messages (Deliver), status reports
(Report) and user state changes (UserRpt) to the SP (sgip.md section 1, 4.5-4.7);
the SP only answers.  Bind, window, resend and idle unbind are
``sgip_client.SgipInitiator``'s; the triples come from the simulator's own
``SequenceGenerator`` with the SMG's node id (1AAAAX, sgip.md 2).
"""

from __future__ import annotations

from typing import Any

from smsgw.protocols.sgip12.status import LoginType
from smsgw.session.carrier_events import Event, RequestAnswered, RequestTimedOut
from smsgw.session.carrier_window import Pending
from smsgw.session.sgip_client import SgipInitiator
from smsgw.session.sgip_sequence import Triple


class SgipCallbackSession(SgipInitiator):
    """SMG -> SP: Bind type 2, then ``deliver``/``report``/``userrpt``; answers come as ``RequestAnswered``.

    Each call returns the request's triple, or None when the window is full; it raises
    ``NotReady`` when not bound (check ``can_send``) and ``EncodeError`` for fields
    that do not fit their table (``protocols/sgip12`` DELIVER, REPORT, USERRPT).
    """

    LOGIN_TYPE = LoginType.SMG_TO_SP

    def deliver(self, fields: dict[str, Any], now: float) -> Triple | None:
        """An MO message (sgip.md 4.5)."""
        return self._send_payload("deliver", fields, now)

    def report(self, fields: dict[str, Any], now: float) -> Triple | None:
        """A status report; ``submit_sequence_number`` is the triple of the Submit it is about (sgip.md 4.6)."""
        return self._send_payload("report", fields, now)

    def userrpt(self, fields: dict[str, Any], now: float) -> Triple | None:
        """A user state change (sgip.md 4.7)."""
        return self._send_payload("userrpt", fields, now)

    def _payload_answered(self, pending: Pending, result: int) -> Event:
        return RequestAnswered(pending.sequence, pending.command, result)

    def _gave_up(self, pending: Pending) -> Event:
        return RequestTimedOut(pending.sequence, pending.command, pending.fields)
