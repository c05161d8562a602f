"""Simulated China Mobile ISMG: CMPP 2.0 and 3.0 server (cmpp.md), on ``session.cmpp_server``.

An SP connects and sends CONNECT; the session checks AuthenticatorSource with
the account's secret (an unknown SP_Id gets Status 2, a wrong secret 3).
SUBMITs are answered with a Msg_Id built with the spec's bit layout
(``report_cmpp.make_msg_id``: China time, the ISMG code ``Behaviour.gateway_code``
and a 16-bit counter), or Result 8 (flow control) over the account's TPS.
Status reports go back as DELIVER with Registered_Delivery 1, in the layout of
the connection they go on (60 bytes in 2.0, 71 in 3.0); MOs as DELIVER with
Registered_Delivery 0.  Either goes on any logged-in connection of the account.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterable, Mapping

from smsgw.protocols.cmpp20 import status
from smsgw.session.cmpp_common import FLOW_CONTROL, OK, State, Timers
from smsgw.session.cmpp_server import (
    CmppServerSession, DeliverAnswered, DeliverTimedOut, LinkLost, LoginAnswered, LoginRequested,
    ProtocolErrorReceived, SubmitReceived,
)
from smsgw.session.report_cmpp import CmppReport, make_msg_id, msg_id_text
from smsgw.sim.behaviour import Behaviour, Outcome
from smsgw.sim.core import CarrierSimulator, SpConnection
from smsgw.sim.records import Delivery, MoJob, ReportJob, SubmitView

#: TP_udhi values meaning "Msg_Content starts with a UDH": the spec's 1 and the GSM bit 0x40 (cmpp.md 9)
_UDHI_BITS = 0x41
_DEST_ERROR = next(c.value for c in status.SUBMIT_RESULT.values() if c.name == "dest_terminal_id_error")
#: Dest_Id/Service_Id widths of DELIVER (both versions)
_DEST_ID, _SERVICE_ID = 21, 10


class CmppSpConnection(SpConnection):
    """One SP connection to the simulated ISMG."""

    simulator: CmppSimulator

    def make_session(self, now: float) -> CmppServerSession:
        sim = self.simulator
        return CmppServerSession(now, protocols=sim.protocols, timers=sim.timers, window=sim.behaviour.window)

    def _login(self, event: LoginRequested) -> None:
        account = self.simulator.account(event.source_addr)
        self.handle(self.session.answer_login(account.secret if account is not None else None))

    def _login_answered(self, event: LoginAnswered) -> None:
        if event.status == OK:
            self.simulator.logged_in(self, event.source_addr)
        else:
            self.simulator.login_refused(self, event.source_addr, event.status)

    # ---------------------------------------------------------------- SpConnection

    def can_deliver(self) -> bool:
        session: CmppServerSession = self.session
        return not self.gone and session.state is State.ACTIVE and session.window_free > 0

    def answer_submit(self, sequence: Any, result: int, native_id: Any) -> None:
        self.session.answer_submit(sequence, result, native_id or 0)

    def send(self, delivery: Delivery) -> int | None:
        return self.simulator.render(self.session, delivery)

    HANDLERS = {
        LoginRequested: _login,
        LoginAnswered: _login_answered,
        SubmitReceived: SpConnection.on_submit,
        DeliverAnswered: SpConnection.on_answered,
        DeliverTimedOut: SpConnection.on_timed_out,
        ProtocolErrorReceived: SpConnection.on_protocol_error,
        LinkLost: SpConnection.on_link_lost,
    }


class CmppSimulator(CarrierSimulator):
    """The simulated ISMG; a Twisted ``Factory`` (``listen``/``service``, see ``core``).

    ``protocols``: the versions it speaks (a CONNECT asking for another one gets
    Status 4).  ``timers`` default to the behaviour's.
    """

    protocol_id = "cmpp30"
    THROTTLE_RESULT = FLOW_CONTROL
    BAD_DESTINATION = _DEST_ERROR

    def __init__(self, reactor: Any, behaviour: Behaviour, *, protocols: Iterable[str] = ("cmpp20", "cmpp30"),
                 timers: Timers | None = None) -> None:
        self.protocols = tuple(protocols)
        if not self.protocols or set(self.protocols) - {"cmpp20", "cmpp30"}:
            raise ValueError(f"protocols are cmpp20 and/or cmpp30, not {self.protocols!r}")
        #: the highest version spoken (names the log namespace; the records name each connection's own)
        self.protocol_id = "cmpp30" if "cmpp30" in self.protocols else "cmpp20"
        super().__init__(reactor, behaviour, f"smsgw.sim.{self.protocol_id}")
        b = behaviour
        self.timers = timers or Timers(active_test_interval=b.active_test_interval, response_timeout=b.response_timeout,
                                       max_sends=b.max_sends, login_timeout=b.login_timeout)
        self.gateway = int(b.gateway_code)
        self._sequence = itertools.count(1)
        self._smsc_sequence = itertools.count(1)

    def buildProtocol(self, addr: Any) -> Any:
        connection = CmppSpConnection(self)
        connection.factory = self
        return connection

    # ---------------------------------------------------------------- submits

    def read_submit(self, fields: Mapping[str, Any]) -> SubmitView:
        return SubmitView(
            destinations=tuple(fields["dest_terminal_id"]), source=fields["src_id"], coding=fields["msg_fmt"],
            content=bytes(fields["msg_content"]), udhi=bool(fields["tp_udhi"] & _UDHI_BITS),
            report_flag=fields["registered_delivery"], fields=dict(fields),
        )

    def new_message_id(self, sequence: Any) -> tuple[int, str]:
        msg_id = self._next_msg_id()
        return msg_id, msg_id_text(msg_id)

    def wants_report(self, view: SubmitView, outcome: Outcome) -> bool:
        return view.report_flag == 1  # 2.0's 2 (SMC bill) asks for no report

    def _next_msg_id(self) -> int:
        return make_msg_id(self.wall(), self.gateway, next(self._sequence))

    # ---------------------------------------------------------------- delivers

    def render(self, session: CmppServerSession, delivery: Delivery) -> int | None:
        """Send ``delivery`` on ``session`` in its version's layout; its sequence, or None if the window is full."""
        now = self.now()
        job = delivery.job
        if isinstance(job, ReportJob):
            done = job.done or self.wall()
            report = CmppReport(
                msg_id=job.native_id, stat=job.outcome.cmpp(), submit_time=f"{job.submitted:%y%m%d%H%M}",
                done_time=f"{done:%y%m%d%H%M}", dest_terminal_id=job.recipient,
                smsc_sequence=next(self._smsc_sequence) & 0xFFFFFFFF,
            )
            return session.deliver_report(report, now, {
                "msg_id": self._next_msg_id(), "dest_id": job.view.source[:_DEST_ID],
                "service_id": str(job.view.fields.get("service_id", ""))[:_SERVICE_ID],
            })
        assert isinstance(job, MoJob)
        return session.deliver({
            "msg_id": self._next_msg_id(), "dest_id": job.destination, "service_id": "", "tp_pid": 0,
            "tp_udhi": 1 if job.udhi else 0, "msg_fmt": job.coding, "src_terminal_id": job.source,
            "registered_delivery": 0, "msg_content": job.content,
        }, now)
