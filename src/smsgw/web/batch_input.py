"""Numbers to send to, read from a pasted list or an uploaded CSV file.

A pasted list is numbers separated by line breaks, commas, semicolons or
spaces (ASCII or full-width punctuation).  A CSV file has the number in its
first column and, optionally, that number's own text in the second; a first
row without digits is a header.  Excel in China saves CSV as GBK, so a file
that is not UTF-8 is read as GBK.  Each row keeps its line number for the
per-row results.
"""

from __future__ import annotations

import csv
import io
import re

import attrs

MAX_ROWS = 10_000

_SEPARATORS = re.compile(r"[\s,;，；、]+")


@attrs.frozen
class Row:
    line: int
    number: str
    text: str | None = None


class BadInput(ValueError):
    pass


def from_pasted(text: str) -> list[Row]:
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        for token in _SEPARATORS.split(line.strip()):
            if token:
                rows.append(Row(line_no, token[:32]))
    return rows


def decode_file(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BadInput("the file is neither UTF-8 nor GBK text")


def from_csv(data: bytes) -> list[Row]:
    if b"\x00" in data[:4096]:
        raise BadInput("not a text file")
    text = decode_file(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    rows = []
    try:
        for line_no, cells in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            cells = [cell.strip() for cell in cells]
            if not cells or not cells[0]:
                continue
            if line_no == 1 and not any(ch.isdigit() for ch in cells[0]):
                continue  # a header
            own_text = cells[1] if len(cells) > 1 and cells[1] else None
            rows.append(Row(line_no, cells[0][:32], own_text))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as error:
        raise BadInput(str(error)) from None
    return rows
