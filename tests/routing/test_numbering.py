"""The numbering plan: the shipped file, longest-prefix lookup, portability, validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.routing.numbering import (
    Carrier,
    NumberingPlan,
    NumberingPlanError,
    load_plan,
    parse_plan,
    reload_plan,
)
from smsgw.routing.numbers import InvalidNumber, NumberProblem, normalise

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "numbering.toml"

CMCC, CUCC, CTCC, CBN = Carrier.CMCC, Carrier.CUCC, Carrier.CTCC, Carrier.CBN

# Every prefix of the shipped plan and the carrier we expect for it, written out
# independently of the file (sources: see the comments in config/numbering.toml).
EXPECTED: dict[str, Carrier] = {
    # 13x
    "130": CUCC, "131": CUCC, "132": CUCC, "133": CTCC, "134": CMCC, "1349": CTCC,
    "135": CMCC, "136": CMCC, "137": CMCC, "138": CMCC, "139": CMCC,
    # 14x data cards
    "145": CUCC, "147": CMCC, "149": CTCC,
    # 15x
    "150": CMCC, "151": CMCC, "152": CMCC, "153": CTCC, "155": CUCC, "156": CUCC,
    "157": CMCC, "158": CMCC, "159": CMCC,
    # 16x
    "162": CTCC, "165": CMCC, "166": CUCC, "167": CUCC,
    # 17x, 170 split by the 4th digit
    "1700": CTCC, "1701": CTCC, "1702": CTCC, "1703": CMCC, "1704": CUCC,
    "1705": CMCC, "1706": CMCC, "1707": CUCC, "1708": CUCC, "1709": CUCC,
    "171": CUCC, "172": CMCC, "173": CTCC,
    "17400": CTCC, "17401": CTCC, "17402": CTCC, "17403": CTCC, "17404": CTCC, "17405": CTCC,
    "175": CUCC, "176": CUCC, "177": CTCC, "178": CMCC,
    # 18x
    "180": CTCC, "181": CTCC, "182": CMCC, "183": CMCC, "184": CMCC, "185": CUCC,
    "186": CUCC, "187": CMCC, "188": CMCC, "189": CTCC,
    # 19x
    "190": CTCC, "191": CTCC, "192": CBN, "193": CTCC, "195": CMCC, "196": CUCC,
    "197": CMCC, "198": CMCC, "199": CTCC,
}  # fmt: skip

EXPECTED_REFUSED = {
    "17406", "17407", "17408", "17409", "17410", "17411", "17412", "1749",
    "1410", "1440", "1441", "146", "148",
}  # fmt: skip


@pytest.fixture(scope="module")
def plan() -> NumberingPlan:
    return load_plan(SHIPPED)


def sample(prefix: str, fill: str = "5") -> str:
    return prefix.ljust(11, fill)


def test_shipped_plan_loads(plan: NumberingPlan) -> None:
    assert plan.source == str(SHIPPED)
    assert plan.path == SHIPPED
    assert plan.revised
    assert plan.carried_by == {CBN: CMCC}
    assert plan.network_of(CBN) is CMCC
    assert plan.network_of(CUCC) is CUCC


def test_shipped_prefixes_are_exactly_the_expected_ones(plan: NumberingPlan) -> None:
    assert dict(plan.prefixes) == EXPECTED
    assert set(plan.refused) == EXPECTED_REFUSED


@pytest.mark.parametrize("prefix, carrier", sorted(EXPECTED.items()))
def test_every_prefix_class_maps_to_its_carrier(plan: NumberingPlan, prefix: str, carrier: Carrier) -> None:
    for fill in "05":  # not 9: 134 + 9… is the 1349 block (tested below)
        assert plan.carrier_of(sample(prefix, fill)) is carrier
        assert plan.carrier_of("+86" + sample(prefix, fill)) is carrier


@pytest.mark.parametrize(
    "number, carrier",
    [
        ("13400000000", CMCC),  # 1340-1348 under the 3-digit entry
        ("13489999999", CMCC),
        ("13490000000", CTCC),  # 4-digit 1349 beats 134
        ("13499999999", CTCC),
        ("17000000000", CTCC),
        ("17030000000", CMCC),
        ("17040000000", CUCC),
        ("17059999999", CMCC),
        ("17099999999", CUCC),
        ("17405999999", CTCC),  # 5-digit satellite block
    ],
)
def test_longer_prefix_wins(plan: NumberingPlan, number: str, carrier: Carrier) -> None:
    assert plan.carrier_of(number) is carrier
    entry = plan.match(normalise(number))
    assert entry is not None and entry.carrier is carrier


@pytest.mark.parametrize("number", ["17406000000", "17412999999", "17490000000", "14600000000", "14800000000"])
def test_refused_blocks(plan: NumberingPlan, number: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        plan.carrier_of(number)
    assert caught.value.problem is NumberProblem.REFUSED
    assert caught.value.raw == number


@pytest.mark.parametrize("number", ["15400000000", "16100000000", "16300000000", "17413000000", "17900000000", "19400000000"])
def test_unallocated_prefixes(plan: NumberingPlan, number: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        plan.carrier_of(number)
    assert caught.value.problem is NumberProblem.UNALLOCATED
    assert str(SHIPPED) in caught.value.detail


def test_malformed_numbers_are_refused_before_lookup(plan: NumberingPlan) -> None:
    with pytest.raises(InvalidNumber) as caught:
        plan.carrier_of("+12025550123")
    assert caught.value.problem is NumberProblem.NOT_MAINLAND


def test_portability_override_wins(plan: NumberingPlan) -> None:
    ported = {"13800138000": CTCC, "15400000000": CUCC, "17406000000": CMCC}
    assert plan.carrier_of("13800138000") is CMCC
    assert plan.carrier_of("13800138000", ported) is CTCC
    assert plan.carrier_of("+8613800138000", ported) is CTCC  # keyed by the canonical number
    assert plan.carrier_of(normalise("008613800138000"), ported) is CTCC
    assert plan.carrier_of("13800138001", ported) is CMCC  # a neighbour is not ported
    # the override comes from the carriers' own records: it wins over unknown and refused prefixes
    assert plan.carrier_of("15400000000", ported) is CUCC
    assert plan.carrier_of("17406000000", ported) is CMCC
    assert plan.carrier_of("13800138000", {}) is CMCC
    assert plan.carrier_of("13800138000", None) is CMCC


def test_plain_string_override_values_become_carriers(plan: NumberingPlan) -> None:
    assert plan.carrier_of("13800138000", {"13800138000": "cucc"}) is CUCC  # type: ignore[dict-item]


@given(st.data())
def test_any_number_under_a_configured_prefix_is_routed(plan: NumberingPlan, data: st.DataObject) -> None:
    prefix = data.draw(st.sampled_from(sorted(plan.prefixes)))
    rest = data.draw(st.text(alphabet="0123456789", min_size=11 - len(prefix), max_size=11 - len(prefix)))
    number = prefix + rest
    # reference: the longest matching entry found by brute force over both tables
    matches = [p for p in (*plan.prefixes, *plan.refused) if number.startswith(p)]
    longest = max(matches, key=len)
    if longest in plan.refused:
        with pytest.raises(InvalidNumber):
            plan.carrier_of(number)
    else:
        assert plan.carrier_of(number) is plan.prefixes[longest]
        assert plan.carrier_of("0086" + number) is plan.prefixes[longest]


def test_reload_reads_the_file_again(tmp_path: Path) -> None:
    path = tmp_path / "numbering.toml"
    path.write_text('[prefixes]\n"138" = "cmcc"\n', encoding="utf-8")
    first = load_plan(path)
    path.write_text('[prefixes]\n"138" = "cucc"\n', encoding="utf-8")
    second = reload_plan(first)
    assert first.carrier_of("13800138000") is CMCC
    assert second.carrier_of("13800138000") is CUCC
    path.write_text('[prefixes]\n"138" = "nope"\n', encoding="utf-8")
    with pytest.raises(NumberingPlanError):
        reload_plan(second)
    assert second.carrier_of("13800138000") is CUCC  # the plan in use is untouched


def test_reload_of_a_plan_not_from_a_file() -> None:
    with pytest.raises(NumberingPlanError, match="not loaded from a file"):
        reload_plan(parse_plan('[prefixes]\n"138" = "cmcc"\n'))


def test_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.toml"
    with pytest.raises(NumberingPlanError) as caught:
        load_plan(missing)
    assert caught.value.source == str(missing)
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize(
    "text, key, words",
    [
        ('[prefixes]\n"138" = "chinamobile"\n', 'prefixes."138"', "not a carrier"),
        ('[prefixes]\n"138" = 1\n', 'prefixes."138"', "not a carrier"),
        ('[prefixes]\n"13a" = "cmcc"\n', 'prefixes."13a"', "digits only"),
        ('[prefixes]\n"13" = "cmcc"\n', 'prefixes."13"', "3 to 10 digits"),
        ('[prefixes]\n"13800138000" = "cmcc"\n', 'prefixes."13800138000"', "3 to 10 digits"),
        ('[prefixes]\n"120" = "cmcc"\n', 'prefixes."120"', "starts with 13-19"),
        ('[prefixes]\n"238" = "cmcc"\n', 'prefixes."238"', "starts with 13-19"),
        ('[prefixes]\n"１３８" = "cmcc"\n', 'prefixes."１３８"', "digits only"),
        ('[prefixes]\n"138" = "cmcc"\n[refused]\n"138" = "no"\n', 'refused."138"', "also listed"),
        ('[prefixes]\n"138" = "cmcc"\n[refused]\n"1749" = ""\n', 'refused."1749"', "non-empty"),
        ('[prefixes]\n"138" = "cmcc"\n[carried_by]\ncbn = "cbn"\n', "carried_by.cbn", "itself"),
        ('[prefixes]\n"138" = "cmcc"\n[carried_by]\ncbn = "x"\n', "carried_by.cbn", "not a carrier"),
        ('[prefixes]\n"138" = "cmcc"\n[carried_by]\nbroadcast = "cmcc"\n', "carried_by.broadcast", "not a carrier"),
        (
            '[prefixes]\n"138" = "cmcc"\n[carried_by]\ncbn = "cmcc"\ncmcc = "cucc"\n',
            "carried_by.cbn",
            "final carrier",
        ),
        ('[prefixes]\n"138" = "cmcc"\n[prefix]\n"139" = "cmcc"\n', "prefix", "unknown section"),
        ('[prefixes]\n"138" = "cmcc"\n[plan]\nrevision = "x"\n', "plan.revision", "unknown key"),
        ('[prefixes]\n"138" = "cmcc"\n[plan]\nrevised = 3\n', "plan.revised", "string"),
        ('prefixes = ["138"]\n', "prefixes", "must be a table"),
        ("[plan]\n", "prefixes", "no prefixes"),
    ],
)
def test_malformed_plan_names_the_key(text: str, key: str, words: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NumberingPlanError) as caught:
        load_plan(path)
    error = caught.value
    assert error.key == key
    assert error.source == str(path)
    assert str(path) in str(error) and key in str(error)
    assert words in error.reason


def test_toml_syntax_error_names_the_file() -> None:
    with pytest.raises(NumberingPlanError) as caught:
        parse_plan('[prefixes]\n"138" = cmcc\n', source="plan.toml")
    assert caught.value.key is None
    assert str(caught.value).startswith("plan.toml: not valid TOML")


def test_duplicate_key_is_a_toml_error() -> None:
    with pytest.raises(NumberingPlanError, match="not valid TOML"):
        parse_plan('[prefixes]\n"138" = "cmcc"\n"138" = "cucc"\n')


def test_plan_is_immutable(plan: NumberingPlan) -> None:
    with pytest.raises(TypeError):
        plan.prefixes["138"] = CUCC  # type: ignore[index]
