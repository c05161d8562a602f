"""Unsubscribe replies: a user who answers TD (退订, T, N, R, 取消 …) is put on the
blacklist of the enterprise that texted them.

The whole reply must be one of the words once both are ``fold``-ed (case,
full-width/half-width, spaces and punctuation ignored: "ｔｄ", "T D", "退订。"
all count).  Single letters such as T, N and R are common replies to other
questions only as part of longer text, which is why a word inside a longer
reply does not count.  The words come from the settings and from the store's
``unsubscribe`` keyword list (global or an enterprise's own).
"""

from __future__ import annotations

from typing import Iterable

from smsgw.policy.textfold import fold


class UnsubscribeWords:
    def __init__(self, words: Iterable[str], scoped: Iterable[tuple[int, str]] = ()) -> None:
        """``words``: for every enterprise; ``scoped``: (enterprise_id or 0, word) from the store."""
        self._global = {fold(w) for w in words} - {""}
        self._scoped: dict[int, set[str]] = {}
        for scope, word in scoped:
            key = fold(word)
            if not key:
                continue
            if scope == 0:
                self._global.add(key)
            else:
                self._scoped.setdefault(scope, set()).add(key)

    def matches(self, reply: str, enterprise_id: int | None) -> bool:
        key = fold(reply)
        if not key:
            return False
        if key in self._global:
            return True
        return enterprise_id is not None and key in self._scoped.get(enterprise_id, ())
