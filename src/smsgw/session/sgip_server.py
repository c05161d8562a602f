"""Sans-IO SGIP 1.2 session of our SMG simulator accepting an SP's submit link (Bind type 1).

The SP connects, binds with LoginType 1 and sends Submits (sgip.md 1, 4.4); the
simulator decides each one (``SubmitReceived`` -> ``respond_submit``).  There is
no message id to generate: the Submit's own triple is the carrier id (its text
form is ``sgip_sequence.format_message_id(event.sequence)``), which the
simulator later quotes in a Report over ``sgip_callback``.  Submits beyond the
window are answered with Result 11 "node busy", SGIP's slow-down signal
(sgip.md 5), without reaching the application.
"""

from __future__ import annotations

from smsgw.codec import Pdu
from smsgw.protocols.sgip12.status import THROTTLE, LoginType, Result
from smsgw.session.carrier_events import Event, SubmitReceived
from smsgw.session.carrier_peer import State
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.sgip_listener import SgipAcceptor
from smsgw.session.sgip_sequence import Triple


class SgipServerSession(SgipAcceptor):
    """SP -> SMG, the SMG's side: accepts Bind type 1 and Submits; answers Unbind.

    Events: ``BindRequested``, ``SubmitReceived``, ``ProtocolErrorReceived``, ``LinkLost``.
    """

    LOGIN_TYPE = LoginType.SP_TO_SMG
    PEER_REQUESTS = {State.OPEN: frozenset({"bind"}), State.ACTIVE: frozenset({"submit", "unbind"})}

    def __init__(self, now: float, timers: CarrierTimers | None = None) -> None:
        super().__init__(now, timers)
        #: Submits handed to the application and not yet answered
        self.awaiting: set[Triple] = set()
        self._request_handlers["submit"] = self._on_submit

    def _on_submit(self, pdu: Pdu, now: float) -> list[Event]:
        if not self._admit(pdu):
            return []
        if len(self.awaiting) >= self.timers.window:
            self._respond(pdu, THROTTLE)
            self._forget(pdu.sequence)  # not taken: the same triple may come again
            return []
        self.awaiting.add(pdu.sequence)
        return [SubmitReceived(pdu.sequence, pdu.fields)]

    def respond_submit(self, sequence: Triple, result: int = Result.OK) -> None:
        """Answer a ``SubmitReceived`` (once); Result 0 accepts it under the id its triple makes."""
        if sequence not in self.awaiting:
            return
        self.awaiting.discard(sequence)
        if self.state is State.CLOSED:
            return
        self._answer(Pdu("submit", sequence), result)

    def _busy(self) -> bool:
        return bool(self.awaiting)
