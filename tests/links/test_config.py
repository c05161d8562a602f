"""Link configuration: defaults per protocol, derived values, TOML-shaped tables, and what is refused."""

from __future__ import annotations

import pytest

from smsgw.net.links.config import LinkConfig, SgipListenerConfig
from tests.links.fixtures import config


def test_protocol_defaults() -> None:
    cmpp, sgip, smgp = config("cmpp30"), config("sgip12"), config("smgp30")
    assert (cmpp.throttles, sgip.throttles, smgp.throttles) == ({8}, {11}, {1})
    assert (cmpp.retries, smgp.retries) == (frozenset(), {74, 75, 76})
    assert (cmpp.connects_on_demand, sgip.connects_on_demand) == (False, True)
    assert (cmpp.fee_type_text, sgip.fee_type_text, smgp.fee_type_text) == ("01", "1", "00")
    assert (cmpp.dest_prefix_text, sgip.dest_prefix_text) == ("", "86")
    assert sgip.sgip_node() == 3010012345
    assert cmpp.in_flight_cap == 16 and config("cmpp30", connections=3, window=8).in_flight_cap == 24
    assert cmpp.bucket_size == 10 and config("cmpp30", tps=5).bucket_size == 1


def test_from_mapping_takes_a_toml_table() -> None:
    table = {"protocol": "sgip12", "carrier": "cucc", "host": "10.0.0.1", "port": 8801, "login": "sp",
             "secret": "pw", "sp_number": "10655912", "sgip_node_id": 3020012345, "connections": 2,
             "throttle_codes": [11, 88], "msg_fmt": {"8": 8, "0": 15}, "stat_overrides": {"MK:": "expired"}}
    cfg = LinkConfig.from_mapping("cucc-bj", table)
    assert cfg.name == "cucc-bj" and cfg.throttles == {11, 88} and cfg.msg_fmt == {8: 8, 0: 15}
    assert "pw" not in repr(cfg)
    with pytest.raises(ValueError, match="unknown settings tsp"):
        LinkConfig.from_mapping("x", {**table, "tsp": 10})


@pytest.mark.parametrize("bad", [
    {"window": 0}, {"tps": 0}, {"throttle_factor": 0}, {"connections": 0},
    {"registered_delivery": "sometimes"},
])
def test_refused_settings(bad: dict) -> None:
    with pytest.raises(ValueError):
        config("cmpp30", **bad)


def test_unknown_protocol() -> None:
    table = {"protocol": "smpp34", "carrier": "x", "host": "h", "port": 1, "login": "l", "secret": "s",
             "sp_number": "1"}
    with pytest.raises(ValueError):
        LinkConfig.from_mapping("x", table)


def test_sgip_needs_a_node_id() -> None:
    with pytest.raises(ValueError, match="SGIP needs"):
        config("sgip12", corp_id="", sgip_area_code="")


def test_listener_config() -> None:
    cfg = SgipListenerConfig.from_mapping("in", {"port": 8801, "login": "smg", "secret": "x",
                                                 "allowed_hosts": ["10.0.0.9"]})
    assert cfg.allowed_hosts == ("10.0.0.9",) and "x" not in repr(cfg)
