"""Minimal carrier gateways for the link tests, built from the committed sans-IO SERVER sessions.

Each is a Twisted ``Factory`` whose protocol feeds bytes to the server session
and acts on its events as the test tells it (``mode``): answer submits with a
fresh carrier id, answer "too fast", hold them unanswered, or refuse them.  The
test can then push reports and MO over the same connection (CMPP, SMGP) or, for
SGIP, over a connection of the gateway's own to our listener (``SgipCallback``).
No timers are run: the tests are short, and the gateways' own timeouts are not
what is under test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

from smsgw.net.links.config import CARRIER_TZ
from smsgw.protocols.sgip12.status import Result
from smsgw.protocols.smgp30.status import Status
from smsgw.session import cmpp_server, sgip_server, smgp_server
from smsgw.session.carrier_events import LinkLost, RequestAnswered, SubmitReceived
from smsgw.session.cmpp_common import FLOW_CONTROL
from smsgw.session.report_cmpp import CmppReport, make_msg_id, msg_id_text
from smsgw.session.report_smgp import SmgpReport, make_msg_id as smgp_msg_id, msg_id_to_text, report_text
from smsgw.session.sgip_callback import SgipCallbackSession
from smsgw.session.sgip_listener import BindRequested
from smsgw.session.sgip_sequence import SequenceGenerator, format_message_id, gateway_node_id, parse_message_id

NOW = datetime(2024, 3, 8, 9, 30, 0, tzinfo=CARRIER_TZ)


async def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``predicate`` on the real reactor until it is true; fail the test after ``timeout``."""
    waited = 0.0
    while True:
        value = predicate()
        if value:
            return value
        if waited >= timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await deferLater(reactor, 0.01, lambda: None)
        waited += 0.01


async def sleep(seconds: float) -> None:
    await deferLater(reactor, seconds, lambda: None)


class _ServerProtocol(Protocol):
    """Feed bytes to the server session, let the factory act on the events, write, close when it ends."""

    factory: Any
    session: Any

    def connectionMade(self) -> None:
        self.session = self.factory.new_session()
        self.factory.connections.append(self)

    def dataReceived(self, data: bytes) -> None:
        if self.factory.frozen:  # a gateway that hangs: reads nothing, answers nothing
            return
        for event in self.session.receive_data(data, 0.0):
            self.factory.on_event(self, event)
        self.flush()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self in self.factory.connections:
            self.factory.connections.remove(self)

    def flush(self) -> None:
        data = self.session.data_to_send()
        if data:
            self.transport.write(data)
        if self.session.closed:
            self.transport.loseConnection()


class Carrier(Factory):
    """What the three test gateways share: a mode for submits, what they saw, and control calls."""

    protocol = _ServerProtocol

    def __init__(self) -> None:
        #: "accept", "throttle", "hold", or an int: refuse with that code
        self.mode: Any = "accept"
        self.logins: list[str] = []
        #: (connection, sequence, fields) of every submit received
        self.submits: list[tuple[Any, Any, dict[str, Any]]] = []
        #: submits held unanswered (mode "hold")
        self.held: list[tuple[Any, Any]] = []
        #: carrier id text of every accepted submit
        self.accepted: list[str] = []
        self.connections: list[_ServerProtocol] = []
        self.before_answer: Callable[[Any, str], None] | None = None
        self.frozen = False

    def drop_all(self) -> None:
        for conn in list(self.connections):
            conn.transport.abortConnection()


# ---------------------------------------------------------------------------- CMPP

class CmppCarrier(Carrier):
    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__()
        self.secrets = secrets
        self.sequence = 0

    def new_session(self) -> cmpp_server.CmppServerSession:
        return cmpp_server.CmppServerSession(0.0)

    def on_event(self, conn: Any, event: Any) -> None:
        if isinstance(event, cmpp_server.LoginRequested):
            self.logins.append(event.source_addr)
            conn.session.answer_login(self.secrets.get(event.source_addr))
        elif isinstance(event, cmpp_server.SubmitReceived):
            self.submits.append((conn, event.sequence, event.fields))
            self.decide(conn, event.sequence)

    def decide(self, conn: Any, sequence: int) -> None:
        if self.mode == "accept":
            self.answer(conn, sequence)
        elif self.mode == "throttle":
            conn.session.answer_submit(sequence, FLOW_CONTROL, 0)
        elif self.mode == "hold":
            self.held.append((conn, sequence))
        else:
            conn.session.answer_submit(sequence, int(self.mode), 0)

    def answer(self, conn: Any, sequence: int) -> str:
        self.sequence += 1
        msg_id = make_msg_id(NOW, 1001, self.sequence)
        text = msg_id_text(msg_id)
        if self.before_answer is not None:
            self.before_answer(conn, text)
        conn.session.answer_submit(sequence, 0, msg_id)
        self.accepted.append(text)
        conn.flush()
        return text

    def report(self, conn: Any, carrier_id: str, stat: str = "DELIVRD", dest: str = "13800138000") -> None:
        report = CmppReport(int(carrier_id, 16), stat, "2403080930", "2403080931", dest, 7)
        self.sequence += 1
        conn.session.deliver_report(report, 0.0, {"dest_id": "1065900012", "msg_id": 0xA000 + self.sequence})
        conn.flush()

    def mo(self, conn: Any, dest_id: str, text: str, source: str = "13800138000") -> None:
        self.sequence += 1
        conn.session.deliver({"msg_id": 0xB000 + self.sequence, "dest_id": dest_id, "src_terminal_id": source,
                              "msg_fmt": 8, "msg_content": text.encode("utf-16-be")}, 0.0)
        conn.flush()


# ---------------------------------------------------------------------------- SMGP

class SmgpCarrier(Carrier):
    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__()
        self.secrets = secrets
        self.sequence = 0

    def new_session(self) -> smgp_server.SmgpServerSession:
        return smgp_server.SmgpServerSession(0.0)

    def on_event(self, conn: Any, event: Any) -> None:
        if isinstance(event, smgp_server.LoginRequested):
            self.logins.append(event.client_id)
            secret = self.secrets.get(event.client_id)
            if secret is not None and event.is_authentic(secret):
                conn.session.accept_login(event.sequence, secret)
            else:
                conn.session.refuse_login(event.sequence, Status.AUTHENTICATION)
        elif isinstance(event, SubmitReceived):
            self.submits.append((conn, event.sequence, event.fields))
            if self.mode == "accept":
                self.answer(conn, event.sequence)
            elif self.mode == "throttle":
                conn.session.respond_submit(event.sequence, Status.SYSTEM_BUSY)
            elif self.mode == "hold":
                self.held.append((conn, event.sequence))
            else:
                conn.session.respond_submit(event.sequence, int(self.mode))

    def answer(self, conn: Any, sequence: int) -> str:
        self.sequence += 1
        msg_id = smgp_msg_id("010061", NOW, self.sequence)
        text = msg_id_to_text(msg_id)
        if self.before_answer is not None:
            self.before_answer(conn, text)
        conn.session.respond_submit(sequence, Status.OK, msg_id)
        self.accepted.append(text)
        conn.flush()
        return text

    def report(self, conn: Any, carrier_id: str, stat: str = "DELIVRD", err: str = "000") -> None:
        self.sequence += 1
        report = SmgpReport(bytes.fromhex(carrier_id), "001", "001", "2403080930", "2403080931", stat, err,
                            report_text(b"hello"))
        conn.session.deliver_report(smgp_msg_id("010061", NOW, 500000 + self.sequence), report, "13800138000",
                                    "1189001", "20240308093100", 0.0)
        conn.flush()

    def mo(self, conn: Any, dest: str, text: str, source: str = "13800138000") -> None:
        self.sequence += 1
        conn.session.deliver({"msg_id": smgp_msg_id("010061", NOW, 600000 + self.sequence), "is_report": 0,
                              "msg_format": 15, "recv_time": "20240308093100", "src_term_id": source,
                              "dest_term_id": dest, "msg_content": text.encode("gbk")}, 0.0)
        conn.flush()


# ---------------------------------------------------------------------------- SGIP

class SgipCarrier(Carrier):
    """The SMG's submit port (Bind type 1)."""

    def __init__(self, login: str, secret: str) -> None:
        super().__init__()
        self.login = login
        self.secret = secret
        self.unbinds = 0

    def new_session(self) -> sgip_server.SgipServerSession:
        return sgip_server.SgipServerSession(0.0)

    def on_event(self, conn: Any, event: Any) -> None:
        if isinstance(event, BindRequested):
            self.logins.append(event.login_name)
            if (event.login_name, event.password) == (self.login, self.secret):
                conn.session.accept_bind(event.sequence)
            else:
                conn.session.refuse_bind(event.sequence, Result.ILLEGAL_LOGIN)
        elif isinstance(event, SubmitReceived):
            self.submits.append((conn, event.sequence, event.fields))
            if self.mode == "accept":
                self.answer(conn, event.sequence)
            elif self.mode == "throttle":
                conn.session.respond_submit(event.sequence, Result.NODE_BUSY)
            elif self.mode == "hold":
                self.held.append((conn, event.sequence))
            else:
                conn.session.respond_submit(event.sequence, int(self.mode))
        elif isinstance(event, LinkLost) and event.clean:
            self.unbinds += 1

    def answer(self, conn: Any, sequence: Any) -> str:
        text = format_message_id(sequence)
        if self.before_answer is not None:
            self.before_answer(conn, text)
        conn.session.respond_submit(sequence, Result.OK)
        self.accepted.append(text)
        conn.flush()
        return text


class _CallbackProtocol(Protocol):
    def __init__(self, owner: SgipCallback) -> None:
        self.owner = owner

    def connectionMade(self) -> None:
        self.owner.protocol = self
        self.owner.session.bind(0.0)
        self.flush()

    def dataReceived(self, data: bytes) -> None:
        for event in self.owner.session.receive_data(data, 0.0):
            self.owner.events.append(event)
        self.flush()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.owner.lost = True

    def flush(self) -> None:
        data = self.owner.session.data_to_send()
        if data:
            self.transport.write(data)
        if self.owner.session.closed:
            self.transport.loseConnection()


class SgipCallback:
    """The SMG connecting back to the SP's listener (Bind type 2) to push Report and Deliver."""

    def __init__(self, login: str, secret: str) -> None:
        sequence = SequenceGenerator(gateway_node_id("smg", "010", 1), lambda: NOW.replace(tzinfo=None))
        self.session = SgipCallbackSession(login, secret, sequence, 0.0)
        self.events: list[Any] = []
        self.protocol: _CallbackProtocol | None = None
        self.lost = False

    async def connect(self, port: int) -> None:
        factory = Factory.forProtocol(lambda: _CallbackProtocol(self))  # type: ignore[arg-type]
        await TCP4ClientEndpoint(reactor, "127.0.0.1", port).connect(factory)

    @property
    def answers(self) -> list[RequestAnswered]:
        return [e for e in self.events if isinstance(e, RequestAnswered)]

    def report(self, carrier_id: str, state: int = 0, error_code: int = 0, user: str = "8613800138000") -> None:
        self.session.report({"submit_sequence_number": parse_message_id(carrier_id), "report_type": 0,
                             "user_number": user, "state": state, "error_code": error_code}, 0.0)
        assert self.protocol is not None
        self.protocol.flush()

    def deliver(self, sp_number: str, text: str, user: str = "8613800138000") -> None:
        self.session.deliver({"user_number": user, "sp_number": sp_number, "message_coding": 8,
                              "message_content": text.encode("utf-16-be")}, 0.0)
        assert self.protocol is not None
        self.protocol.flush()

    def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.loseConnection()


def listen(factory: Factory) -> defer.Deferred[Any]:
    from twisted.internet.endpoints import TCP4ServerEndpoint
    return TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
