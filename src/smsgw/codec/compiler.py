"""Compile field tables into straight-line Python decoders and encoders.

Each command's field tuple becomes one generated function (as namedtuple and
attrs do for classes): runs of fixed integers become one precompiled
``struct`` call, strings are sliced in place, and nothing is looked up by
name at run time.  Generated decoders raise ``_Bad(field, reason, status)`` and
nothing else; the ``Codec`` wraps that into ``DecodeError`` with the context.
"""

from __future__ import annotations

import struct
from typing import Any, Callable

from smsgw.codec.errors import FieldError
from smsgw.codec.fields import Array, CString, Custom, Field, Octets, Struct, Text, Tlvs, TlvSpec, UInt

_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}

#: ``decode(buf, pos, end) -> (fields, pos)``
FieldsDecoder = Callable[[bytes, int, int], "tuple[dict[str, Any], int]"]
#: ``encode(fields) -> bytes``
FieldsEncoder = Callable[[Any], bytes]


class _Bad(Exception):
    """Internal decode/encode failure with the field it happened in."""

    def __init__(self, field: str | None, reason: str, status: int | None = None):
        self.field = field
        self.reason = reason
        self.status = status
        super().__init__(reason)


def _short(field: str, status: int | None) -> _Bad:
    return _Bad(field, "body ends inside this field", status)


def _int_culprit(spec: tuple[tuple[str, int], ...], values: tuple[Any, ...]) -> tuple[str, str]:
    """Which of a packed run of integers did not fit, and why."""
    for (name, size), value in zip(spec, values):
        if not isinstance(value, int) or isinstance(value, bool) and size != 1:
            return name, f"expected an integer, got {type(value).__name__}"
        if not 0 <= value < 256 ** size:
            return name, f"{value} does not fit in {size} unsigned byte(s)"
    return spec[0][0], "cannot pack"


def _asbytes(v: Any) -> bytes:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError(f"expected bytes or str, got {type(v).__name__}")


class _Gen:
    """Accumulates generated source lines and the namespace they refer to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {"_Bad": _Bad, "_short": _short, "FieldError": FieldError, "_asbytes": _asbytes}
        self._n = 0

    def const(self, value: Any, prefix: str = "k") -> str:
        self._n += 1
        name = f"_{prefix}{self._n}"
        self.ns[name] = value
        return name

    def var(self) -> str:
        self._n += 1
        return f"v{self._n}"

    base = 0

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * (indent + self.base) + line)


def _groups(fields: tuple[Field, ...]) -> list[list[Field]]:
    """Split fields into runs of consecutive UInts (one struct call each) and singles."""
    out: list[list[Field]] = []
    for f in fields:
        if isinstance(f, UInt) and out and isinstance(out[-1][0], UInt):
            out[-1].append(f)
        else:
            out.append([f])
    return out


# --------------------------------------------------------------------------- decode

def compile_decoder(fields: tuple[Field, ...], name: str, optional_from: str | None = None) -> FieldsDecoder:
    """Build ``decode(buf, pos, end) -> (dict, pos)`` for a field sequence."""
    g = _Gen()
    g.emit(0, f"def decode_{name}(buf, pos, end):")
    g.emit(1, "field = None")
    g.emit(1, "try:")
    g.base = 1
    g.emit(1, "pass")
    locals_of: dict[str, str] = {}  # field name -> local variable
    out_names: list[tuple[str, str]] = []
    optional = False
    for group in _groups(fields):
        first = group[0]
        if optional_from is not None and any(f.name == optional_from for f in group):
            optional = True
        if optional:
            # the body may stop here: everything from this field on takes its default
            rest = [f for f in fields if fields.index(f) >= fields.index(first)]
            defaults = {f.name: _default(f) for f in rest if not (isinstance(f, UInt) and f.length_of)}
            g.emit(1, "if pos >= end:")
            dname = g.const(defaults, "defaults")
            pairs = ", ".join(f"{n!r}: {v}" for n, v in out_names)
            g.emit(2, f"d = {{{pairs}}}")
            g.emit(2, f"d.update({dname})")
            g.emit(2, "return d, pos")
        _decode_group(g, group, locals_of, out_names)
    pairs = ", ".join(f"{n!r}: {v}" for n, v in out_names)
    g.emit(1, f"return {{{pairs}}}, pos")
    g.base = 0
    g.emit(1, "except (_Bad, FieldError):")
    g.emit(2, "raise")
    g.emit(1, "except Exception as x:")
    g.emit(2, "raise _Bad(field, type(x).__name__ + ': ' + str(x))")
    return _build(g, f"decode_{name}")


def _default(f: Field) -> Any:
    if isinstance(f, (UInt, CString, Text, Custom)):
        return f.default
    if isinstance(f, Octets):
        if f.default is not None:
            return f.default
        return bytes(f.size) if f.size is not None else b""
    if isinstance(f, Array):
        return []
    if isinstance(f, Tlvs):
        return {}
    raise TypeError(f)


def _decode_group(g: _Gen, group: list[Field], locals_of: dict[str, str], out: list[tuple[str, str]]) -> None:
    f = group[0]
    g.emit(1, f"field = {f.name!r}")
    status = getattr(f, "status", None)
    st = repr(None if status is None else int(status))
    if isinstance(f, UInt):
        ints = [u for u in group if isinstance(u, UInt)]
        fmt = ">" + "".join(_FMT[u.size] for u in ints)
        s = struct.Struct(fmt)
        sname = g.const(s.unpack_from, "S")
        names = []
        for u in ints:
            v = g.var()
            names.append(v)
            locals_of[u.name] = v
            if not u.length_of:
                out.append((u.name, v))
        g.emit(1, f"if pos + {s.size} > end: raise _short({f.name!r}, {st})")
        g.emit(1, f"{', '.join(names)}, = {sname}(buf, pos)")
        g.emit(1, f"pos += {s.size}")
        return
    v = g.var()
    locals_of[f.name] = v
    out.append((f.name, v))
    if isinstance(f, CString):
        g.emit(1, f"e = buf.find(0, pos, min(pos + {f.max_size}, end))")
        g.emit(1, f"if e < 0: raise _Bad({f.name!r}, 'no NUL within {f.max_size} bytes', {st})")
        if f.exact_sizes:
            sizes = g.const(frozenset(f.exact_sizes) | {1})
            g.emit(1, f"if e + 1 - pos not in {sizes}: raise _Bad({f.name!r}, 'length must be one of {sorted(set(f.exact_sizes) | {1})} with NUL', {st})")
        g.emit(1, f"{v} = buf[pos:e].decode({f.encoding!r})")
        g.emit(1, "pos = e + 1")
    elif isinstance(f, Text):
        g.emit(1, f"if pos + {f.size} > end: raise _short({f.name!r}, {st})")
        g.emit(1, f"{v} = buf[pos:pos + {f.size}].split(b'\\0', 1)[0].decode({f.encoding!r})")
        g.emit(1, f"pos += {f.size}")
    elif isinstance(f, Octets):
        if f.size is not None:
            g.emit(1, f"if pos + {f.size} > end: raise _short({f.name!r}, {st})")
            g.emit(1, f"{v} = buf[pos:pos + {f.size}]")
            g.emit(1, f"pos += {f.size}")
        else:
            n = locals_of[f.length_field]  # type: ignore[index]
            g.emit(1, f"if pos + {n} > end: raise _Bad({f.name!r}, 'length ' + str({n}) + ' overruns the body', {st})")
            g.emit(1, f"{v} = buf[pos:pos + {n}]")
            g.emit(1, f"pos += {n}")
    elif isinstance(f, Array):
        n = locals_of[f.count_field]
        item = f.item
        if isinstance(item, Text):
            g.emit(1, f"if pos + {n} * {item.size} > end: raise _Bad({f.name!r}, str({n}) + ' items overrun the body', {st})")
            g.emit(1, f"{v} = [buf[p:p + {item.size}].split(b'\\0', 1)[0].decode({item.encoding!r}) for p in range(pos, pos + {n} * {item.size}, {item.size})]")
            g.emit(1, f"pos += {n} * {item.size}")
        else:
            sub = g.const(compile_decoder(item.fields, f"{f.name}_item"), "D")
            g.emit(1, f"{v} = []")
            g.emit(1, f"for _ in range({n}):")
            g.emit(2, f"d, pos = {sub}(buf, pos, end)")
            g.emit(2, f"{v}.append(d)")
    elif isinstance(f, Custom):
        fn = g.const(f.decode, "C")
        g.emit(1, "try:")
        g.emit(2, f"{v}, pos = {fn}(buf, pos, end)")
        g.emit(1, "except FieldError as x:")
        g.emit(2, f"raise _Bad({f.name!r}, x.reason, x.status if x.status is not None else {st})")
    elif isinstance(f, Tlvs):
        fn = g.const(_tlv_decoder(f), "T")
        g.emit(1, f"{v} = {fn}(buf, pos, end)")
        g.emit(1, "pos = end")
    else:  # pragma: no cover - table error
        raise TypeError(f"unknown field kind {f!r}")


def _tlv_decoder(f: Tlvs) -> Callable[[bytes, int, int], dict[Any, Any]]:
    by_tag = {t.tag: t for t in f.table}
    head = struct.Struct(">HH").unpack_from
    name, status, len_status = f.name, f.status, f.length_status

    def decode_tlvs(buf: bytes, pos: int, end: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while pos < end:
            if pos + 4 > end:
                raise _Bad(name, f"TLV header truncated at offset {pos}", status)
            tag, length = head(buf, pos)
            pos += 4
            if pos + length > end:
                raise _Bad(name, f"TLV 0x{tag:04x} length {length} overruns the body", status)
            raw = buf[pos:pos + length]
            pos += length
            spec = by_tag.get(tag)
            if spec is None:
                out[tag] = raw
            else:
                out[spec.name] = _tlv_value(spec, raw, name, len_status)
        return out

    return decode_tlvs


def _tlv_value(spec: TlvSpec, raw: bytes, name: str, len_status: int | None) -> Any:
    if spec.kind == "uint":
        if len(raw) != spec.size and not (spec.lenient and 0 < len(raw) <= 8):
            raise _Bad(name, f"TLV {spec.name} has length {len(raw)}, expected {spec.size}", len_status)
        return int.from_bytes(raw, "big")
    if spec.kind == "cstring":
        if spec.size is not None and len(raw) > spec.size:
            raise _Bad(name, f"TLV {spec.name} longer than {spec.size}", len_status)
        if raw.endswith(b"\0"):
            raw = raw[:-1]
        return raw.decode("latin-1")
    if spec.kind == "text":
        return raw.split(b"\0", 1)[0].decode("latin-1")
    return raw


# --------------------------------------------------------------------------- encode

def compile_encoder(fields: tuple[Field, ...], name: str) -> FieldsEncoder:
    """Build ``encode(fields_dict) -> bytes``; missing fields take their defaults."""
    g = _Gen()
    g.emit(0, f"def encode_{name}(f):")
    g.emit(1, "out = []")
    g.emit(1, "put = out.append")
    g.emit(1, "field = None")
    g.emit(1, "try:")
    g.base = 1
    g.emit(1, "pass")
    lengths = {f.length_of: f for f in fields if isinstance(f, UInt) and f.length_of}
    for group in _groups(fields):
        g.emit(1, f"field = {group[0].name!r}")
        _encode_group(g, group, lengths)
    g.base = 0
    g.emit(1, "except (_Bad, FieldError):")
    g.emit(2, "raise")
    g.emit(1, "except Exception as x:")
    g.emit(2, "raise _Bad(field, 'bad value: ' + type(x).__name__ + ': ' + str(x))")
    g.emit(1, "return b''.join(out)")
    return _build(g, f"encode_{name}")


def _encode_group(g: _Gen, group: list[Field], lengths: dict[str, UInt]) -> None:
    f = group[0]
    if isinstance(f, UInt):
        ints = [u for u in group if isinstance(u, UInt)]
        fmt = ">" + "".join(_FMT[u.size] for u in ints)
        pack = g.const(struct.Struct(fmt).pack, "P")
        exprs = []
        for u in ints:
            if u.length_of:
                exprs.append(f"len(f.get({u.length_of!r}) or ())")
                limit = 256 ** u.size - 1
                g.emit(1, f"if len(f.get({u.length_of!r}) or ()) > {limit}: "
                          f"raise _Bad({u.length_of!r}, 'more than {limit} bytes or items')")
            else:
                exprs.append(f"f.get({u.name!r}, {int(u.default)!r})")
        checker = g.const(_int_culprit, "I")
        spec = g.const(tuple((u.name, u.size) for u in ints))
        g.emit(1, f"vals = ({', '.join(exprs)},)")
        g.emit(1, "try:")
        g.emit(2, f"put({pack}(*vals))")
        g.emit(1, "except Exception:")
        g.emit(2, f"raise _Bad(*{checker}({spec}, vals))")
        return
    v = g.var()
    if isinstance(f, CString):
        g.emit(1, f"{v} = f.get({f.name!r}, {f.default!r})")
        g.emit(1, f"b = {v}.encode({f.encoding!r}) if isinstance({v}, str) else _asbytes({v})")
        g.emit(1, f"if len(b) >= {f.max_size} or 0 in b: raise _Bad({f.name!r}, 'longer than {f.max_size - 1} bytes or contains NUL')")
        if f.exact_sizes:
            sizes = g.const(frozenset(s - 1 for s in f.exact_sizes) | {0})
            g.emit(1, f"if len(b) not in {sizes}: raise _Bad({f.name!r}, 'must be empty or {[s - 1 for s in f.exact_sizes]} characters')")
        g.emit(1, "put(b)")
        g.emit(1, "put(b'\\0')")
    elif isinstance(f, Text):
        g.emit(1, f"{v} = f.get({f.name!r}, {f.default!r})")
        g.emit(1, f"b = {v}.encode({f.encoding!r}) if isinstance({v}, str) else _asbytes({v})")
        g.emit(1, f"if len(b) > {f.size}: raise _Bad({f.name!r}, 'longer than {f.size} bytes')")
        g.emit(1, f"put(b.ljust({f.size}, b'\\0'))")
    elif isinstance(f, Octets):
        if f.size is not None:
            g.emit(1, f"{v} = f.get({f.name!r})")
            g.emit(1, f"if {v} is None: {v} = {_default(f)!r}")
            g.emit(1, f"if len({v}) != {f.size}: raise _Bad({f.name!r}, 'must be exactly {f.size} bytes')")
            g.emit(1, f"put(_asbytes({v}))")
        else:
            limit = 256 ** lengths[f.name].size - 1 if f.name in lengths else None
            g.emit(1, f"{v} = f.get({f.name!r}) or b''")
            if limit is not None:
                g.emit(1, f"if len({v}) > {limit}: raise _Bad({f.name!r}, 'longer than {limit} bytes')")
            g.emit(1, f"put(_asbytes({v}))")
    elif isinstance(f, Array):
        item = f.item
        count = next((u for u in lengths.values() if u.length_of == f.name), None)
        limit = 256 ** count.size - 1 if count else None
        g.emit(1, f"{v} = f.get({f.name!r}) or ()")
        if limit is not None:
            g.emit(1, f"if len({v}) > {limit}: raise _Bad({f.name!r}, 'more than {limit} items')")
        if isinstance(item, Text):
            g.emit(1, "for s in " + v + ":")
            g.emit(2, f"b = s.encode({item.encoding!r}) if isinstance(s, str) else _asbytes(s)")
            g.emit(2, f"if len(b) > {item.size}: raise _Bad({f.name!r}, 'item longer than {item.size} bytes')")
            g.emit(2, f"put(b.ljust({item.size}, b'\\0'))")
        else:
            sub = g.const(compile_encoder(item.fields, f"{f.name}_item"), "E")
            g.emit(1, "for d in " + v + ":")
            g.emit(2, f"put({sub}(d))")
    elif isinstance(f, Custom):
        fn = g.const(f.encode, "C")
        g.emit(1, "try:")
        g.emit(2, f"put({fn}(f.get({f.name!r}, {g.const(f.default)})))")
        g.emit(1, "except FieldError as x:")
        g.emit(2, f"raise _Bad({f.name!r}, x.reason)")
    elif isinstance(f, Tlvs):
        fn = g.const(_tlv_encoder(f), "T")
        g.emit(1, f"{v} = f.get({f.name!r})")
        g.emit(1, f"if {v}: put({fn}({v}))")
    else:  # pragma: no cover - table error
        raise TypeError(f"unknown field kind {f!r}")


def _tlv_encoder(f: Tlvs) -> Callable[[Any], bytes]:
    by_name = {t.name: t for t in f.table}
    head = struct.Struct(">HH").pack
    name = f.name

    def encode_tlvs(values: Any) -> bytes:
        out = []
        for key, value in values.items():
            if isinstance(key, int):
                raw = bytes(value)
                tag = key
            else:
                spec = by_name.get(key)
                if spec is None:
                    raise _Bad(name, f"unknown TLV {key!r}")
                tag = spec.tag
                raw = _tlv_raw(spec, value, name)
            if len(raw) > 0xFFFF:
                raise _Bad(name, f"TLV {key!r} longer than 65535 bytes")
            out.append(head(tag, len(raw)))
            out.append(raw)
        return b"".join(out)

    return encode_tlvs


def _tlv_raw(spec: TlvSpec, value: Any, name: str) -> bytes:
    try:
        if spec.kind == "uint":
            return int(value).to_bytes(spec.size or 1, "big")
        if spec.kind == "cstring":
            raw = value.encode("latin-1") + b"\0"
            if spec.size is not None and len(raw) > spec.size:
                raise _Bad(name, f"TLV {spec.name} longer than {spec.size - 1} characters")
            return raw
        if spec.kind == "text":
            raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
            if spec.size is not None:
                if len(raw) > spec.size:
                    raise _Bad(name, f"TLV {spec.name} longer than {spec.size} bytes")
                raw = raw.ljust(spec.size, b"\0")
            return raw
        return bytes(value)
    except (OverflowError, ValueError, TypeError, AttributeError, UnicodeError) as x:
        raise _Bad(name, f"TLV {spec.name}: {x}") from None


# --------------------------------------------------------------------------- build

def _build(g: _Gen, fname: str) -> Any:
    src = "\n".join(g.lines)
    code = compile(src, f"<smsgw.codec {fname}>", "exec")
    exec(code, g.ns)  # noqa: S102 - source generated above from the field tables
    fn = g.ns[fname]
    fn.__source__ = src
    return fn


def compile_struct(s: Struct) -> tuple[FieldsDecoder, FieldsEncoder]:
    """Decoder and encoder for a ``Struct`` used on its own (e.g. a report inside content)."""
    return compile_decoder(s.fields, s.name), compile_encoder(s.fields, s.name)
