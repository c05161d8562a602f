"""Regressions found while running our carrier side against the independent peers of
``shared/protocols/peers.md`` (gocmpp, go_sgip, go_smgp) on loopback.

Numeric credentials.  The peers' demo accounts are all digits (gocmpp: SP_Id 900001, secret 888888;
go_sgip: password 1234; SGIP CorpId 12345), and written unquoted in TOML they arrive as ints.
``LinkConfig`` took them: a CMPP link then raised an unhandled AttributeError at every login
attempt (``auth_cmpp.authenticator_source`` calls ``secret.encode``), an SGIP link refused every
segment for good (``local:encode`` ... ``corp_id``), and the SGIP listener would crash on the
SMG's Bind (``credentials_match`` encodes the configured secret).  They are now refused when the
configuration is loaded, naming the setting, without echoing a secret.
"""

from __future__ import annotations

from typing import Any

import pytest

from smsgw.net.links.config import LinkConfig, SgipListenerConfig

#: the account of gocmpp's examples/cmpp3-server, as a TOML table would give it when left unquoted
GOCMPP_LINK: dict[str, Any] = {
    "protocol": "cmpp30", "carrier": "cmcc", "host": "127.0.0.1", "port": 8888,
    "login": "900001", "secret": "888888", "sp_number": "1065900001",
}
#: the SP account go_sgip's mockserver expects (fakename/1234) with a CorpId
GO_SGIP_LINK: dict[str, Any] = {
    "protocol": "sgip12", "carrier": "cucc", "host": "127.0.0.1", "port": 8801,
    "login": "fakename", "secret": "1234", "sp_number": "10655912", "corp_id": "12345", "sgip_area_code": "010",
}
#: what go_sgip's cmd/receiver accepts from the SMG, here as our listener's credentials
GO_SGIP_LISTENER: dict[str, Any] = {"port": 8001, "login": "fakename", "secret": "1234"}


@pytest.mark.parametrize(("table", "key", "number"), [
    (GOCMPP_LINK, "secret", 888888),
    (GOCMPP_LINK, "login", 900001),
    (GOCMPP_LINK, "sp_number", 1065900001),
    (GO_SGIP_LINK, "corp_id", 12345),
    (GO_SGIP_LINK, "secret", 1234),
    (GO_SGIP_LINK, "fee_code", 0),
])
def test_link_refuses_an_unquoted_number_for_a_text_setting(table: dict[str, Any], key: str, number: int) -> None:
    LinkConfig.from_mapping("peer", table)  # the same table with the value quoted loads
    with pytest.raises(ValueError, match=rf"link peer: {key} must be text") as caught:
        LinkConfig.from_mapping("peer", {**table, key: number})
    if key == "secret":
        assert str(number) not in str(caught.value)


def test_optional_text_settings_still_take_none() -> None:
    config = LinkConfig.from_mapping("peer", {**GOCMPP_LINK, "sp_id": None, "fee_type": None})
    assert config.sp_id is None and config.fee_type_text == "01"


def test_sgip_listener_refuses_a_numeric_secret_without_echoing_it() -> None:
    SgipListenerConfig.from_mapping("smg-in", GO_SGIP_LISTENER)
    with pytest.raises(ValueError, match="SGIP listener smg-in: secret must be text") as caught:
        SgipListenerConfig.from_mapping("smg-in", {**GO_SGIP_LISTENER, "secret": 1234})
    assert "1234" not in str(caught.value)
