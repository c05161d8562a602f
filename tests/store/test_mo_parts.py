"""Long MO held until whole for accounts that reassemble it (``store.mo_parts``), on both backends."""

from __future__ import annotations

import attrs

from smsgw.domain.coding import Coding
from smsgw.domain.model import MoMessage, OutboxKind
from smsgw.domain.segments import split
from smsgw.store.accounts import UpdateAccount
from smsgw.store.mo_parts import ReleaseStaleParts
from smsgw.store.outbox import ClaimOutbox, RecordMo
from tests.store.harness import Harness

TEXT = "您好，这是一条用户回复的长短信，要分三段才能发完。" * 6  # 150 characters: three UCS2 parts
TIMEOUT_MS = 60_000


def parts(store: Harness, account_id: int, text: str = TEXT, reference: int = 7) -> list[MoMessage]:
    """The MO parts a carrier delivers for ``text`` (UDH and all), received now."""
    return [
        MoMessage(id=store.ids.next(), carrier="cmcc", source_addr="13800138000", dest_addr="10690000120",
                  content=seg.user_data, received_at=store.clock.now, data_coding=8, esm_class=0x40,
                  account_id=account_id)
        for seg in split(text, Coding.UCS2, reference)
    ]  # fmt: skip


def again(store: Harness, mo: MoMessage) -> MoMessage:
    """The same part sent again by the carrier: a new MO to us."""
    return attrs.evolve(mo, id=store.ids.next(), received_at=store.clock.now)


def record(store: Harness, *mos: MoMessage) -> None:
    for mo in mos:
        store.run(RecordMo(mo))


def test_parts_wait_across_a_restart_and_go_out_as_one_message(store: Harness) -> None:
    ent = store.enterprise(reassemble_mo=True)
    first, second, third = parts(store, ent.id)
    record(store, third, first)  # out of order
    store.clock.advance(2_000)
    assert store.outbox(ent.id) == []
    store.start_new_writer()  # the held parts are in the store, not in a process
    record(store, again(store, first))  # the carrier sends a part again: the first copy counts
    record(store, second)
    [item] = store.run(ClaimOutbox(ent.id, store.clock.now, 10))
    assert (item.kind, item.ref_id, item.esm_class, item.data_coding) == (OutboxKind.MO, first.id, 0, 8)
    assert item.content.decode("utf-16-be") == TEXT and item.parts == 3
    assert item.created_at == first.received_at  # the message's time is its first part's
    # the same part once more, after the message went out: not a new message
    store.clock.advance(1_000)
    record(store, again(store, second))
    assert len(store.outbox(ent.id)) == 1
    assert store.run(ReleaseStaleParts(store.clock.now + TIMEOUT_MS, TIMEOUT_MS)) == []  # nothing waits


def test_without_the_setting_parts_go_out_as_they_came(store: Harness) -> None:
    ent = store.enterprise()
    mos = parts(store, ent.id)
    record(store, *mos)
    items = store.run(ClaimOutbox(ent.id, store.clock.now, 10))
    assert [(i.ref_id, i.esm_class, i.content) for i in items] == [(m.id, 0x40, m.content) for m in mos]


def test_the_setting_changes_at_run_time_and_one_part_of_one_is_whole_at_once(store: Harness) -> None:
    ent = store.enterprise()
    store.run(UpdateAccount(ent.id, store.clock.now, "test", (("reassemble_mo", True),)))
    text = "a reply that came with a UDH".encode("utf-16-be")
    [one] = parts(store, ent.id)[:1]
    record(store, attrs.evolve(one, content=bytes.fromhex("050003090101") + text))
    [item] = store.run(ClaimOutbox(ent.id, store.clock.now, 10))
    assert (item.esm_class, item.content) == (0, text)
    store.run(UpdateAccount(ent.id, store.clock.now, "test", (("reassemble_mo", False),)))
    record(store, *parts(store, ent.id))
    assert len(store.run(ClaimOutbox(ent.id, store.clock.now, 10))) == 3


def test_an_incomplete_message_goes_out_as_parts_after_the_timeout(store: Harness) -> None:
    ent = store.enterprise(reassemble_mo=True)
    other = store.enterprise(reassemble_mo=True)
    first, _, third = parts(store, ent.id)
    start = store.clock.now
    record(store, third, first)
    store.clock.advance(30_000)
    late = parts(store, other.id, reference=8)[0]  # another message, still young
    record(store, late)
    assert store.run(ReleaseStaleParts(start + TIMEOUT_MS - 1, TIMEOUT_MS)) == []
    assert store.run(ReleaseStaleParts(start + TIMEOUT_MS, TIMEOUT_MS)) == [ent.id]
    items = store.run(ClaimOutbox(ent.id, start + TIMEOUT_MS, 10))
    assert [(i.ref_id, i.esm_class, i.content) for i in items] == [
        (first.id, 0x40, first.content), (third.id, 0x40, third.content)]  # by part number, UDH kept
    assert store.run(ClaimOutbox(other.id, start + TIMEOUT_MS, 10)) == []
    # a part of the released message arriving late is a stray part: it waits its own timeout
    store.clock.now = start + TIMEOUT_MS + 1_000
    record(store, again(store, first))  # a copy of a released part: dropped
    assert store.run(ReleaseStaleParts(start + 3 * TIMEOUT_MS, TIMEOUT_MS)) == [other.id]
    assert len(store.outbox(ent.id)) == 2
