"""Shared test material for the link tests: configs, segments, a recording observer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from smsgw.domain.model import ClaimedSegment, MoMessage, Report
from smsgw.domain.udh import Concat, concat_udh
from smsgw.net.links.config import CARRIER_TZ, LinkConfig

#: 2024-03-08 09:30:00 in Beijing, as epoch seconds
WALL = datetime(2024, 3, 8, 9, 30, 0, tzinfo=CARRIER_TZ)
WALL_S = WALL.timestamp()
HOUR_MS = 3_600_000

BASE: dict[str, dict[str, Any]] = {
    "cmpp20": {"login": "901234", "secret": "s3cret", "sp_number": "1065900012", "service_id": "MXX0011"},
    "cmpp30": {"login": "901234", "secret": "s3cret", "sp_number": "1065900012", "service_id": "MXX0011"},
    "sgip12": {"login": "spuser", "secret": "sppass", "sp_number": "10655912", "service_id": "TEST",
               "corp_id": "12345", "sgip_area_code": "010"},
    "smgp30": {"login": "client01", "secret": "smgpsecret", "sp_number": "1189001", "service_id": "SVC01"},
}


def config(protocol: str, **kw: Any) -> LinkConfig:
    settings: dict[str, Any] = {"name": f"test-{protocol}", "protocol": protocol, "carrier": "cmcc",
                                "host": "127.0.0.1", "port": 1, **BASE[protocol], "reconnect_jitter": 0.0}
    settings.update(kw)
    return LinkConfig(**settings)


def segment(n: int = 1, *, dest: str = "13800138000", text: str | None = None, parts: int = 1, seq: int = 1,
            udh: Concat | None = None, data_coding: int = 8, account_id: int = 7, **kw: Any) -> ClaimedSegment:
    body = (text if text is not None else f"验证码{n:04d}").encode("utf-16-be")
    payload = (concat_udh(udh) + body) if udh else body
    fields: dict[str, Any] = dict(
        message_id=1000 + n, seq=seq, parts=parts, payload=payload, esm_class=0x40 if udh else 0,
        data_coding=data_coding, source_addr="", dest_addr=dest, account_id=account_id, enterprise_id=account_id,
        registered_delivery=1, priority=0, carrier="cmcc", attempts=1, expires_at=int(WALL_S * 1000) + 48 * HOUR_MS,
    )
    fields.update(kw)
    return ClaimedSegment(**fields)


@attrs.define
class Observer:
    """A ``LinkObserver`` that records what it is told (and the order, with ``log``)."""

    reports: list[Report] = attrs.Factory(list)
    mos: list[MoMessage] = attrs.Factory(list)
    states: list[tuple[str, bool]] = attrs.Factory(list)
    log: list[Any] = attrs.Factory(list)

    def report(self, report: Report) -> None:
        self.reports.append(report)
        self.log.append(("report", report.carrier_msg_id))

    def mo(self, mo: MoMessage) -> None:
        self.mos.append(mo)
        self.log.append(("mo", mo.dest_addr))

    def link_state(self, name: str, up: bool) -> None:
        self.states.append((name, up))
        self.log.append(("state", up))
