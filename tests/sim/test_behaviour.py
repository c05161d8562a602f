"""``Behaviour`` and its text forms (the runner's options)."""

from __future__ import annotations

import random

import pytest

from smsgw.sim.behaviour import Account, Behaviour, Outcome, parse_account, parse_outcomes


def test_outcome_codes_per_protocol_with_defaults_and_overrides() -> None:
    assert Outcome("DELIVRD").sgip() == (0, 0) and Outcome("DELIVRD").smgp() == ("DELIVRD", "000")
    assert Outcome("EXPIRED").sgip() == (2, 25) and Outcome("EXPIRED").smgp() == ("EXPIRED", "001")
    custom = Outcome("UNDELIV", cmpp_stat="MB:0008", sgip_error=33, smgp_err="006")
    assert (custom.cmpp(), custom.sgip(), custom.smgp()) == ("MB:0008", (2, 33), ("UNDELIV", "006"))


@pytest.mark.parametrize("bad", [
    {"stat": "NOPE"}, {"stat": "UNDELIV", "weight": -1}, {"stat": "UNDELIV", "cmpp_stat": "TOOLONG:1"},
    {"stat": "UNDELIV", "smgp_err": "6"},
])
def test_outcome_refuses_values_that_cannot_go_on_the_wire(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        Outcome(**bad)


def test_parse_outcomes_puts_the_code_where_the_protocol_wants_it() -> None:
    text = "DELIVRD=90, undeliv=8:{code},EXPIRED=2"
    assert parse_outcomes(text.format(code="MB:0008"), "cmpp20")[1] == Outcome("UNDELIV", 8, cmpp_stat="MB:0008")
    assert parse_outcomes(text.format(code="29"), "sgip12")[1] == Outcome("UNDELIV", 8, sgip_error=29)
    assert parse_outcomes(text.format(code="004"), "smgp30")[1] == Outcome("UNDELIV", 8, smgp_err="004")
    with pytest.raises(ValueError):
        parse_outcomes("DELIVRD", "cmpp30")


def test_parse_account() -> None:
    assert parse_account("901234:pw") == Account("901234", "pw")
    assert parse_account("901234:pw:1065901234:50") == Account("901234", "pw", "1065901234", 50.0)
    with pytest.raises(ValueError):
        parse_account("901234")


def test_behaviour_checks_its_values_and_draws_from_its_generator() -> None:
    with pytest.raises(ValueError):
        Behaviour(accounts=[Account("a", "b"), Account("a", "c")])
    with pytest.raises(ValueError):
        Behaviour(accounts=[], outcomes=[Outcome("DELIVRD", 0)])
    with pytest.raises(ValueError):
        Behaviour(accounts=[], drop_probability=1.5)
    b = Behaviour(accounts=[], drop_every=3, rng=random.Random(0))
    assert [b.draw_drop(n) for n in range(1, 7)] == [False, False, True, False, False, True]
    a = Account("x", "y", tps=5)
    assert Behaviour(accounts=[a], tps=100).tps_of(a) == 5
