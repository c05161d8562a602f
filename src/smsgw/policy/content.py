"""Prohibited content: keyword lists with categories, matched with Aho-Corasick.

The store's ``keywords`` table holds words per list; a list name is a
category (``reject``, ``review``, or any other such as ``fraud``) and the
settings say what a match in each category does: reject, hold for review,
or nothing.  Scope 0 is the global list; other scopes are an enterprise's
own additions.

Words and texts are both ``fold``-ed (full-width/half-width, case, inserted
spaces and punctuation ignored) and searched with one ``pyahocorasick``
automaton per scope: the cost per message is one pass over the text,
whatever the number of keywords (tens of thousands are fine).  When several
words match, the strictest action wins (reject over review).

The automaton runs over the UTF-8 octets of the folded text (each octet as
one character, ``narrow``), not over its characters: pyahocorasick scans a
node's children one by one, and with Chinese keywords the root has
thousands of children — 27 µs per message with 30,000 keywords, against
about 1 µs over octets, where a node has at most a few dozen.  UTF-8 is
self-synchronising, so a word's octets only match at character boundaries.

Bulk sends repeat one text to many numbers, so the verdict of the global
automaton is kept for recently seen texts (a bounded cache dropped whole
when full, and with the index).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import ahocorasick  # type: ignore[import-not-found]
import attrs

from smsgw.policy.settings import ContentAction
from smsgw.policy.textfold import fold

_SEVERITY = {ContentAction.IGNORE: 0, ContentAction.REVIEW: 1, ContentAction.REJECT: 2}


@attrs.frozen
class Match:
    action: ContentAction
    category: str
    word: str  # as the list has it


def narrow(folded: str) -> str:
    """The UTF-8 octets of ``folded``, one character each (what the automaton reads)."""
    return folded.encode("utf-8").decode("latin-1")


class _Automaton:
    def __init__(self, entries: Iterable[tuple[str, str]], actions: Mapping[str, ContentAction],
                 default: ContentAction) -> None:
        self.size = 0
        automaton = ahocorasick.Automaton()
        best: dict[str, Match] = {}
        for category, word in entries:
            action = actions.get(category, default)
            key = narrow(fold(word))
            if not key or action is ContentAction.IGNORE:
                continue
            match = Match(action, category, word)
            current = best.get(key)
            if current is None or _SEVERITY[action] > _SEVERITY[current.action]:
                best[key] = match
        for key, match in best.items():
            automaton.add_word(key, match)
        self.size = len(best)
        if self.size:
            automaton.make_automaton()
        self._automaton = automaton

    def search(self, folded: str) -> Match | None:
        if not self.size:
            return None
        found: Match | None = None
        for _end, match in self._automaton.iter(narrow(folded)):
            if match.action is ContentAction.REJECT:
                return match  # type: ignore[no-any-return]  # nothing is stricter
            if found is None:
                found = match
        return found


class KeywordIndex:
    """The keyword lists in memory.  Build a new one to reload; it is immutable after."""

    def __init__(self, entries: Iterable[tuple[int, str, str]] = (), *,
                 actions: Mapping[str, ContentAction] | None = None,
                 default_action: ContentAction = ContentAction.REJECT, cache_size: int = 20_000) -> None:
        """``entries``: (scope_id, category, word); scope 0 is global."""
        actions = actions if actions is not None else {"reject": ContentAction.REJECT,
                                                       "review": ContentAction.REVIEW}
        by_scope: dict[int, list[tuple[str, str]]] = {}
        for scope, category, word in entries:
            by_scope.setdefault(scope, []).append((category, word))
        self._global = _Automaton(by_scope.pop(0, []), actions, default_action)
        self._scoped = {scope: _Automaton(words, actions, default_action) for scope, words in by_scope.items()}
        self._scoped = {scope: a for scope, a in self._scoped.items() if a.size}
        self._cache: dict[str, Match | None] = {}
        self._cache_size = cache_size

    @property
    def size(self) -> int:
        return self._global.size + sum(a.size for a in self._scoped.values())

    def search(self, text: str, enterprise_id: int) -> Match | None:
        """The strictest match of ``text`` in the global and the enterprise's lists."""
        cache = self._cache
        if text in cache:
            found = cache[text]
        else:
            if len(cache) >= self._cache_size:
                cache.clear()
            found = cache[text] = self._global.search(fold(text))
        own = self._scoped.get(enterprise_id)
        if own is None or (found is not None and found.action is ContentAction.REJECT):
            return found
        mine = own.search(fold(text))
        if mine is None:
            return found
        if found is None or _SEVERITY[mine.action] > _SEVERITY[found.action]:
            return mine
        return found
