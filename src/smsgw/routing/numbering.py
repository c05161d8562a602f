"""The numbering plan: which carrier a mainland mobile number belongs to.

This module owns ``config/numbering.toml`` (DESIGN.md §7): reading it with
``tomllib`` into a validated, immutable ``NumberingPlan``, and the lookup
number → ``Carrier`` used by dispatch (DESIGN.md §3 step 5):

1. a portability override (携号转网: number → carrier, kept in the store and
   passed in by the caller) wins;
2. otherwise the longest matching prefix of the plan: ``[prefixes]`` gives a
   carrier, ``[refused]`` a reason to refuse; no match is "unallocated".

The lookup keeps one dict per prefix length and tries the lengths longest
first, so a number costs at most one dict probe per distinct prefix length
(three in the shipped plan).

Nothing here is global: the app loads a plan at start and swaps in the plan
``reload_plan`` returns; a plan that fails validation raises
``NumberingPlanError`` naming the file and the key, and the old plan stays.
"""

from __future__ import annotations

import enum
import tomllib
import types
from pathlib import Path
from typing import Any, Callable, Mapping

import attrs

from smsgw.routing.numbers import NATIONAL_LENGTH, InvalidNumber, MobileNumber, NumberProblem, normalise

MIN_PREFIX = 3
MAX_PREFIX = NATIONAL_LENGTH - 1


class Carrier(str, enum.Enum):
    """A mainland mobile network operator.  Values are the names used in config and the store."""

    CMCC = "cmcc"  # China Mobile 中国移动 (CMPP)
    CUCC = "cucc"  # China Unicom 中国联通 (SGIP)
    CTCC = "ctcc"  # China Telecom 中国电信 (SMGP)
    CBN = "cbn"  # China Broadcasting Network 中国广电 (192)

    def __str__(self) -> str:
        return self.value


CARRIER_NAMES = tuple(c.value for c in Carrier)


class NumberingPlanError(ValueError):
    """The numbering plan file is unreadable or invalid: the operator's fault.

    ``source`` is the file (or ``<string>``), ``key`` the TOML key at fault in
    dotted form (``prefixes."12a"``), or None for the file as a whole.
    """

    def __init__(self, source: str, key: str | None, reason: str) -> None:
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


@attrs.frozen
class PrefixEntry:
    """One line of the plan: a prefix and either its carrier or the reason it is refused."""

    prefix: str
    carrier: Carrier | None = None
    refused: str | None = None


def _frozen_map(value: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return types.MappingProxyType(dict(value))


@attrs.frozen
class NumberingPlan:
    """A validated numbering plan.  Build it with ``load_plan`` / ``parse_plan``.

    ``prefixes`` maps prefix → carrier, ``refused`` prefix → reason,
    ``carried_by`` a carrier without links of its own → the carrier whose
    links it uses (the router consults it), ``revised`` is the operator's note.
    """

    source: str
    prefixes: Mapping[str, Carrier] = attrs.field(converter=_frozen_map)
    refused: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    carried_by: Mapping[Carrier, Carrier] = attrs.field(factory=dict, converter=_frozen_map)
    revised: str | None = None
    path: Path | None = None
    # (length, {prefix: entry}), longest first: derived from the two tables above
    _by_length: tuple[tuple[int, Mapping[str, PrefixEntry]], ...] = attrs.field(
        init=False, repr=False, eq=False
    )

    @_by_length.default
    def _index(self) -> tuple[tuple[int, Mapping[str, PrefixEntry]], ...]:
        tables: dict[int, dict[str, PrefixEntry]] = {}
        for prefix, carrier in self.prefixes.items():
            tables.setdefault(len(prefix), {})[prefix] = PrefixEntry(prefix, carrier=carrier)
        for prefix, reason in self.refused.items():
            tables.setdefault(len(prefix), {})[prefix] = PrefixEntry(prefix, refused=reason)
        return tuple((n, types.MappingProxyType(tables[n])) for n in sorted(tables, reverse=True))

    def match(self, number: MobileNumber) -> PrefixEntry | None:
        """The entry of the longest prefix of ``number``, or None when no prefix matches."""
        digits = number.digits
        for length, table in self._by_length:
            entry = table.get(digits[:length])
            if entry is not None:
                return entry
        return None

    def carrier_of(
        self, number: MobileNumber | str, overrides: Mapping[str, Carrier] | None = None
    ) -> Carrier:
        """The carrier that serves ``number`` now, or ``InvalidNumber`` (UNALLOCATED / REFUSED).

        ``number`` may be a raw destination (it is normalised first, and may
        raise the normalisation's ``InvalidNumber``).  ``overrides`` maps the
        11-digit canonical number to its carrier after porting (携号转网); an
        override wins over the prefix, even over an unknown or refused one,
        since it comes from the carriers' own portability records.
        """
        raw = number if isinstance(number, str) else number.digits
        mobile = number if isinstance(number, MobileNumber) else normalise(number)
        if overrides:
            ported = overrides.get(mobile.digits)
            if ported is not None:
                return Carrier(ported)
        entry = self.match(mobile)
        if entry is None:
            raise InvalidNumber(
                raw,
                NumberProblem.UNALLOCATED,
                f"no prefix of {mobile.digits} is allocated to a carrier in the numbering plan ({self.source})",
            )
        if entry.carrier is None:
            raise InvalidNumber(raw, NumberProblem.REFUSED, f"prefix {entry.prefix}: {entry.refused}")
        return entry.carrier

    def network_of(self, carrier: Carrier) -> Carrier:
        """The carrier whose links carry ``carrier`` by default (cbn → cmcc in the shipped plan)."""
        return self.carried_by.get(carrier, carrier)


def load_plan(path: str | Path) -> NumberingPlan:
    """Read and validate a numbering plan file; ``NumberingPlanError`` names the file and key."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise NumberingPlanError(source, None, f"cannot read: {e}") from e
    return parse_plan(text, source=source, path=path)


def reload_plan(plan: NumberingPlan) -> NumberingPlan:
    """A fresh plan from the file ``plan`` was loaded from.

    The caller swaps it in; on ``NumberingPlanError`` it keeps ``plan``.
    """
    if plan.path is None:
        raise NumberingPlanError(plan.source, None, "this plan was not loaded from a file; nothing to reload")
    return load_plan(plan.path)


def parse_plan(text: str, *, source: str = "<string>", path: Path | None = None) -> NumberingPlan:
    """Validate the TOML text of a numbering plan (see ``config/numbering.toml``)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise NumberingPlanError(source, None, f"not valid TOML: {e}") from e
    return _build(doc, source, path)


_TOP_KEYS = ("plan", "carried_by", "prefixes", "refused")
_Fail = Callable[[str | None, str], NumberingPlanError]


def _build(doc: Mapping[str, Any], source: str, path: Path | None) -> NumberingPlan:
    def fail(key: str | None, reason: str) -> NumberingPlanError:
        return NumberingPlanError(source, key, reason)

    for key in doc:
        if key not in _TOP_KEYS:
            raise fail(_dotted(key), f"unknown section; expected one of {', '.join(_TOP_KEYS)}")
    plan_table = _table(doc, "plan", fail)
    prefix_table = _table(doc, "prefixes", fail)
    refused_table = _table(doc, "refused", fail)
    carried_table = _table(doc, "carried_by", fail)

    revised: str | None = None
    for key, value in plan_table.items():
        if key != "revised":
            raise fail(f"plan.{_dotted(key)}", "unknown key; expected revised")
        if not isinstance(value, str):
            raise fail("plan.revised", f"must be a string, not {_kind(value)}")
        revised = value

    if not prefix_table:
        raise fail("prefixes", "no prefixes: the plan would refuse every number")
    prefixes: dict[str, Carrier] = {}
    for prefix, value in prefix_table.items():
        key = f"prefixes.{_dotted(prefix)}"
        _check_prefix(prefix, key, fail)
        prefixes[prefix] = _carrier(value, key, fail)

    refused: dict[str, str] = {}
    for prefix, value in refused_table.items():
        key = f"refused.{_dotted(prefix)}"
        _check_prefix(prefix, key, fail)
        if prefix in prefixes:
            raise fail(key, f"also listed under [prefixes] as {prefixes[prefix].value}; keep one")
        if not isinstance(value, str) or not value.strip():
            raise fail(key, "must be a non-empty string: the reason given to the client")
        refused[prefix] = value.strip()

    carried_by: dict[Carrier, Carrier] = {}
    for name, value in carried_table.items():
        key = f"carried_by.{_dotted(name)}"
        carrier = _carrier(name, key, fail, what="key")
        target = _carrier(value, key, fail)
        if target is carrier:
            raise fail(key, "a carrier cannot be carried by itself")
        carried_by[carrier] = target
    for carrier, target in carried_by.items():
        if target in carried_by:
            raise fail(
                f"carried_by.{carrier.value}",
                f"{target.value} is itself carried by {carried_by[target].value}; name the final carrier",
            )

    return NumberingPlan(
        source=source, prefixes=prefixes, refused=refused, carried_by=carried_by, revised=revised, path=path
    )


def _table(doc: Mapping[str, Any], name: str, fail: _Fail) -> Mapping[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise fail(name, f"must be a table ([{name}]), not {_kind(value)}")
    return value


def _check_prefix(prefix: str, key: str, fail: _Fail) -> None:
    if not (prefix.isascii() and prefix.isdigit()):
        raise fail(key, "a prefix is digits only")
    if not MIN_PREFIX <= len(prefix) <= MAX_PREFIX:
        raise fail(key, f"a prefix has {MIN_PREFIX} to {MAX_PREFIX} digits, not {len(prefix)}")
    if prefix[0] != "1" or prefix[1] not in "3456789":
        raise fail(key, "a mobile prefix starts with 13-19; this one could never match")


def _carrier(value: Any, key: str, fail: _Fail, *, what: str = "value") -> Carrier:
    if isinstance(value, str):
        try:
            return Carrier(value)
        except ValueError:
            pass
    raise fail(key, f"{what} {value!r} is not a carrier; expected one of {', '.join(CARRIER_NAMES)}")


def _kind(value: Any) -> str:
    return type(value).__name__


def _dotted(key: str) -> str:
    """A TOML key as written in a dotted path: bare when it may be, quoted otherwise."""
    if key and all(c.isascii() and (c.isalpha() or c in "_-") for c in key):
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
