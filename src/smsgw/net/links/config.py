"""Configuration of one carrier link group (one carrier account) and of the SGIP listener.

A ``LinkConfig`` describes what DESIGN.md section 3 step 5 calls a link: one
account at one carrier gateway, reached over ``cmpp20``, ``cmpp30``,
``sgip12`` or ``smgp30`` through ``connections`` TCP connections that share
one TPS cap.  It also carries every per-link choice of the submit mapping
(``mapping``): the SP number the account's extension (子号) is appended to,
service id, fee fields, priority, coding overrides, report flag, validity,
LinkID and the CMPP 3.0 terminal types.

Defaults follow the specs (cmpp.md 1, smgp.md 1: W = 16, T = 60 s, N = 3,
C = 3 min) and the protocol notes' judgement calls: the throttle codes are
CMPP 8, SGIP 11, SMGP 1 (smgp.md 7: "system busy", the only retry-later
code), the codes refused "for the period" (SMGP 74-76) are non-final.
Values are plain data so a TOML table maps onto them one to one
(``LinkConfig.from_mapping``).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any, Mapping

import attrs

from smsgw.protocols.sgip12.status import THROTTLE as SGIP_THROTTLE
from smsgw.protocols.smgp30.status import FINAL_FOR_PERIOD, RETRY_LATER, VERSION_30, LoginMode
from smsgw.session.cmpp_common import FLOW_CONTROL
from smsgw.session.sgip_sequence import sp_node_id

#: the carriers' wall clock: China Standard Time (login timestamps, SGIP time words, validity)
CARRIER_TZ = timezone(timedelta(hours=8), "CST")

PROTOCOLS = ("cmpp20", "cmpp30", "sgip12", "smgp30")

#: submit results that mean "too fast, slow down and send again" (DESIGN.md 3.5)
DEFAULT_THROTTLE_CODES: Mapping[str, frozenset[int]] = {
    "cmpp20": frozenset({FLOW_CONTROL}),
    "cmpp30": frozenset({FLOW_CONTROL}),
    "sgip12": frozenset({int(SGIP_THROTTLE)}),
    "smgp30": frozenset(int(s) for s in RETRY_LATER),
}
#: refusals that are not the segment's fault and may succeed later (smgp.md 7, a judgement)
DEFAULT_RETRY_CODES: Mapping[str, frozenset[int]] = {
    "cmpp20": frozenset(),
    "cmpp30": frozenset(),
    "sgip12": frozenset(),
    "smgp30": frozenset(int(s) for s in FINAL_FOR_PERIOD),
}
#: FeeType when the link does not say: free of information fee (cmpp.md 5.5, sgip.md 6, smgp.md 6.1)
DEFAULT_FEE_TYPE: Mapping[str, str] = {"cmpp20": "01", "cmpp30": "01", "sgip12": "1", "smgp30": "00"}
#: what goes before the 11-digit MSISDN in the destination field (sgip.md 7: UserNumber carries "86")
DEFAULT_DEST_PREFIX: Mapping[str, str] = {"cmpp20": "", "cmpp30": "", "sgip12": "86", "smgp30": ""}

REPORT_MODES = ("always", "client", "never")


def _frozen_ints(value: Any) -> frozenset[int] | None:
    return None if value is None else frozenset(int(v) for v in value)


def _int_map(value: Mapping[Any, Any]) -> Mapping[int, int]:
    return {int(k): int(v) for k, v in dict(value).items()}


def _positive(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, not {value!r}")


def _at_least_one(_inst: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, not {value!r}")


def _require_text(inst: Any, what: str) -> None:
    """Text settings must be text: an unquoted TOML number (``secret = 888888``, ``corp_id = 12345``)
    fails here, at load time, instead of at every login (an unhandled error per connection) or as a
    final refusal of every segment at submit time."""
    for f in attrs.fields(type(inst)):
        if f.type not in ("str", "str | None"):
            continue
        value = getattr(inst, f.name)
        if not isinstance(value, str) and not (value is None and f.type == "str | None"):
            shown = repr(value) if f.repr else f"a {type(value).__name__}"  # never echo a secret
            raise ValueError(f"{what}: {f.name} must be text (quote it in TOML), not {shown}")


@attrs.frozen(kw_only=True)
class LinkConfig:
    """One carrier account: where, who, how fast, and how its submits are filled in."""

    # ------------------------------------------------------------ identity and place
    #: the link group's name (logs, ``Submitted.link``, ``LinkObserver.link_state``)
    name: str
    #: cmpp20, cmpp30, sgip12 or smgp30
    protocol: str = attrs.field(validator=attrs.validators.in_(PROTOCOLS))
    #: the carrier this account belongs to, as routing and the store name it (``Report.carrier``)
    carrier: str
    host: str
    port: int
    #: CMPP SP_Id (6 digits) / SGIP login name / SMGP ClientID
    login: str
    #: CMPP shared secret / SGIP password / SMGP shared secret
    secret: str = attrs.field(repr=False)

    # ------------------------------------------------------------ numbers and service
    #: the SP's service number (CMPP Src_Id, SGIP SPNumber, SMGP SrcTermID) before the extension
    sp_number: str
    #: CMPP Msg_src: the SP_Id (defaults to ``login``)
    sp_id: str | None = None
    #: also append the client's source_addr digits after the account's extension
    append_client_source: bool = False
    #: what goes before the 11-digit MSISDN (None: "86" for SGIP, nothing otherwise)
    dest_prefix: str | None = None
    #: Service_Id / ServiceType / ServiceID
    service_id: str = ""

    # ------------------------------------------------------------ fees (cmpp.md 5.5, sgip.md 4.4, 6, smgp.md 6.1)
    #: FeeType as text: CMPP "01".."05", SGIP "0".."4", SMGP "00".."03" (None: free, per protocol)
    fee_type: str | None = None
    fee_code: str = "0"
    #: SMGP FixedFee
    fixed_fee: str = "0"
    #: CMPP Fee_UserType (0 destination pays, 1 source, 2 SP, 3 Fee_terminal_Id)
    fee_user_type: int = 0
    #: CMPP Fee_terminal_Id, SMGP ChargeTermID
    fee_terminal_id: str = ""
    #: SGIP ChargeNumber (21 zeros: the SP pays; sgip.md 4.4)
    charge_number: str = "0" * 21
    #: SGIP GivenValue, AgentFlag, MorelatetoMTFlag (2: MT not caused by an MO)
    given_value: str = "0"
    agent_flag: int = 0
    morelateto_mt_flag: int = 2
    #: SGIP CorpId (also the QQQQQ of the SP node id)
    corp_id: str = ""

    # ------------------------------------------------------------ message fields
    #: fixed Msg_level/Priority; None: the segment's priority (clamped to the protocol's range)
    priority: int | None = None
    tp_pid: int = 0
    #: the TP_udhi value for a segment with a UDH (spec 1; some gateways want 0x40, cmpp.md 9)
    udhi_flag: int = 1
    #: data_coding of the stored segment -> Msg_Fmt/MessageCoding/MsgFormat overrides
    msg_fmt: Mapping[int, int] = attrs.field(factory=dict, converter=_int_map)
    #: "always" ask for a report (default: we need final states), "client" as the client asked, "never"
    registered_delivery: str = attrs.field(default="always", validator=attrs.validators.in_(REPORT_MODES))
    #: send the message's expiry as ValId_Time / ExpireTime / ValidTime
    validity: bool = True
    #: cap on the validity sent, seconds from now (None: no cap)
    max_validity_s: int | None = None
    #: CMPP 3.0 LinkID / SMGP LinkID TLV (on-demand services)
    link_id: str = ""
    #: CMPP 3.0 Dest_terminal_type and Fee_terminal_type (0 real number, 1 pseudo)
    dest_terminal_type: int = 0
    fee_terminal_type: int = 0
    #: raw submit fields set last (per protocol field names of ``protocols/<id>``)
    extra_fields: Mapping[str, Any] = attrs.field(factory=dict)
    #: SMGP TLVs added to every Submit (names of ``protocols/smgp30/tlvs.py``)
    extra_tlvs: Mapping[str, Any] = attrs.field(factory=dict)

    # ------------------------------------------------------------ protocol specifics
    #: CMPP CONNECT Version byte (None: 0x20 / 0x30 by protocol)
    cmpp_version: int | None = None
    #: SMGP LoginMode (2 transmit: MT, MO and reports on one link) and ClientVersion
    smgp_login_mode: int = int(LoginMode.TRANSMIT)
    smgp_version: int = VERSION_30
    #: SGIP node id of the SP (3AAAAQQQQQ); None: made from ``sgip_area_code`` and ``corp_id``
    sgip_node_id: int | None = None
    sgip_area_code: str = ""
    #: submit results that slow the link down (None: CMPP 8, SGIP 11, SMGP 1)
    throttle_codes: frozenset[int] | None = attrs.field(default=None, converter=_frozen_ints)
    #: non-final refusals (None: SMGP 74-76, nothing for the others)
    retry_codes: frozenset[int] | None = attrs.field(default=None, converter=_frozen_ints)
    #: connect only when there is something to send, unbind when idle (None: SGIP yes, others no)
    on_demand: bool | None = None
    #: map a carrier report stat (exact, or a prefix ending with ":") to a state name, over ``reports``' table
    stat_overrides: Mapping[str, str] = attrs.field(factory=dict)

    # ------------------------------------------------------------ capacity
    connections: int = attrs.field(default=1, validator=_at_least_one)
    #: W: submits awaiting a response per connection (spec 7.1)
    window: int = attrs.field(default=16, validator=_at_least_one)
    #: submits awaiting a response over the whole account (None: connections x window)
    max_in_flight: int | None = None
    #: the account's submits per second, shared by its connections
    tps: float = attrs.field(default=100.0, validator=_positive)
    #: tokens that may be spent at once (None: a tenth of a second's worth, at least 1)
    burst: int | None = None

    # ------------------------------------------------------------ timers (seconds)
    #: T and N: resend an unanswered submit after T, give it up after N sends
    response_timeout: float = attrs.field(default=60.0, validator=_positive)
    max_sends: int = attrs.field(default=3, validator=_at_least_one)
    #: C: keep-alive probe after this much silence (CMPP ACTIVE_TEST, SMGP Active_Test)
    active_test_interval: float = attrs.field(default=180.0, validator=_positive)
    #: SGIP: unbind after this long without traffic
    idle_timeout: float = attrs.field(default=30.0, validator=_positive)
    #: reconnect backoff after a lost connection: min * factor**(n-1), at most max, plus jitter
    reconnect_min: float = attrs.field(default=1.0, validator=_positive)
    reconnect_max: float = attrs.field(default=60.0, validator=_positive)
    reconnect_factor: float = 2.0
    #: random extra delay, as a fraction of the delay (0 in tests)
    reconnect_jitter: float = 0.1
    #: the same after a refused login: slow, never hammering the carrier with bad credentials
    auth_backoff_min: float = attrs.field(default=60.0, validator=_positive)
    auth_backoff_max: float = attrs.field(default=900.0, validator=_positive)
    #: on a throttle answer the TPS is multiplied by this for ``throttle_hold`` seconds (not below min_tps)
    throttle_factor: float = 0.5
    throttle_hold: float = attrs.field(default=10.0, validator=_positive)
    min_tps: float = attrs.field(default=1.0, validator=_positive)
    #: a segment that waits this long for a usable connection is handed back (``Requeue``)
    queue_timeout: float = attrs.field(default=30.0, validator=_positive)
    #: stop(): wait this long for in-flight answers, then as long again for the polite goodbye
    stop_timeout: float = attrs.field(default=5.0, validator=_positive)
    #: reports that arrive before their submit response wait at most this long, at most this many
    early_report_ttl: float = attrs.field(default=60.0, validator=_positive)
    early_report_limit: int = attrs.field(default=10_000, validator=_at_least_one)

    def __attrs_post_init__(self) -> None:
        _require_text(self, f"link {self.name}")
        if not 0 < self.throttle_factor <= 1:
            raise ValueError("throttle_factor must be in (0, 1]")
        if self.reconnect_factor < 1:
            raise ValueError("reconnect_factor must be at least 1")
        if self.protocol == "sgip12":
            self.sgip_node()  # fail at load time, not at the first connection

    # ------------------------------------------------------------ derived values

    @property
    def throttles(self) -> frozenset[int]:
        return DEFAULT_THROTTLE_CODES[self.protocol] if self.throttle_codes is None else self.throttle_codes

    @property
    def retries(self) -> frozenset[int]:
        return DEFAULT_RETRY_CODES[self.protocol] if self.retry_codes is None else self.retry_codes

    @property
    def connects_on_demand(self) -> bool:
        return self.protocol == "sgip12" if self.on_demand is None else self.on_demand

    @property
    def in_flight_cap(self) -> int:
        return self.connections * self.window if self.max_in_flight is None else self.max_in_flight

    @property
    def bucket_size(self) -> int:
        return max(1, int(self.tps / 10)) if self.burst is None else max(1, self.burst)

    @property
    def fee_type_text(self) -> str:
        return DEFAULT_FEE_TYPE[self.protocol] if self.fee_type is None else self.fee_type

    @property
    def dest_prefix_text(self) -> str:
        return DEFAULT_DEST_PREFIX[self.protocol] if self.dest_prefix is None else self.dest_prefix

    def sgip_node(self) -> int:
        """The SP node id of our SGIP sequence triples (sgip.md 2)."""
        if self.sgip_node_id is not None:
            return self.sgip_node_id
        if not self.sgip_area_code or not self.corp_id:
            raise ValueError(f"link {self.name}: SGIP needs sgip_node_id, or sgip_area_code and corp_id")
        return sp_node_id(self.sgip_area_code, self.corp_id)

    @classmethod
    def from_mapping(cls, name: str, table: Mapping[str, Any]) -> LinkConfig:
        """From a TOML table ``[links.<name>]``; unknown keys are an error (a typo must not pass)."""
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"link {name}: unknown settings {', '.join(unknown)}")
        return cls(name=name, **table)


@attrs.frozen(kw_only=True)
class SgipListenerConfig:
    """Our listener for the SMG's own connections (SGIP Bind type 2: Deliver, Report, UserRpt; sgip.md 1).

    The carrier's login name and password for this direction are configured
    separately from the ones we use towards it (sgip.md 1).
    """

    name: str
    port: int
    interface: str = ""
    login: str
    secret: str = attrs.field(repr=False)
    #: source addresses allowed to bind (empty: any)
    allowed_hosts: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: close a connection that has not bound after this long / a bound one silent this long
    login_timeout: float = attrs.field(default=60.0, validator=_positive)
    peer_idle_timeout: float = attrs.field(default=180.0, validator=_positive)
    #: the SMG resends a request we did not answer in time; we answer at once, so this is only bookkeeping
    response_timeout: float = attrs.field(default=60.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        _require_text(self, f"SGIP listener {self.name}")

    @classmethod
    def from_mapping(cls, name: str, table: Mapping[str, Any]) -> SgipListenerConfig:
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"SGIP listener {name}: unknown settings {', '.join(unknown)}")
        return cls(name=name, **table)
