"""What a simulated carrier gateway does, as data: accounts, speed limit, receipts, drops.

One ``Behaviour`` configures any of the simulators (``cmpp``, ``sgip``, ``smgp``);
the few protocol-specific settings (the SGIP callback target, gateway codes) are
plain fields that the other protocols ignore.  Everything random is drawn from
``Behaviour.rng``, so a seeded ``random.Random`` makes a run repeatable.

Faults: connection cuts (``drop_*``), spells of silence, throttle storms and
reports sent before the submit's answer (``faults``).

Outcomes (the final state each accepted MT gets in its status report) are
weighted choices.  Each names the common Stat word (cmpp.md 5.8, smgp.md 11)
and, optionally, the carrier's own code for it; without one the defaults below
apply (chosen from the spec code lists; real gateways vary).
"""

from __future__ import annotations

import random
from datetime import timedelta, timezone
from typing import Iterable
import attrs

from smsgw.protocols.sgip12.status import ReportState, Result
from smsgw.sim.faults import Spell, any_covers

#: the carriers' wall clock: message ids and report times are in China Standard Time
CHINA = timezone(timedelta(hours=8), "CST")

#: the Stat words of the report structures (CMPP and SMGP share them; SGIP maps them to State/ErrorCode)
STATS = ("DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD")

#: SGIP Report ErrorCode for a failed outcome without its own (sgip.md 5: 21-33 go with State 2)
SGIP_ERRORS: dict[str, int] = {
    "EXPIRED": int(Result.USER_UNREACHABLE),  # 25: switched off / out of coverage until the validity ended
    "UNDELIV": int(Result.UNKNOWN_USER),  # 29
    "REJECTD": int(Result.INVALID_CHARGE_NUMBER),  # 24: refused by the charging check
    "DELETED": int(Result.SYSTEM_FAILURE),  # 32
    "UNKNOWN": int(Result.SYSTEM_FAILURE),
    "ACCEPTD": int(Result.SYSTEM_FAILURE),
}
#: SMGP report ``err:`` for an outcome without its own (smgp.md 11, status.REPORT_ERRORS)
SMGP_ERRORS: dict[str, str] = {
    "DELIVRD": "000",
    "EXPIRED": "001",  # user cannot communicate
    "UNDELIV": "004",  # illegal user
    "REJECTD": "005",  # user blacklisted
    "DELETED": "010",  # data lost
    "UNKNOWN": "999",
    "ACCEPTD": "999",
}


def _positive_or_none(_inst: object, attribute: attrs.Attribute, value: float | None) -> None:  # type: ignore[type-arg]
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be positive or None, not {value!r}")


@attrs.frozen
class Account:
    """An SP account of the simulated gateway.

    ``name`` is the CMPP SP_Id, the SGIP Bind login name or the SMGP ClientID;
    ``secret`` the CMPP/SMGP shared secret or the SGIP password.  MOs sent to a
    number starting with ``service_number`` go to this account.
    """

    name: str
    secret: str
    service_number: str = ""
    #: submits per second for this account; None uses ``Behaviour.tps``
    tps: float | None = attrs.field(default=None, validator=_positive_or_none)


@attrs.frozen
class Outcome:
    """One possible final state of an MT, with its weight in the mix."""

    #: the Stat word: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN
    stat: str = attrs.field()
    weight: float = 1.0
    #: CMPP Stat to send instead of ``stat``, e.g. a gateway code such as "MB:0008" (7 characters)
    cmpp_stat: str | None = None
    #: SGIP ErrorCode (State 2) instead of the default for ``stat``
    sgip_error: int | None = None
    #: SMGP ``err:`` (3 digits) instead of the default for ``stat``
    smgp_err: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.stat not in STATS:
            raise ValueError(f"outcome stat must be one of {', '.join(STATS)}, not {self.stat!r}")
        if self.weight < 0:
            raise ValueError(f"outcome weight must not be negative, not {self.weight!r}")
        if self.cmpp_stat is not None and not 1 <= len(self.cmpp_stat) <= 7:
            raise ValueError(f"a CMPP Stat is 1-7 characters, not {self.cmpp_stat!r}")
        if self.smgp_err is not None and not (len(self.smgp_err) == 3 and self.smgp_err.isdigit()):
            raise ValueError(f"an SMGP err is 3 digits, not {self.smgp_err!r}")
        if self.sgip_error is not None and not 0 <= self.sgip_error <= 255:
            raise ValueError(f"an SGIP ErrorCode is one byte, not {self.sgip_error!r}")

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"

    def cmpp(self) -> str:
        """The CMPP report Stat."""
        return self.cmpp_stat or self.stat

    def sgip(self) -> tuple[int, int]:
        """The SGIP Report (State, ErrorCode)."""
        if self.delivered:
            return int(ReportState.DELIVERED), 0
        if self.sgip_error is not None:
            return int(ReportState.FAILED), self.sgip_error
        return int(ReportState.FAILED), SGIP_ERRORS.get(self.stat, int(Result.SYSTEM_FAILURE))

    def smgp(self) -> tuple[str, str]:
        """The SMGP report (stat, err)."""
        return self.stat, self.smgp_err or SMGP_ERRORS.get(self.stat, "999")


@attrs.frozen
class CallbackTarget:
    """Where the SGIP SMG connects to deliver reports and MO: the SP's listener and its Bind credentials."""

    host: str
    port: int
    login_name: str
    password: str


def _check_probability(_inst: object, attribute: attrs.Attribute, value: float) -> None:  # type: ignore[type-arg]
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be within 0..1, not {value!r}")


def _check_outcomes(_inst: object, _attribute: object, value: tuple[Outcome, ...]) -> None:
    if not value or sum(o.weight for o in value) <= 0:
        raise ValueError("at least one outcome with a positive weight is needed")


def _accounts(value: Iterable[Account]) -> tuple[Account, ...]:
    return tuple(value)


def _outcomes(value: Iterable[Outcome]) -> tuple[Outcome, ...]:
    return tuple(value)


def _spells(value: Iterable[Spell]) -> tuple[Spell, ...]:
    return tuple(value)


@attrs.define
class Behaviour:
    """The configurable behaviour of a simulated gateway (see the module docstring)."""

    accounts: tuple[Account, ...] = attrs.field(converter=_accounts)
    #: submits per second per account (token bucket, bursts up to one second's worth); None: unlimited
    tps: float | None = attrs.field(default=None, validator=_positive_or_none)
    #: seconds from accepting a submit to sending its status report
    receipt_delay: float = 1.0
    #: a uniform random 0..jitter seconds added to each receipt delay
    receipt_jitter: float = 0.0
    outcomes: tuple[Outcome, ...] = attrs.field(default=(Outcome("DELIVRD"),), converter=_outcomes,
                                                validator=_check_outcomes)
    #: drop the connection on every N-th submit received (counted over the whole simulator)
    drop_every: int | None = None
    #: drop the connection on a submit with this probability
    drop_probability: float = attrs.field(default=0.0, validator=_check_probability)
    #: drop every connection every this many seconds (from when the simulator starts listening)
    drop_interval: float | None = attrs.field(default=None, validator=_positive_or_none)
    #: False: a dropped submit is lost unanswered (the SP must resend it); True: it is
    #: accepted and answered first (the SP may resend it anyway: a duplicate)
    drop_after_answer: bool = False
    #: spells when the gateway stops answering logged-in SPs (``faults``)
    silences: tuple[Spell, ...] = attrs.field(default=(), converter=_spells)
    #: spells when every submit is answered with the throttle code (``faults``)
    throttle_storms: tuple[Spell, ...] = attrs.field(default=(), converter=_spells)
    #: share of accepted submits whose status report is sent before the submit's answer (``faults``)
    report_first: float = attrs.field(default=0.0, validator=_check_probability)
    rng: random.Random = attrs.field(factory=random.Random)
    #: how many submits ``received`` keeps (the oldest are forgotten)
    record_limit: int = 10_000

    # ------------------------------------------------ session timers (spec defaults, cmpp.md 1)
    #: our delivers/reports awaiting the SP's answer, per connection
    window: int = 16
    response_timeout: float = 60.0
    max_sends: int = 3
    #: CMPP/SMGP: send ACTIVE_TEST after this long without hearing from the SP
    active_test_interval: float = 180.0
    login_timeout: float = 60.0
    #: SGIP: our callback connection unbinds after this long without traffic
    idle_timeout: float = 30.0
    #: SGIP: close an SP's submit connection silent for this long
    peer_idle_timeout: float = 180.0

    # ------------------------------------------------ identities
    #: CMPP ISMG code (Msg_Id bits 37..16, as a number) and SMGP gateway code (MsgID digits 1-6)
    gateway_code: str = "010061"
    #: SGIP node id of the SMG (1AAAAX, sgip.md 2): SMG 1 of area 010
    node_id: int = 101001
    #: SGIP: the SP's listener; None: reports and MO stay queued
    callback: CallbackTarget | None = None
    #: SGIP: seconds before connecting again after a failed callback connection (doubling up to 30 s)
    callback_retry: float = 1.0

    def __attrs_post_init__(self) -> None:
        if not (len(self.gateway_code) == 6 and self.gateway_code.isdigit()):
            raise ValueError(f"gateway_code is 6 digits, not {self.gateway_code!r}")
        if self.drop_every is not None and self.drop_every < 1:
            raise ValueError("drop_every must be at least 1 or None")
        if self.receipt_delay < 0 or self.receipt_jitter < 0:
            raise ValueError("receipt delay and jitter must not be negative")
        if self.record_limit < 1:
            raise ValueError("record_limit must be at least 1")
        names = [a.name for a in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError("account names must be unique")

    def account(self, name: str) -> Account | None:
        return next((a for a in self.accounts if a.name == name), None)

    def tps_of(self, account: Account) -> float | None:
        return account.tps if account.tps is not None else self.tps

    def draw_outcome(self) -> Outcome:
        return self.rng.choices(self.outcomes, weights=[o.weight for o in self.outcomes])[0]

    def draw_drop(self, count: int) -> bool:
        """Whether the ``count``-th submit (from 1) drops its connection."""
        if self.drop_every is not None and count % self.drop_every == 0:
            return True
        return self.drop_probability > 0 and self.rng.random() < self.drop_probability

    def silent(self, elapsed: float) -> bool:
        """Whether the gateway is in a spell of silence ``elapsed`` seconds after it began listening."""
        return any_covers(self.silences, elapsed)

    def storming(self, elapsed: float) -> bool:
        """Whether every submit is throttled ``elapsed`` seconds after the gateway began listening."""
        return any_covers(self.throttle_storms, elapsed)

    def draw_report_first(self) -> bool:
        """Whether an accepted submit's report goes before its answer (draws only when the share is set)."""
        return self.report_first > 0 and self.rng.random() < self.report_first

    def draw_receipt_delay(self) -> float:
        if self.receipt_jitter <= 0:
            return self.receipt_delay
        return self.receipt_delay + self.rng.uniform(0.0, self.receipt_jitter)


# ---------------------------------------------------------------- text forms (runner, config)

def parse_outcomes(text: str, protocol: str) -> tuple[Outcome, ...]:
    """``"DELIVRD=90,UNDELIV=8:MB:0008,EXPIRED=2"``: STAT=WEIGHT[:CODE], CODE being ``protocol``'s own.

    CODE is the CMPP Stat (cmpp20/cmpp30), the SGIP ErrorCode (sgip12) or the SMGP
    err (smgp30).
    """
    outcomes = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        stat, eq, rest = item.partition("=")
        if not eq:
            raise ValueError(f"outcome {item!r} is not STAT=WEIGHT[:CODE]")
        weight, colon, code = rest.partition(":")
        kw: dict[str, object] = {}
        if colon:
            if protocol.startswith("cmpp"):
                kw["cmpp_stat"] = code
            elif protocol == "sgip12":
                kw["sgip_error"] = int(code)
            else:
                kw["smgp_err"] = code
        outcomes.append(Outcome(stat.strip().upper(), float(weight), **kw))  # type: ignore[arg-type]
    return tuple(outcomes)


def parse_account(text: str) -> Account:
    """``NAME:SECRET[:SERVICE_NUMBER[:TPS]]``."""
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise ValueError(f"account {text!r} is not NAME:SECRET[:SERVICE_NUMBER[:TPS]]")
    tps = float(parts[3]) if len(parts) == 4 and parts[3] else None
    return Account(parts[0], parts[1], parts[2] if len(parts) > 2 else "", tps)

