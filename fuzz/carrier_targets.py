"""Fuzz targets: our side of the carrier connections (sans-IO), fed what the carrier's gateway sends.

* ``cmpp_client``: ``CmppClientSession`` (flags bit 4: cmpp20 or cmpp30);
* ``sgip_client``: ``SgipClientSession``, the SP's submit link;
* ``sgip_listener``: ``SgipListenerSession``, the connection the SMG opens to us
  (bits 3 and 4: the application refuses the stream's own Bind);
* ``smgp_client``: ``SmgpClientSession`` (bit 4: ClientVersion 0x13 instead of 0x30).

By default the session is logged in first (our Login/Bind answered with
success) and has sent 0-3 submits (bits 5-6), so the stream meets responses
it can match; bit 3 leaves the login to the stream instead.  Between chunks
time moves on as the chunk's size says (``stream.elapsed``), or by the response
timeout when bit 7 is set (resends, give-ups); halfway through a chunked
stream the peer falls silent long enough for our keep-alive (CMPP, SMGP) or
idle unbind (SGIP).  At the end the connection is lost and every timer runs out.

Checked: nothing raises; every byte we write decodes with our own codec;
every submit is answered or given up at most once, and only submits we sent;
after ``LinkLost`` the session is closed and silent.  The events then go
through what the link layer does with them (stat words, report times, the MO's
coding and number), which may not raise either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from smsgw.codec import Codec, Pdu
from smsgw.domain.coding import Coding, CodingError, decode, from_msg_fmt
from smsgw.net.links.mapping import mo_data_coding, national_number
from smsgw.net.links.reports import report_time, state_of_stat
from smsgw.session import carrier_events as ce
from smsgw.session import cmpp_client as cc
from smsgw.session.auth_cmpp import authenticator_ismg
from smsgw.session.auth_smgp import authenticator_server
from smsgw.session.carrier_window import CarrierTimers
from smsgw.session.codecs import codec_for
from smsgw.session.sgip_client import SgipClientSession
from smsgw.session.sgip_listener import BindRequested, SgipListenerSession, UserReported
from smsgw.session.sgip_sequence import SequenceGenerator
from smsgw.session.smgp_client import SmgpClientSession
from smsgw.session.smgp_peer import smgp_codec

from fuzz import stream
from fuzz.wire import Written

WALL = datetime(2024, 5, 1, 8, 0)
RESPONSE_TIMEOUT = 60.0
KEEP_ALIVE = 180.0
IDLE = 30.0
CARRIER_TIMERS = CarrierTimers(window=4, response_timeout=RESPONSE_TIMEOUT, max_sends=2,
                               active_test_interval=KEEP_ALIVE, idle_timeout=IDLE, login_timeout=60,
                               peer_idle_timeout=180)
CMPP_TIMERS = cc.Timers(active_test_interval=KEEP_ALIVE, response_timeout=RESPONSE_TIMEOUT, max_sends=2,
                        login_timeout=60)
SP_ID, SECRET = "900001", "888888"
#: the SP's SGIP node id (area 010, corp 12345: vector SGIP-02)
SP_NODE = 3010012345
#: the SMG's node id for the triples of its Bind to our listener
SMG_NODE = 101001


def sgip_sequence(node: int) -> SequenceGenerator:
    return SequenceGenerator(node, lambda: WALL, 1)


# ----------------------------------------------------------------------- what the link layer does next

def follow_report(stat: str, *times: str) -> None:
    state_of_stat(stat)
    for text in times:
        report_time(text)


def follow_mo(source: str, coding: int, content: bytes, udhi: bool) -> None:
    """The MO's number and coding as the link reads them, and its text as the notifier decodes it."""
    national_number(source)
    data_coding = mo_data_coding(coding)
    assert 0 <= data_coding <= 0xFF
    body = content[content[0] + 1:] if udhi and content else content
    kind = from_msg_fmt(coding)
    if kind is not Coding.BINARY:
        try:
            decode(body, kind)
        except CodingError:
            pass


def follow(event: Any) -> None:
    if isinstance(event, cc.ReportReceived):
        follow_report(event.stat, event.submit_time, event.done_time)
    elif isinstance(event, ce.ReportReceived):
        follow_report(event.stat, event.submit_date, event.done_date)
    elif isinstance(event, cc.DeliverReceived):
        follow_mo(event.src_terminal_id, event.msg_fmt, event.content, event.tp_udhi)
    elif isinstance(event, ce.DeliverReceived):
        follow_mo(event.source, event.coding, event.content, event.udhi)


# ----------------------------------------------------------------------- the driver

class Drive:
    """One session under fuzz; subclasses say how to build it, log in and submit."""

    EVENTS: tuple[type, ...] = ()
    LINK_LOST: type = ce.LinkLost
    #: the silence in the middle of a chunked stream (0: none)
    PAUSE = KEEP_ALIVE + 1

    def __init__(self, flags: stream.Flags) -> None:
        self.skip_login = flags.take(1)
        self.variant = flags.take(1)
        self.submits = flags.take(2)
        self.slow = flags.take(1)
        self.now = 0.0
        self.lost = False
        #: our submits not yet answered or given up
        self.open: set[Any] = set()
        self.session: Any = self.build()
        self.written = Written(self.codec())

    # hooks
    def build(self) -> Any:
        raise NotImplementedError

    def codec(self) -> Codec:
        raise NotImplementedError

    def login(self) -> bytes:
        """Start the login; return what the peer answers when it accepts (fed unless the stream logs in)."""
        raise NotImplementedError

    def submit(self, n: int) -> Any:
        return None

    def on_event(self, event: Any) -> None:
        pass

    def end(self) -> list[Any]:
        return self.session.connection_lost("fuzz: the stream ended")

    # the run
    def run(self, chunks: list[bytes]) -> None:
        accepted = self.login()
        if not self.skip_login:
            self.receive(accepted)
            for n in range(self.submits):
                if self.session.closed:
                    break
                sequence = self.submit(n)
                if sequence is not None:
                    assert sequence not in self.open
                    self.open.add(sequence)
        self.flush()
        for i, chunk in enumerate(chunks):
            if i and i == len(chunks) // 2 and self.PAUSE:
                # silence in mid-stream: keep-alives and idle timers fire, and the rest can answer them
                self.now += self.PAUSE
                self.handle(self.session.tick(self.now))
                self.flush()
            self.receive(chunk)
            self.now += RESPONSE_TIMEOUT if self.slow else stream.elapsed(chunk)
            self.handle(self.session.tick(self.now))
            self.flush()
        self.handle(self.end())
        self.now += 3600.0
        self.handle(self.session.tick(self.now))
        self.flush()
        assert self.session.closed and self.session.next_deadline() is None

    def receive(self, data: bytes) -> None:
        events = self.session.receive_data(data, self.now)
        if self.lost:
            assert events == [], "a closed session still reports events"
        self.handle(events)

    def handle(self, events: list[Any]) -> None:
        lost = False
        for event in events:
            assert isinstance(event, self.EVENTS), event
            assert not lost, f"{event} after LinkLost"
            if isinstance(event, self.LINK_LOST):
                assert self.session.closed
                lost = True
                self.unanswered(event)
            elif isinstance(event, (cc.SubmitAnswered, cc.SubmitTimedOut, ce.SubmitAnswered, ce.SubmitTimedOut)):
                assert event.sequence in self.open, f"{event}: not one of our open submits {self.open}"
                self.open.discard(event.sequence)
            follow(event)
            self.on_event(event)  # may end the session (a refused Bind): the batch's later events came before
        self.lost = self.lost or self.session.closed

    def unanswered(self, event: Any) -> None:
        for item in event.unanswered:
            assert item[1] in self.open, f"{event}: {item} is not one of our open submits"

    def flush(self) -> None:
        self.written.take(self.session.data_to_send())


class CmppClient(Drive):
    EVENTS = (cc.LoggedIn, cc.LoginRefused, cc.SubmitAnswered, cc.SubmitTimedOut, cc.DeliverReceived,
              cc.ReportReceived, cc.LinkLost, cc.ProtocolErrorReceived)
    LINK_LOST = cc.LinkLost

    def build(self) -> cc.CmppClientSession:
        self.protocol = "cmpp30" if self.variant else "cmpp20"
        return cc.CmppClientSession(self.protocol, SP_ID, SECRET, 0.0, timers=CMPP_TIMERS, window=4)

    def codec(self) -> Codec:
        return codec_for(self.protocol)

    def login(self) -> bytes:
        s = self.session
        sequence = s.connect(WALL, self.now)
        [connect] = self.written.take(s.data_to_send())
        auth = authenticator_ismg(0, connect["authenticatorsource"], SECRET, self.protocol)
        return self.codec().encode(Pdu("connect_resp", sequence, {"status": 0, "authenticatorismg": auth,
                                                                  "version": s.version}))

    def submit(self, n: int) -> Any:
        return self.session.submit({"registered_delivery": 1, "src_id": "1065", "dest_terminal_id": ["13800138000"],
                                    "msg_content": b"m%d" % n}, self.now)

    def unanswered(self, event: Any) -> None:
        assert set(event.unanswered) <= self.open, (event, self.open)

    def end(self) -> list[Any]:
        return self.session.terminate(self.now)


class SgipClient(Drive):
    EVENTS = (ce.LoggedIn, ce.LoginRefused, ce.SubmitAnswered, ce.SubmitTimedOut, ce.LinkLost,
              ce.ProtocolErrorReceived)
    PAUSE = IDLE + 1  # SGIP has no keep-alive: the idle link unbinds

    def build(self) -> SgipClientSession:
        return SgipClientSession("fakename", "1234", sgip_sequence(SP_NODE), 0.0, CARRIER_TIMERS)

    def codec(self) -> Codec:
        return codec_for("sgip12")

    def login(self) -> bytes:
        sequence = self.session.bind(self.now)
        return self.codec().encode(Pdu("bind_resp", sequence, {"result": 0}))

    def submit(self, n: int) -> Any:
        return self.session.submit({"sp_number": "1065", "user_number": ["8613800138000"], "report_flag": 1,
                                    "message_content": b"m%d" % n}, self.now)


class SgipListener(Drive):
    EVENTS = (BindRequested, ce.DeliverReceived, ce.ReportReceived, UserReported, ce.LinkLost,
              ce.ProtocolErrorReceived)
    PAUSE = 0.0  # a silent SMG is dropped: nothing would be left to fuzz

    def build(self) -> SgipListenerSession:
        return SgipListenerSession(0.0, CARRIER_TIMERS)

    def codec(self) -> Codec:
        return codec_for("sgip12")

    def login(self) -> bytes:
        sequence = sgip_sequence(SMG_NODE).next()
        return self.codec().encode(Pdu("bind", sequence, {"login_type": 2, "login_name": "smg", "login_password": "x"}))

    def on_event(self, event: Any) -> None:
        if isinstance(event, BindRequested):
            if self.variant and self.skip_login:
                self.session.refuse_bind(event.sequence)
            else:
                self.session.accept_bind(event.sequence)


class SmgpClient(Drive):
    EVENTS = (ce.LoggedIn, ce.LoginRefused, ce.SubmitAnswered, ce.SubmitTimedOut, ce.DeliverReceived,
              ce.ReportReceived, ce.LinkLost, ce.ProtocolErrorReceived)

    def build(self) -> SmgpClientSession:
        self.version = 0x13 if self.variant else 0x30
        return SmgpClientSession("10690001", "secret", 0.0, version=self.version, timers=CARRIER_TIMERS)

    def codec(self) -> Codec:
        return smgp_codec(self.version)

    def login(self) -> bytes:
        s = self.session
        sequence = s.login(self.now, WALL)
        [login] = self.written.take(s.data_to_send())
        auth = authenticator_server(0, login["authenticator_client"], "secret")
        return self.codec().encode(Pdu("login_resp", sequence, {"status": 0, "authenticator_server": auth,
                                                                "server_version": self.version}))

    def submit(self, n: int) -> Any:
        return self.session.submit({"need_report": 1, "src_term_id": "1065", "dest_term_id": ["13800138000"],
                                    "msg_content": b"m%d" % n}, self.now)


def target(kind: type[Drive]) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        flags, chunks = stream.split(data)
        kind(flags).run(chunks)

    check.__name__ = f"check_{kind.__name__}"
    return check


check_cmpp_client = target(CmppClient)
check_sgip_client = target(SgipClient)
check_sgip_listener = target(SgipListener)
check_smgp_client = target(SmgpClient)
