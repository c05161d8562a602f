"""Reassembly of long messages from parts in any order, duplicated or incomplete."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgw.domain.coding import Coding, decode
from smsgw.domain.reassembly import Completed, Expired, Reassembler
from smsgw.domain.segments import split

KEY = ("13800138000", "106900011234")


def test_in_order() -> None:
    r = Reassembler(timeout=60)
    assert r.add(KEY, 7, 3, 1, b"a", now=0.0) is None
    assert r.add(KEY, 7, 3, 2, b"b", now=1.0) is None
    done = r.add(KEY, 7, 3, 3, b"c", now=2.0)
    assert done == Completed(KEY, 7, 3, (b"a", b"b", b"c"), first_seen=0.0)
    assert done.payload == b"abc"
    assert len(r) == 0
    assert r.expire(1000.0) == []


def test_any_order_and_duplicates_first_copy_wins() -> None:
    r = Reassembler(timeout=60)
    assert r.add(KEY, 7, 3, 3, b"c", now=0.0) is None
    assert r.add(KEY, 7, 3, 1, b"a", now=0.5) is None
    assert r.add(KEY, 7, 3, 3, b"X", now=1.0) is None  # duplicate number: ignored
    done = r.add(KEY, 7, 3, 2, b"b", now=2.0)
    assert done is not None and done.payloads == (b"a", b"b", b"c")


def test_single_part_completes_at_once() -> None:
    r = Reassembler(timeout=60, max_pending=1)
    assert r.add(KEY, 1, 2, 1, b"a", now=0.0) is None
    # "part 1 of 1" completes without taking (or evicting for) a pending place
    assert r.add(KEY, 0, 1, 1, b"short", now=5.0) == Completed(KEY, 0, 1, (b"short",), 5.0)
    assert len(r) == 1
    assert r.add(KEY, 0, 1, 1, b"short", now=6.0) is None  # resent: returned once only
    assert r.expire(59.0) == []


def test_messages_are_kept_apart_by_key_reference_and_total() -> None:
    r = Reassembler(timeout=60)
    other = ("13900139000", "106900011234")
    assert r.add(KEY, 1, 2, 1, b"k1", now=0) is None
    assert r.add(other, 1, 2, 1, b"o1", now=0) is None
    assert r.add(KEY, 2, 2, 1, b"r1", now=0) is None
    assert r.add(KEY, 1, 3, 1, b"t1", now=0) is None
    assert len(r) == 4
    done = r.add(other, 1, 2, 2, b"o2", now=1)
    assert done is not None and done.key == other and done.payload == b"o1o2"
    done = r.add(KEY, 1, 2, 2, b"k2", now=1)
    assert done is not None and done.payload == b"k1k2"
    assert len(r) == 2


def test_completed_message_is_returned_once() -> None:
    r = Reassembler(timeout=60)
    r.add(KEY, 9, 2, 1, b"a", now=0)
    assert r.add(KEY, 9, 2, 2, b"b", now=1) is not None
    # the carrier resends both parts (its responses were lost): nothing new, nothing pending
    assert r.add(KEY, 9, 2, 2, b"b", now=2) is None
    assert r.add(KEY, 9, 2, 1, b"a", now=3) is None
    assert len(r) == 0
    assert r.expire(100) == []


def test_reference_reused_with_new_content_is_a_new_message() -> None:
    r = Reassembler(timeout=60)
    r.add(KEY, 9, 2, 1, b"a", now=0)
    r.add(KEY, 9, 2, 2, b"b", now=1)
    assert r.add(KEY, 9, 2, 1, b"new1", now=2) is None
    done = r.add(KEY, 9, 2, 2, b"new2", now=3)
    assert done is not None and done.payload == b"new1new2"


def test_completion_is_forgotten_after_the_timeout() -> None:
    r = Reassembler(timeout=10)
    r.add(KEY, 9, 2, 1, b"a", now=0)
    r.add(KEY, 9, 2, 2, b"b", now=1)
    assert r.expire(11) == []  # 10 s after completion: forgotten
    # the same part again is now the start of a new message
    assert r.add(KEY, 9, 2, 1, b"a", now=12) is None
    assert len(r) == 1


def test_expiry_with_fake_clock() -> None:
    r = Reassembler(timeout=10)
    r.add(KEY, 5, 3, 2, b"two", now=100.0)
    r.add(KEY, 5, 3, 1, b"one", now=105.0)  # a later part does not extend the deadline
    r.add(KEY, 6, 2, 1, b"other", now=104.0)
    assert r.expire(109.9) == []
    assert len(r) == 2
    expired = r.expire(110.0)
    assert expired == [Expired(KEY, 5, 3, ((1, b"one"), (2, b"two")), 100.0, "timeout")]
    assert expired[0].missing == (3,)
    assert len(r) == 1
    # the late third part starts a new message rather than reviving the old one
    assert r.add(KEY, 5, 3, 3, b"three", now=111.0) is None
    assert [e.parts for e in r.expire(114.0)] == [((1, b"other"),)]
    assert [e.parts for e in r.expire(121.0)] == [((3, b"three"),)]
    assert len(r) == 0


def test_bounded_memory_evicts_oldest() -> None:
    r = Reassembler(timeout=60, max_pending=2)
    r.add(KEY, 1, 2, 1, b"a1", now=0)
    r.add(KEY, 2, 2, 1, b"b1", now=1)
    r.add(KEY, 2, 2, 2, b"b2", now=1)  # completes, frees a place
    r.add(KEY, 3, 2, 1, b"c1", now=2)
    assert len(r) == 2
    r.add(KEY, 4, 2, 2, b"d2", now=3)  # full: message 1 (the oldest) goes
    assert len(r) == 2
    r.add(KEY, 3, 2, 2, b"c2", now=4)  # completes, so no eviction needed for the next
    r.add(KEY, 5, 2, 1, b"e1", now=5)
    assert len(r) == 2
    evicted = r.expire(6)
    assert evicted == [Expired(KEY, 1, 2, ((1, b"a1"),), 0, "evicted")]
    assert evicted[0].missing == (2,)
    assert r.expire(6) == []
    # many distinct messages never hold more than max_pending
    for ref in range(100, 200):
        r.add(KEY, ref, 3, 1, b"x", now=10)
        assert len(r) <= 2
    assert len(r.expire(10)) == 100  # d, e and refs 100-197 were evicted


def test_invalid_parts() -> None:
    r = Reassembler(timeout=60)
    with pytest.raises(ValueError, match="part number must be 1-2, got 3"):
        r.add(KEY, 1, 2, 3, b"x", now=0)
    with pytest.raises(ValueError):
        r.add(KEY, 1, 2, 0, b"x", now=0)
    with pytest.raises(ValueError, match="total"):
        r.add(KEY, 1, 0, 1, b"x", now=0)
    with pytest.raises(ValueError):
        r.add(KEY, 1, 256, 1, b"x", now=0)
    with pytest.raises(ValueError):
        Reassembler(timeout=0)
    with pytest.raises(ValueError):
        Reassembler(timeout=1, max_pending=0)


@given(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=600),
    st.integers(0, 255),
    st.data(),
)
def test_shuffled_and_duplicated_parts_give_the_text_back(text: str, reference: int, data: st.DataObject) -> None:
    parts = split(text, Coding.UCS2, reference)
    arrivals = [(p.number, p.payload) for p in parts]
    arrivals += data.draw(st.lists(st.sampled_from(arrivals), max_size=10))  # resent copies
    arrivals = data.draw(st.permutations(arrivals))
    r = Reassembler(timeout=60)
    completed = []
    for i, (number, payload) in enumerate(arrivals):
        done = r.add(KEY, reference, len(parts), number, payload, now=float(i))
        if done is not None:
            completed.append(done)
    assert len(completed) == 1
    assert decode(completed[0].payload, Coding.UCS2) == text
    assert len(r) == 0
    assert r.expire(1e9) == []


@given(st.lists(st.binary(min_size=1, max_size=20), min_size=2, max_size=6), st.data())
def test_interleaved_messages_with_a_missing_part(chunks: list[bytes], data: st.DataObject) -> None:
    total = len(chunks)
    missing = data.draw(st.integers(1, total))
    arrivals = [("full", n, c) for n, c in enumerate(chunks, start=1)]
    arrivals += [("holed", n, c) for n, c in enumerate(chunks, start=1) if n != missing]
    arrivals = data.draw(st.permutations(arrivals))
    r = Reassembler(timeout=30)
    done = [d for key, n, c in arrivals if (d := r.add(key, 1, total, n, c, now=0.0)) is not None]
    assert [(d.key, d.payload) for d in done] == [("full", b"".join(chunks))]
    (expired,) = r.expire(30.0)
    assert expired.key == "holed" and expired.missing == (missing,) and expired.reason == "timeout"
    assert [n for n, _ in expired.parts] == [n for n in range(1, total + 1) if n != missing]
