"""What both ends of an SMGP 3.0 connection do alike (smgp.md sections 1, 2, 5, 6.5).

* The version byte of the Login selects the Submit layout: ClientVersion 0x13
  has no FixedFee (``smsgw.protocols.smgp30.spec_for_version``, vector SMGP-08);
  ``smgp_codec`` compiles each layout once.
* Active_Test both ways: answered in every state; sent by either side after
  ``active_test_interval`` (C) without hearing from the peer, resent after T,
  and the link is dropped after N unanswered sends (spec 4.2.1).
* Exit both ways: the peer's Exit is answered and ends the session cleanly; ours
  (``exit``) ends it when Exit_Resp arrives or after T.
* SequenceID: a uint32 counter from 1, wrapping (smgp.md 2).
* Status is a body field; the response to an undecodable Deliver copies its
  MsgID from the raw bytes when they are there (Deliver_Resp echoes it, smgp.md 6.4).
"""

from __future__ import annotations

import functools
from typing import Any

from smsgw.codec import Codec, DecodeError, Pdu
from smsgw.protocols.smgp30 import spec_for_version
from smsgw.protocols.smgp30.status import MEANINGS, VERSION_30, Status
from smsgw.session.carrier_events import Event
from smsgw.session.carrier_peer import CarrierPeer, State
from smsgw.session.carrier_window import CarrierTimers, Pending
from smsgw.session.codecs import codec_for

HEADER_SIZE = 12
MSG_ID_SIZE = 10
#: requests either side may send at any time before the end
ALWAYS = frozenset({"active_test", "exit"})


@functools.cache
def smgp_codec(version: int) -> Codec:
    """The codec for a negotiated version (0x13: Submit without FixedFee; anything else: 3.0)."""
    spec = spec_for_version(version)
    base = codec_for("smgp30")
    return base if spec is base.spec else Codec(spec)


def status_meaning(status: int) -> str:
    try:
        return MEANINGS[Status(status)]
    except ValueError:
        return f"status {status}"


class SmgpPeer(CarrierPeer):
    """Base of ``SmgpClientSession`` and ``SmgpServerSession``; see the module docstring."""

    STATUS_FIELD = "status"

    def __init__(self, now: float, timers: CarrierTimers | None = None, version: int = VERSION_30,
                 first_sequence: int = 1) -> None:
        super().__init__(smgp_codec(version), now, timers)
        self.version = version
        self._sequence = first_sequence
        self._request_handlers = {"active_test": self._on_active_test, "exit": self._on_exit}

    def _use_version(self, version: int) -> None:
        self.version = version
        self._codec = smgp_codec(version)

    def _next_sequence(self) -> int:
        sequence = self._sequence
        self._sequence = sequence + 1 if sequence < 0xFFFFFFFF else 1
        return sequence

    # ------------------------------------------------------------------ Active_Test and Exit

    def _on_active_test(self, pdu: Pdu, now: float) -> list[Event]:
        self._respond(pdu, Status.OK)  # no body (smgp.md 6.5): the status is not encoded
        return []

    def _on_exit(self, pdu: Pdu, now: float) -> list[Event]:
        self._respond(pdu, Status.OK)
        return [self._lose("peer exited", clean=True)]

    def exit(self, now: float) -> None:
        """End the session politely; ``LinkLost(clean=True)`` follows the Exit_Resp (or T without one)."""
        if self.state in (State.OPEN, State.LOGGING_IN):
            self._lose("closed before login", clean=True)
        elif self.state is State.ACTIVE:
            self.state = State.CLOSING
            self._request("exit", {}, now, control=True, max_sends=1)

    def _answered(self, pending: Pending, response: Pdu, now: float) -> list[Event]:
        if pending.command == "active_test":
            return []
        if pending.command == "exit":
            return [self._lose("exit acknowledged", clean=True)]
        return self._answered_request(pending, response, now)

    def _answered_request(self, pending: Pending, response: Pdu, now: float) -> list[Event]:
        raise NotImplementedError

    def _probing(self) -> bool:
        return any(p.command == "active_test" for p in self._control)

    def _timer_deadline(self) -> float | None:
        if self.state is State.ACTIVE and not self._probing():
            return self._last_heard + self.timers.active_test_interval
        return None

    def _on_timers(self, now: float) -> list[Event]:
        deadline = self._timer_deadline()
        if deadline is not None and now >= deadline:
            self._request("active_test", {}, now, control=True)  # resent after T, N sends, then LinkLost
        return []

    # ------------------------------------------------------------------ errors

    def _refusal(self, request: Pdu) -> int:
        # SMGP has no "wrong state" status; "command word error" says the command is not acceptable here
        return int(Status.COMMAND_WORD)

    def _echo(self, request: Pdu) -> dict[str, Any]:
        return {"msg_id": request["msg_id"]} if request.command == "deliver" else {}

    def _error_fields(self, err: DecodeError, frame: bytes) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": err.status}
        raw = frame[HEADER_SIZE:HEADER_SIZE + MSG_ID_SIZE]
        # Deliver_Resp echoes the Deliver's MsgID; a refused Submit gets none (10 zero bytes)
        if err.response == "deliver_resp" and len(raw) == MSG_ID_SIZE:
            fields["msg_id"] = raw
        return fields
