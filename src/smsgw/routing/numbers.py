"""Destination numbers: from what a client sends to an 11-digit mainland mobile number.

This module owns the *shape* of a destination: which spellings we accept, the
one canonical form we keep (``MobileNumber``, 11 digits, ``1[3-9]…``), and the
reasons we refuse the rest.  Which carrier a number belongs to is the numbering
plan's business (``smsgw.routing.numbering``).  DESIGN.md §3 step 5.

Accepted spellings of ``13800138000`` (and nothing else):

* ``13800138000``        national, as most clients send it;
* ``8613800138000``      international without a prefix (SMPP TON=1 clients);
* ``+8613800138000``     E.164;
* ``008613800138000``    international dialling prefix.

Decision on separators: spaces, dashes, dots, brackets and any other character
are **refused**, not stripped.  A number with separators on the SMPP or HTTP
interface is a client bug that stripping would hide (and "138-0013-8000 " vs
"13800138000" would then count as two numbers for duplicate and frequency
checks if any caller forgot to normalise).  Interfaces that take numbers typed
by people (the web centre's batch upload) tidy their own input before calling
``normalise``.  Full-width digits (``１３８…``) are refused for the same reason.

The SMPP TON/NPI of ``destination_addr`` is not consulted: clients set it
inconsistently, and the digits alone are unambiguous for mainland mobiles
(a national mobile number starts with 1, never with 86 or 00).

Every refusal is an ``InvalidNumber`` carrying a ``NumberProblem`` (what the
SMPP layer maps to ESME_RINVDSTADR, the HTTP API to its own code) and a
sentence for people.  The fault is always the client's.
"""

from __future__ import annotations

import enum

import attrs

#: digits of a mainland mobile number without the country code
NATIONAL_LENGTH = 11
COUNTRY_CODE = "86"
_DIGITS = frozenset("0123456789")
_MOBILE_SECOND_DIGITS = frozenset("3456789")


class NumberProblem(str, enum.Enum):
    """Why a destination is refused.  Values are stable: logs and the store keep them."""

    EMPTY = "empty"
    BAD_CHARACTER = "bad_character"  # anything but digits and one leading '+'
    NOT_MAINLAND = "not_mainland"  # another country code (+1…, 00852…)
    NOT_MOBILE = "not_mobile"  # mainland landline, service number (10x, 11x, 12x)
    WRONG_LENGTH = "wrong_length"  # mobile-shaped (1[3-9]) but not 11 digits
    UNALLOCATED = "unallocated"  # well formed, but no carrier has that prefix (numbering plan)
    REFUSED = "refused"  # a block the numbering plan refuses on purpose (emergency, IoT …)


class InvalidNumber(ValueError):
    """A destination we will not send to; always the client's fault.

    ``raw`` is what the client sent, ``problem`` the machine-readable reason,
    ``detail`` the sentence for people (also ``str(error)``).
    """

    def __init__(self, raw: str, problem: NumberProblem, detail: str) -> None:
        super().__init__(f"{raw!r}: {detail}")
        self.raw = raw
        self.problem = problem
        self.detail = detail


@attrs.frozen(order=True)
class MobileNumber:
    """A mainland mobile number in canonical form: exactly 11 ASCII digits, ``1[3-9]…``.

    Build it with ``normalise``; the constructor validates the canonical form
    only and accepts no other spelling.
    """

    digits: str = attrs.field()

    @digits.validator
    def _check(self, _attribute: attrs.Attribute[str], value: str) -> None:
        if not (
            len(value) == NATIONAL_LENGTH
            and set(value) <= _DIGITS
            and value[0] == "1"
            and value[1] in _MOBILE_SECOND_DIGITS
        ):
            raise ValueError(f"not a canonical mainland mobile number: {value!r} (use normalise())")

    @property
    def international(self) -> str:
        """``86`` + the 11 digits, the form some carrier gateways want in destination fields."""
        return COUNTRY_CODE + self.digits

    @property
    def e164(self) -> str:
        return "+" + COUNTRY_CODE + self.digits

    def __str__(self) -> str:
        return self.digits


def normalise(raw: str) -> MobileNumber:
    """The canonical ``MobileNumber`` for a destination as a client sent it, or ``InvalidNumber``.

    Idempotent: ``normalise(normalise(x).digits) == normalise(x)``.
    """
    if not raw:
        raise InvalidNumber(raw, NumberProblem.EMPTY, "no destination number")
    body = raw[1:] if raw[0] == "+" else raw
    for position, char in enumerate(body, start=len(raw) - len(body)):
        if char not in _DIGITS:
            raise InvalidNumber(
                raw,
                NumberProblem.BAD_CHARACTER,
                f"character {char!r} at position {position}: only digits and one leading '+' are accepted",
            )
    if not body:
        raise InvalidNumber(raw, NumberProblem.EMPTY, "no digits after '+'")
    national = _national_part(raw, body, international=raw[0] == "+")
    return _mobile(raw, national)


def is_mainland_mobile(raw: str) -> bool:
    """Whether ``normalise`` accepts ``raw`` (shape only; the plan may still not know the prefix)."""
    try:
        normalise(raw)
    except InvalidNumber:
        return False
    return True


def _national_part(raw: str, digits: str, *, international: bool) -> str:
    """Strip the country code: ``+86``, ``0086`` or a bare ``86``; refuse other countries."""
    if international or digits.startswith("00"):
        # After '+' or '00' the next digits are a country code.
        code_and_rest = digits if international else digits[2:]
        if code_and_rest.startswith(COUNTRY_CODE):
            return code_and_rest[len(COUNTRY_CODE):]
        raise InvalidNumber(
            raw,
            NumberProblem.NOT_MAINLAND,
            f"country code of +{code_and_rest[:3]}… is not +86: only mainland China numbers are served",
        )
    if digits.startswith(COUNTRY_CODE):
        # No national number starts with 86 (mobiles start with 1, landlines with 0),
        # so a bare leading 86 can only be the country code.
        return digits[len(COUNTRY_CODE):]
    if digits[0] in "23456789":
        raise InvalidNumber(
            raw,
            NumberProblem.NOT_MAINLAND,
            "neither a mainland mobile number (1…) nor +86/0086/86 followed by one;"
            " an international number needs '+' or '00'",
        )
    return digits


def _mobile(raw: str, national: str) -> MobileNumber:
    if not national:
        raise InvalidNumber(raw, NumberProblem.WRONG_LENGTH, "country code without a number")
    if national[0] != "1":
        raise InvalidNumber(
            raw, NumberProblem.NOT_MOBILE, f"{national[:4]}… is a landline: mobile numbers start with 13-19"
        )
    if len(national) > 1 and national[1] not in _MOBILE_SECOND_DIGITS:
        raise InvalidNumber(
            raw,
            NumberProblem.NOT_MOBILE,
            f"{national[:3]}… is a service or landline number (10x, 11x, 12x): mobile numbers start with 13-19",
        )
    if len(national) != NATIONAL_LENGTH:
        raise InvalidNumber(
            raw,
            NumberProblem.WRONG_LENGTH,
            f"{len(national)} digits where a mainland mobile number has {NATIONAL_LENGTH}",
        )
    return MobileNumber(national)
