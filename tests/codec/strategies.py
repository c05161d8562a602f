"""Hypothesis strategies derived from the field tables, for encode/decode properties."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from smsgw.codec.fields import Array, Command, CString, Custom, Field, Octets, Struct, Text, Tlvs, UInt

_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def text_of(max_len: int) -> st.SearchStrategy[str]:
    return st.text(_ASCII, max_size=max_len)


def field_value(f: Field, lengths: dict[str, UInt], custom: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    if f.name in custom:
        return custom[f.name]
    if isinstance(f, UInt):
        return st.integers(0, 256 ** f.size - 1)
    if isinstance(f, CString):
        if f.exact_sizes:
            return st.one_of(st.just(""), *[text_of(n - 1).filter(lambda s, n=n: len(s) == n - 1) for n in f.exact_sizes])
        return text_of(f.max_size - 1)
    if isinstance(f, Text):
        # trailing spaces are fine; NUL is the padding so it cannot be inside
        return text_of(f.size)
    if isinstance(f, Octets):
        if f.size is not None:
            return st.binary(min_size=f.size, max_size=f.size)
        limit = 256 ** lengths[f.name].size - 1 if f.name in lengths else 255
        return st.binary(max_size=min(limit, 300))
    if isinstance(f, Array):
        count = next((u for u in lengths.values() if u.length_of == f.name), None)
        limit = min(256 ** count.size - 1 if count else 5, 5)
        if isinstance(f.item, Text):
            item: st.SearchStrategy[Any] = text_of(f.item.size)
        else:
            item = fields_strategy(f.item.fields, custom)
        return st.lists(item, max_size=limit)
    if isinstance(f, Tlvs):
        entries = []
        for t in f.table:
            if t.kind == "uint":
                v: st.SearchStrategy[Any] = st.integers(0, 256 ** (t.size or 1) - 1)
            elif t.kind == "cstring":
                v = text_of((t.size or 65) - 1)
            elif t.kind == "text":
                v = text_of(t.size or 21) if t.size else text_of(21).filter(bool)
            else:
                v = st.binary(max_size=64)
            entries.append(st.tuples(st.just(t.name), v))
        return st.lists(st.one_of(*entries), max_size=4, unique_by=lambda kv: kv[0]).map(dict)
    if isinstance(f, Custom):
        raise ValueError(f"give a strategy for custom field {f.name!r}")
    raise TypeError(f)


def fields_strategy(fields: tuple[Field, ...], custom: dict[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Random valid values for every field that is not a length or a count."""
    custom = custom or {}
    lengths = {f.length_of: f for f in fields if isinstance(f, UInt) and f.length_of}
    parts = {f.name: field_value(f, lengths, custom) for f in fields if not (isinstance(f, UInt) and f.length_of)}
    return st.fixed_dictionaries(parts)


def command_strategy(command: Command, custom: dict[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return fields_strategy(command.fields, custom)


def struct_strategy(s: Struct, custom: dict[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return fields_strategy(s.fields, custom)
