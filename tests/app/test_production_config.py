"""config/production.example.toml: it loads, and it is what a production configuration must be."""

from __future__ import annotations

from pathlib import Path

import pytest

from smsgw.app.config import load, parse
from smsgw.app.settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "production.example.toml"
SECRETS = {
    "SMSGW_DATABASE_URL": "postgresql://smsgw@db.internal/smsgw",
    "SMSGW_CMCC_SECRET": "cmcc-secret",
    "SMSGW_CUCC_SECRET": "cucc-secret",
    "SMSGW_CUCC_CALLBACK_SECRET": "cucc-callback",
    "SMSGW_CTCC_SECRET": "ctcc-secret",
}


def test_the_production_example_loads_with_its_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    cfg = load(EXAMPLE)
    assert not cfg.gateway.demo and not cfg.simulators.enabled and not cfg.store.auto_upgrade
    assert cfg.store_url() == SECRETS["SMSGW_DATABASE_URL"]
    assert cfg.smpp.tls_cert.endswith(".crt") and cfg.smpp.tls_key.endswith(".key")
    assert cfg.manhole.interface == "127.0.0.1" and "admin" not in cfg.manhole.users
    assert cfg.manhole.users and all(h.startswith("$argon2id$") for h in cfg.manhole.users.values())
    assert "{password}" in cfg.manhole.notice_template
    assert {link.protocol for link in cfg.links} == {"cmpp30", "sgip12", "smgp30"}
    assert all(link.port and link.secret in SECRETS.values() for link in cfg.links)
    assert {listener.secret for listener in cfg.sgip_listeners} == {"cucc-callback"}


def test_the_production_example_names_each_missing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SMSGW_DATABASE_URL is not set"):
        load(EXAMPLE)


def test_manhole_users_must_be_hashes() -> None:
    text = (ROOT / "config" / "smsgw.toml").read_text(encoding="utf-8")
    text = text.replace('[manhole]\n', '[manhole]\nusers = { ops = "hunter2" }\n')
    with pytest.raises(ConfigError, match="argon2 hash"):
        parse(text, str(ROOT / "config" / "smsgw.toml"))
