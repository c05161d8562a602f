"""Text folded for matching: what keyword and unsubscribe checks compare.

Senders dodge keyword lists with full-width letters (ＡＢＣ), case, and
spaces or punctuation put between characters (法 轮-功).  ``fold`` removes
all of that: everything that is not a letter or digit goes, the rest is
case-folded and brought to Unicode NFKC (full-width and half-width forms,
circled digits and other compatibility characters become their plain form).
Keywords are folded the same way when a list is loaded.

The fast path matters (it runs on every message): strip and case-fold first,
and pay for NFKC only when the stripped text is not already in that form.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    folded = _NOT_ALNUM.sub("", text).casefold()
    if not unicodedata.is_normalized("NFKC", folded):
        folded = _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", folded).casefold())
    return folded
