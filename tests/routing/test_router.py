"""Route choice: carrier groups, account routes, failover, waiting when everything is down."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.routing.numbering import Carrier
from smsgw.routing.router import (
    Route,
    RouteKind,
    RoutingConfigError,
    RoutingTable,
    Wait,
    choose_route,
)

CMCC, CUCC, CTCC, CBN = Carrier.CMCC, Carrier.CUCC, Carrier.CTCC, Carrier.CBN

# cbn has no group of its own: carried by cmcc.  cmpp-3net is a China Mobile
# contract that also delivers to the other networks (三网合一): cucc's failover.
TABLE = RoutingTable(
    groups={
        CMCC: ["cmpp-bj", "cmpp-gd", "cmpp-3net"],
        CUCC: ["sgip-main", "sgip-vip"],
        CTCC: ["smgp-main"],
    },
    failover={CUCC: ["cmpp-3net"]},
    accounts={12: {CUCC: "sgip-vip"}, 10: {CUCC: "sgip-main", CMCC: "cmpp-gd"}},
    carried_by={CBN: CMCC},
)
ALL_UP = frozenset({"cmpp-bj", "cmpp-gd", "cmpp-3net", "sgip-main", "sgip-vip", "smgp-main"})


def test_first_group_of_the_carrier_that_is_up() -> None:
    assert choose_route(TABLE, CMCC, ALL_UP) == Route("cmpp-bj", CMCC, RouteKind.CARRIER)
    assert choose_route(TABLE, CMCC, ALL_UP - {"cmpp-bj"}) == Route("cmpp-gd", CMCC)
    assert choose_route(TABLE, CTCC, ALL_UP) == Route("smgp-main", CTCC)


def test_carried_carrier_uses_its_hosts_groups() -> None:
    assert choose_route(TABLE, CBN, ALL_UP) == Route("cmpp-bj", CMCC)


def test_own_groups_of_a_carried_carrier_take_precedence() -> None:
    table = RoutingTable(groups={CMCC: ["cmpp"], CBN: ["cbn-direct"]}, carried_by={CBN: CMCC})
    assert choose_route(table, CBN, {"cmpp", "cbn-direct"}) == Route("cbn-direct", CBN)
    # its own group down: it waits rather than silently using cmcc's (configure a failover for that)
    decision = choose_route(table, CBN, {"cmpp"})
    assert isinstance(decision, Wait) and decision.carrier is CBN


def test_account_route_beats_the_carrier_groups() -> None:
    assert choose_route(TABLE, CUCC, ALL_UP, account_id=12, enterprise_id=10) == Route(
        "sgip-vip", CUCC, RouteKind.ACCOUNT
    )


def test_sub_account_route_beats_the_enterprise_route() -> None:
    assert choose_route(TABLE, CUCC, ALL_UP, account_id=12, enterprise_id=10).link_group == "sgip-vip"  # type: ignore[union-attr]
    # another sub-account of enterprise 10 inherits the enterprise's routes
    assert choose_route(TABLE, CMCC, ALL_UP, account_id=13, enterprise_id=10) == Route(
        "cmpp-gd", CMCC, RouteKind.ACCOUNT
    )
    # an account route for another carrier does not apply
    assert choose_route(TABLE, CTCC, ALL_UP, account_id=12, enterprise_id=10) == Route("smgp-main", CTCC)


def test_account_route_applies_to_a_carried_carrier() -> None:
    assert choose_route(TABLE, CBN, ALL_UP, account_id=13, enterprise_id=10) == Route(
        "cmpp-gd", CMCC, RouteKind.ACCOUNT
    )


def test_account_route_down_waits_instead_of_switching_channel() -> None:
    decision = choose_route(TABLE, CUCC, ALL_UP - {"sgip-vip"}, account_id=12, enterprise_id=10)
    assert isinstance(decision, Wait)
    assert decision.carrier is CUCC
    assert "account 12" in decision.reason and "sgip-vip" in decision.reason


def test_failover_when_all_groups_of_the_carrier_are_down() -> None:
    up = ALL_UP - {"sgip-main", "sgip-vip"}
    assert choose_route(TABLE, CUCC, up) == Route("cmpp-3net", CMCC, RouteKind.FAILOVER)


def test_wait_when_down_and_no_failover() -> None:
    decision = choose_route(TABLE, CTCC, ALL_UP - {"smgp-main"})
    assert decision == Wait(CTCC, "all link groups for ctcc are down (smgp-main) and no failover is configured")


def test_wait_when_failover_is_down_too() -> None:
    decision = choose_route(TABLE, CUCC, {"cmpp-bj"})
    assert isinstance(decision, Wait)
    assert "failover groups are down too (cmpp-3net)" in decision.reason


def test_wait_when_nothing_is_configured_for_the_carrier() -> None:
    table = RoutingTable(groups={CMCC: ["cmpp"]})
    decision = choose_route(table, CTCC, {"cmpp"})
    assert decision == Wait(CTCC, "no link group is configured for ctcc and no failover is configured")


def test_failover_for_a_carrier_without_groups() -> None:
    table = RoutingTable(groups={CMCC: ["cmpp"]}, failover={CTCC: ["cmpp"]})
    assert choose_route(table, CTCC, {"cmpp"}) == Route("cmpp", CMCC, RouteKind.FAILOVER)


def test_nothing_up_at_all_waits() -> None:
    for carrier in Carrier:
        assert isinstance(choose_route(TABLE, carrier, frozenset(), account_id=1), Wait)


@given(
    carrier=st.sampled_from(list(Carrier)),
    up=st.frozensets(st.sampled_from(sorted(ALL_UP | {"unknown"}))),
    account=st.sampled_from([None, 10, 12, 13]),
)
def test_never_routes_to_a_group_that_is_down(carrier: Carrier, up: frozenset[str], account: int | None) -> None:
    decision = choose_route(TABLE, carrier, up, account_id=account, enterprise_id=10 if account else None)
    if isinstance(decision, Route):
        assert decision.link_group in up
        assert decision.carrier is TABLE.carrier_of_group(decision.link_group)
    else:
        assert decision.reason


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"groups": {CMCC: ["a"], CUCC: ["a"]}}, "groups.cucc"),
        ({"groups": {"chinamobile": ["a"]}}, "groups.chinamobile"),
        ({"groups": {CMCC: "a"}}, "groups.cmcc"),
        ({"groups": {CMCC: ["a"]}, "failover": {CUCC: ["b"]}}, "failover.cucc"),
        ({"groups": {CMCC: ["a"]}, "failover": {CMCC: ["a"]}}, "failover.cmcc"),
        ({"groups": {CMCC: ["a"]}, "accounts": {7: {CUCC: "b"}}}, "accounts.7.cucc"),
        ({"groups": {CMCC: ["a"]}, "accounts": {7: {"x": "a"}}}, "accounts.7.x"),
        ({"groups": {CMCC: ["a"]}, "carried_by": {CBN: CBN}}, "carried_by.cbn"),
        ({"groups": {CMCC: ["a"]}, "carried_by": {CBN: CMCC, CMCC: CUCC}}, "carried_by.cbn"),
    ],
)
def test_bad_configuration_names_the_setting(kwargs: dict, key: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(RoutingConfigError) as caught:
        RoutingTable(**kwargs)
    assert caught.value.key == key
    assert str(caught.value).startswith(key + ": ")
