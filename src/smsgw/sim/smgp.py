"""Simulated China Telecom SMGW: SMGP 3.0 server (smgp.md), on ``session.smgp_server``.

An SP logs in with its ClientID and the MD5 authenticator (a wrong secret or
an unknown ClientID gets Status 21, "authentication error").  Submits are
answered with a 10-byte BCD MsgID (``report_smgp.make_msg_id``: the gateway
code ``Behaviour.gateway_code``, China time MMDDHHMM and a 6-digit counter), or
Status 1 "system busy" over the account's TPS: SMGP has no per-second throttle
code and busy is its only retry-later answer (smgp.md 7), the code our client
session flags as throttled.  Reports go back as Deliver with IsReport 1 and the
standard 122-byte text, MOs as Deliver with IsReport 0, on the account's
connections that logged in to receive (LoginMode 1 or 2).
"""

from __future__ import annotations

import itertools
from typing import Any, Mapping

from smsgw.protocols.smgp30.status import Status
from smsgw.session.carrier_events import (
    LinkLost, ProtocolErrorReceived, RequestAnswered, RequestTimedOut, SubmitReceived,
)
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.report_smgp import SmgpReport, make_msg_id, msg_id_to_text, report_text
from smsgw.session.smgp_server import LoginRequested, SmgpServerSession
from smsgw.sim.behaviour import Behaviour, Outcome
from smsgw.sim.core import CarrierSimulator, SpConnection
from smsgw.sim.records import Delivery, MoJob, ReportJob, SubmitView

#: MsgID sequence: 6 BCD digits
_SEQUENCE_MODULO = 1_000_000


class SmgpSpConnection(SpConnection):
    """One SP connection to the simulated SMGW."""

    simulator: SmgpSimulator

    def make_session(self, now: float) -> SmgpServerSession:
        return SmgpServerSession(now, self.simulator.timers)

    def _login(self, event: LoginRequested) -> None:
        account = self.simulator.account(event.client_id)
        if account is not None and event.is_authentic(account.secret):
            self.session.accept_login(event.sequence, account.secret)
            self.simulator.logged_in(self, account.name)
        else:
            self.session.refuse_login(event.sequence, Status.AUTHENTICATION)
            self.simulator.login_refused(self, event.client_id, int(Status.AUTHENTICATION))

    # ---------------------------------------------------------------- SpConnection

    def can_deliver(self) -> bool:
        return not self.gone and bool(self.session.can_deliver())

    def answer_submit(self, sequence: Any, result: int, native_id: Any) -> None:
        if native_id is None:
            self.session.respond_submit(sequence, result)
        else:
            self.session.respond_submit(sequence, result, native_id)

    def send(self, delivery: Delivery) -> int | None:
        return self.simulator.render(self.session, delivery)

    HANDLERS = {
        LoginRequested: _login,
        SubmitReceived: SpConnection.on_submit,
        RequestAnswered: SpConnection.on_answered,
        RequestTimedOut: SpConnection.on_timed_out,
        ProtocolErrorReceived: SpConnection.on_protocol_error,
        LinkLost: SpConnection.on_link_lost,
    }


class SmgpSimulator(CarrierSimulator):
    """The simulated SMGW; a Twisted ``Factory`` (``listen``/``service``, see ``core``)."""

    protocol_id = "smgp30"
    THROTTLE_RESULT = int(Status.SYSTEM_BUSY)
    BAD_DESTINATION = int(Status.ILLEGAL_DEST_TERM_ID)

    def __init__(self, reactor: Any, behaviour: Behaviour, *, timers: CarrierTimers | None = None) -> None:
        super().__init__(reactor, behaviour, "smsgw.sim.smgp30")
        b = behaviour
        self.timers = timers or CarrierTimers(
            window=b.window, response_timeout=b.response_timeout, max_sends=b.max_sends,
            active_test_interval=b.active_test_interval, login_timeout=b.login_timeout,
        )
        self._sequence = itertools.count(1)

    def buildProtocol(self, addr: Any) -> Any:
        connection = SmgpSpConnection(self)
        connection.factory = self
        return connection

    # ---------------------------------------------------------------- submits

    def read_submit(self, fields: Mapping[str, Any]) -> SubmitView:
        tlvs = fields.get("tlvs") or {}
        return SubmitView(
            destinations=tuple(fields["dest_term_id"]), source=fields["src_term_id"], coding=fields["msg_format"],
            content=bytes(fields["msg_content"]), udhi=bool(tlvs.get("tp_udhi")),
            report_flag=fields["need_report"], fields=dict(fields),
        )

    def new_message_id(self, sequence: Any) -> tuple[bytes, str]:
        msg_id = self._next_msg_id()
        return msg_id, msg_id_to_text(msg_id)

    def wants_report(self, view: SubmitView, outcome: Outcome) -> bool:
        return view.report_flag == 1

    def _next_msg_id(self) -> bytes:
        return make_msg_id(self.behaviour.gateway_code, self.wall(), next(self._sequence) % _SEQUENCE_MODULO)

    # ---------------------------------------------------------------- delivers

    def render(self, session: SmgpServerSession, delivery: Delivery) -> int | None:
        """Send ``delivery`` as a Deliver; its sequence, or None when the window is full."""
        now = self.now()
        job = delivery.job
        received = f"{self.wall():%Y%m%d%H%M%S}"
        if isinstance(job, ReportJob):
            stat, err = job.outcome.smgp()
            done = job.done or self.wall()
            report = SmgpReport(
                msg_id=job.native_id, sub="001", dlvrd="001" if job.outcome.delivered else "000",
                submit_date=f"{job.submitted:%y%m%d%H%M}", done_date=f"{done:%y%m%d%H%M}", stat=stat, err=err,
                text=report_text(job.view.content),
            )
            return session.deliver_report(self._next_msg_id(), report, job.recipient, job.view.source, received, now)
        assert isinstance(job, MoJob)
        return session.deliver({
            "msg_id": self._next_msg_id(), "is_report": 0, "msg_format": job.coding, "recv_time": received,
            "src_term_id": job.source, "dest_term_id": job.destination, "msg_content": job.content,
            "tlvs": {"tp_udhi": 1} if job.udhi else {},
        }, now)
