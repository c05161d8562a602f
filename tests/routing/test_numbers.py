"""Destination normalisation: accepted spellings, canonical form, refusals with reasons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.routing.numbers import InvalidNumber, MobileNumber, NumberProblem, is_mainland_mobile, normalise

CANONICAL = "13800138000"


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "8613800138000", "+8613800138000", "008613800138000"],
    ids=["national", "bare-86", "e164", "0086"],
)
def test_accepted_spellings(raw: str) -> None:
    number = normalise(raw)
    assert number == MobileNumber(CANONICAL)
    assert number.digits == CANONICAL == str(number)
    assert number.international == "86" + CANONICAL
    assert number.e164 == "+86" + CANONICAL


@pytest.mark.parametrize(
    "raw, problem",
    [
        # empty
        ("", NumberProblem.EMPTY),
        ("+", NumberProblem.EMPTY),
        # separators and other characters are refused, not stripped
        ("138 0013 8000", NumberProblem.BAD_CHARACTER),
        ("138-0013-8000", NumberProblem.BAD_CHARACTER),
        (" 13800138000", NumberProblem.BAD_CHARACTER),
        ("13800138000\n", NumberProblem.BAD_CHARACTER),
        ("+86 13800138000", NumberProblem.BAD_CHARACTER),
        ("(+86)13800138000", NumberProblem.BAD_CHARACTER),
        ("1380013800O", NumberProblem.BAD_CHARACTER),  # letter O
        ("abc", NumberProblem.BAD_CHARACTER),
        ("１３８００１３８０００", NumberProblem.BAD_CHARACTER),  # full-width digits
        ("++8613800138000", NumberProblem.BAD_CHARACTER),
        ("138001380+00", NumberProblem.BAD_CHARACTER),
        # other countries
        ("+12025550123", NumberProblem.NOT_MAINLAND),
        ("0012025550123", NumberProblem.NOT_MAINLAND),
        ("+85291234567", NumberProblem.NOT_MAINLAND),  # Hong Kong
        ("0085363123456", NumberProblem.NOT_MAINLAND),  # Macau
        ("+886912345678", NumberProblem.NOT_MAINLAND),  # Taiwan
        ("85291234567", NumberProblem.NOT_MAINLAND),  # international without '+'
        # landlines and service numbers
        ("00861088888888", NumberProblem.NOT_MOBILE),  # 0086 + Beijing landline
        ("+867551234567", NumberProblem.NOT_MOBILE),  # +86 + Shenzhen landline
        ("0086075512345678", NumberProblem.NOT_MOBILE),  # 0086 + trunk 0 + landline
        ("01088888888", NumberProblem.NOT_MOBILE),  # domestic landline
        ("12345678901", NumberProblem.NOT_MOBILE),  # 12x
        ("10086", NumberProblem.NOT_MOBILE),  # service number
        ("11012345678", NumberProblem.NOT_MOBILE),
        ("8612345678901", NumberProblem.NOT_MOBILE),
        # mobile-shaped, wrong length
        ("1380013800", NumberProblem.WRONG_LENGTH),
        ("138001380001", NumberProblem.WRONG_LENGTH),
        ("1", NumberProblem.WRONG_LENGTH),
        ("86", NumberProblem.WRONG_LENGTH),
        ("0086", NumberProblem.WRONG_LENGTH),
        ("+861380013800", NumberProblem.WRONG_LENGTH),
        ("1795113800138000", NumberProblem.WRONG_LENGTH),  # IP-dialling prefix + number
        ("1440123456789", NumberProblem.WRONG_LENGTH),  # 13-digit IoT number
    ],
)
def test_refused_with_reason(raw: str, problem: NumberProblem) -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalise(raw)
    assert caught.value.problem is problem
    assert caught.value.raw == raw
    assert caught.value.detail and caught.value.detail in str(caught.value)
    assert not is_mainland_mobile(raw)


def test_bad_character_names_it_and_its_position() -> None:
    with pytest.raises(InvalidNumber, match=r"'-' at position 3"):
        normalise("138-0013-8000")


def test_canonical_constructor_refuses_other_spellings() -> None:
    for raw in ("+8613800138000", "8613800138000", "1380013800", "12345678901", "1380013800x"):
        with pytest.raises(ValueError):
            MobileNumber(raw)


mobile_digits = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


@given(mobile_digits, st.sampled_from(["", "86", "+86", "0086"]))
def test_every_spelling_normalises_to_the_same_number(digits: str, prefix: str) -> None:
    assert normalise(prefix + digits).digits == digits


@given(st.text(alphabet="0123456789+- 86", max_size=18))
def test_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = normalise(raw)
    except InvalidNumber as e:
        assert e.problem in set(NumberProblem)
        return
    assert normalise(once.digits) == once
    assert normalise(once.e164) == once
    assert normalise(once.international) == once
