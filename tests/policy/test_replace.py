"""replace_sm does not dodge the rules that read text: new text is signed as a submission would
be, and a prohibited word, a doubtful one, or a signature not verified refuses the replacement
with ESME_RREPLACEFAIL and leaves the message as it was."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import sqlalchemy as sa

from smsgw.protocols.smpp34.status import CommandStatus
from smsgw.store import schema
from tests.policy.rig import Client, make_policy_rig, raw
from tests.policy.test_policy_smpp import in_thread, mid


def _payloads(conn: Any, message_id: int) -> list[bytes]:
    s = schema.segments
    return [row.payload for row in conn.execute(sa.select(s.c.payload).where(s.c.message_id == message_id)
                                                .order_by(s.c.seq))]


def _replaced_texts(conn: Any, message_id: int) -> int:
    t = schema.audit_log
    query = sa.select(sa.func.count()).where(t.c.action == "message.replace", t.c.target == str(message_id))
    return int(conn.execute(query).scalar_one())


@pytest_twisted.inlineCallbacks
def test_replacement_text_faces_signature_and_content_rules(tmp_path: Any) -> None:
    rig = yield make_policy_rig(tmp_path)
    yield rig.policies.set_keyword("reject", "代开发票", "admin")
    yield rig.policies.set_keyword("review", "贷款", "admin")
    client = Client(rig.port)
    try:
        yield in_thread(client.bind)
        resp = yield in_thread(client.submit, "13800000400", "会议改到三点")
        message_id = mid(resp)
        before = yield rig.store.get_message(message_id)
        stored = yield rig.store.read(_payloads, message_id)
        assert before.text == "【测试】会议改到三点"

        def replace(*texts: str) -> Any:
            """One transmitter bind, a replace_sm per text: their answers."""
            requests = [("replace_sm", {"message_id": resp.message_id.decode(), "source_addr": "",
                                        "short_message": text.encode("utf-16-be")}) for text in texts]
            return raw(rig.port, *requests)

        refused = yield in_thread(replace, "代开发票，请联系", "【别家】会议改到四点", "低息贷款")
        assert [(a.command, a.status) for a in refused] == [("replace_sm_resp", CommandStatus.ESME_RREPLACEFAIL)] * 3
        untouched = yield rig.store.get_message(message_id)
        assert untouched.text == before.text and (yield rig.store.read(_payloads, message_id)) == stored

        first, second = yield in_thread(replace, "会议改到四点", "【测试】会议取消")
        assert first.status == CommandStatus.ESME_ROK  # signed like a submission
        assert second.status == CommandStatus.ESME_ROK  # with its own verified signature
        replaced = yield rig.store.get_message(message_id)
        assert replaced.text == "【测试】会议取消"
        assert (yield rig.store.read(_payloads, message_id)) == ["【测试】会议取消".encode("utf-16-be")]
        history = yield rig.store.read(_replaced_texts, message_id)
        assert history == 2  # two replacements were made, each audited
    finally:
        yield in_thread(client.close)
        yield rig.close()
