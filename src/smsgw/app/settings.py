"""Typed settings from TOML tables: unknown keys, missing keys and wrong types are
errors that name the file and the key (``[smpp].port``, ``links[2].tps``).

``build(cls, table, source, where)`` fills an attrs class from a TOML table,
converting nested attrs classes, lists of them, tuples and mappings; values of
the form ``"${NAME}"`` are read from the environment (secrets need not be in
files), and an unset variable is an error naming it.
"""

from __future__ import annotations

import collections.abc
import os
import re
import types
import typing
from typing import Any, Mapping, TypeVar, Union

import attrs

T = TypeVar("T")
_ENV = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ConfigError(Exception):
    """A configuration file is wrong; says which file and which key."""

    def __init__(self, source: str, key: str, reason: str):
        self.source = source
        self.key = key
        self.reason = reason
        super().__init__(f"{source}: {key}: {reason}")


def _env(value: Any, source: str, key: str) -> Any:
    if isinstance(value, str):
        m = _ENV.match(value)
        if m:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(source, key, f"environment variable {name} is not set")
            return os.environ[name]
    return value


def build(cls: type[T], table: Mapping[str, Any], source: str, where: str) -> T:
    """An instance of the attrs class ``cls`` from ``table`` (see module docstring)."""
    if not isinstance(table, Mapping):
        raise ConfigError(source, where, f"expected a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in attrs.fields(cls) if f.init}
    known = {f.alias or f.name: f for f in fields.values()}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(source, f"{where}.{unknown[0]}" if where else unknown[0],
                          f"unknown key (known: {', '.join(sorted(known))})")
    kwargs = {}
    for key, value in table.items():
        f = known[key]
        path = f"{where}.{key}" if where else key
        kwargs[key] = _convert(hints[f.name], _env(value, source, path), source, path)
    missing = [k for k, f in known.items() if f.default is attrs.NOTHING and k not in kwargs]
    if missing:
        raise ConfigError(source, f"{where}.{missing[0]}" if where else missing[0], "required key is missing")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(source, where or "(top)", str(error)) from None


def _convert(hint: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _convert(option, value, source, key)
            except ConfigError as error:
                errors.append(error.reason)
        raise ConfigError(source, key, "; ".join(errors))
    if attrs.has(hint):
        return build(hint, value, source, key)
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise ConfigError(source, key, f"expected a list, got {type(value).__name__}")
        item = args[0] if args else Any
        items = [_convert(item, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, collections.abc.Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(source, key, f"expected a table, got {type(value).__name__}")
        kt, vt = (args or (Any, Any))
        return {(_convert(kt, k, source, key) if kt is not str else k): _convert(vt, v, source, f"{key}.{k}")
                for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(source, key, f"expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
            raise ConfigError(source, key, f"expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(source, key, f"expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(source, key, f"expected a string, got {value!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, str) and hasattr(hint, "__members__"):
        try:
            return hint(value)
        except ValueError:
            raise ConfigError(source, key, f"expected one of {', '.join(m.value for m in hint)}, got {value!r}") from None
    return value
