"""The vector census: every golden vector of shared/protocols/vectors.md ships, once, with its source."""

from __future__ import annotations

import re
from collections import Counter

from smsgw.protocols import PROTOCOL_IDS, vectors

DOCUMENTED = {"CMPP": 27, "SGIP": 13, "SMGP": 10, "SMPP": 12}  # 62 in vectors.md


def test_all_62_documented_vectors_ship_exactly_once() -> None:
    ids = Counter(v.id for v in vectors.load_all())
    documented = {i: n for i, n in ids.items() if re.fullmatch(r"(CMPP|SGIP|SMGP|SMPP)-\d\d", i)}
    assert all(n == 1 for n in documented.values()), {i: n for i, n in documented.items() if n > 1}
    for family, count in DOCUMENTED.items():
        expected = {f"{family}-{k:02d}" for k in range(1, count + 1)}
        assert expected <= set(documented), sorted(expected - set(documented))
    assert len(documented) == sum(DOCUMENTED.values()) == 62


def test_every_vector_names_its_source_and_kind() -> None:
    for v in vectors.load_all():
        assert v.source.strip(), v.id
        assert v.kind in ("pdu", "report", "bad"), v.id
        assert v.protocol in PROTOCOL_IDS, v.id
        if v.kind == "bad":
            assert v.error, v.id
        else:
            assert v.expect, v.id


def test_bad_vectors_exist_for_every_protocol_family() -> None:
    families = {v.protocol[:4] for v in vectors.load_all() if v.kind == "bad"}
    assert families == {"smpp", "cmpp", "sgip", "smgp"}
