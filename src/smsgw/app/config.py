"""The gateway's configuration: TOML files under ``config/`` into typed objects.

``load(path)`` reads the gateway file (``config/smsgw.toml`` is the embedded
default) and the numbering plan it names; every error names the file and the
key.  Command-line options (``--data-dir``, ``--smpp-port``, ...) override the
file through ``with_overrides``.  Secrets may be written ``"${ENV_NAME}"``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

import attrs

from smsgw.app.settings import ConfigError, build
from smsgw.domain.coding import Coding
from smsgw.net.links.config import LinkConfig, SgipListenerConfig
from smsgw.policy.settings import PolicySettings
from smsgw.routing.numbering import NumberingPlan, NumberingPlanError, load_plan
from smsgw.routing.router import RoutingConfigError, RoutingTable

#: the repository's config folder (used when no --config is given and it exists)
DEFAULT_CONFIG = Path("config") / "smsgw.toml"


@attrs.frozen
class GatewaySection:
    data_dir: str = "data"
    node_id: int = 1
    #: demo mode: create the demo account (demo/demo) and manhole user admin/admin; never in production
    demo: bool = False


@attrs.frozen
class StoreSection:
    #: empty: the embedded SQLite file <data_dir>/smsgw.db; or postgresql://user@host/db
    url: str = ""
    #: create or upgrade the schema at start (embedded default); production runs `smsgw db upgrade`
    auto_upgrade: bool = False


def _cert_and_key(section: str, cert: str, key: str) -> None:
    if bool(cert) != bool(key):
        raise ValueError(f"[{section}] TLS needs both tls_cert and tls_key (PEM files), or neither")


@attrs.frozen
class SmppSection:
    interface: str = "127.0.0.1"
    port: int = 2775
    window: int = 64
    enquire_link_interval: float = 30.0
    response_timeout: float = 30.0
    bind_timeout: float = 60.0
    #: what data_coding 0 means for clients: gsm7, ascii or latin1
    dc0: str = "gsm7"
    system_id: str = "smsgw"
    #: TLS: paths of a PEM certificate and key; both empty means plain TCP
    tls_cert: str = ""
    tls_key: str = attrs.field(default="", validator=lambda s, a, v: _cert_and_key("smpp", s.tls_cert, v))


@attrs.frozen
class WebSection:
    enabled: bool = True
    interface: str = "127.0.0.1"
    port: int = 8080
    #: TLS (HTTPS): paths of a PEM certificate and key; both empty means plain HTTP (loopback/behind a proxy)
    tls_cert: str = ""
    tls_key: str = attrs.field(default="", validator=lambda s, a, v: _cert_and_key("web", s.tls_cert, v))
    #: mark session cookies Secure; on by itself with TLS, set it when a TLS proxy fronts plain HTTP
    secure_cookies: bool = False


@attrs.frozen
class ManholeSection:
    enabled: bool = True
    interface: str = "127.0.0.1"
    port: int = 2323
    #: user name → argon2 hash (``smsgw hash-password``); demo mode adds admin/admin
    users: Mapping[str, str] = attrs.field(factory=dict)
    #: the SMS a reset password is sent in ({password} is replaced); empty: the built-in Chinese text
    notice_template: str = attrs.field(default="")
    #: the same manhole over SSH as well (same interface and users)
    ssh: bool = False
    ssh_port: int = 2222
    #: the SSH host key (OpenSSH format); empty: <data_dir>/manhole_host_key, made on first start
    ssh_host_key: str = ""

    @users.validator
    def _hashes_only(self, _attribute: Any, users: Mapping[str, str]) -> None:
        for user, value in users.items():
            if not str(value).startswith("$argon2"):
                raise ValueError(f"manhole user {user!r}: give an argon2 hash (smsgw hash-password), not a password")

    @notice_template.validator
    def _has_password(self, _attribute: Any, template: str) -> None:
        if template and "{password}" not in template:
            raise ValueError("notice_template must contain {password}")


@attrs.frozen
class MetricsSection:
    """The Prometheus endpoint: http://interface:port/metrics."""

    enabled: bool = True
    interface: str = "127.0.0.1"
    port: int = 9108


@attrs.frozen
class SimulatorsSection:
    #: run the built-in carrier simulators in this process (demo); links with port 0 connect to them
    enabled: bool = False
    receipt_delay: float = 1.0
    tps: int = 1000
    #: share of reports that say delivered (the rest undelivered)
    delivered_share: float = 0.95
    seed: int | None = None
    #: fault injection: drop a carrier connection after every N submits (None: never)
    drop_every: int | None = None


@attrs.frozen
class NumberingSection:
    #: the numbering plan, relative to the gateway file's folder
    file: str = "numbering.toml"


@attrs.frozen
class RoutingSection:
    #: carrier → link group names, in order of preference
    groups: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: carrier → groups to use when all of its own are down
    failover: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: account login → {carrier → link group}: an account's own channel (e.g. its registered signature's)
    accounts: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)


@attrs.frozen
class PolicySection(PolicySettings):
    """``[policy]``: the policy chain's settings (``smsgw.policy.settings``) and the default price."""

    #: price per segment in milli-fen when an account has none of its own
    default_price: int = 0


@attrs.frozen
class Config:
    source: str
    gateway: GatewaySection
    store: StoreSection
    smpp: SmppSection
    web: WebSection
    manhole: ManholeSection
    metrics: MetricsSection
    simulators: SimulatorsSection
    numbering: NumberingSection
    routing: RoutingSection
    policy: PolicySection
    links: tuple[LinkConfig, ...]
    sgip_listeners: tuple[SgipListenerConfig, ...]
    plan: NumberingPlan

    @property
    def folder(self) -> Path:
        return Path(self.source).parent

    def store_url(self) -> str:
        if self.store.url:
            return self.store.url
        from smsgw.store.db import sqlite_url
        return sqlite_url(self.gateway.data_dir)

    def routing_table(self, accounts: Mapping[int, Mapping[str, str]] | None = None) -> RoutingTable:
        try:
            return RoutingTable(groups=self.routing.groups, failover=self.routing.failover,
                                accounts=accounts or {}, carried_by=self.plan.carried_by)
        except RoutingConfigError as error:
            raise ConfigError(self.source, f"routing.{error.key}", error.reason) from None

    def with_overrides(self, **values: Any) -> "Config":
        """Apply command-line overrides: data_dir, smpp_port, web_port, manhole_port, metrics_port (None = keep)."""
        cfg = self
        if values.get("data_dir") is not None:
            cfg = attrs.evolve(cfg, gateway=attrs.evolve(cfg.gateway, data_dir=values["data_dir"]))
        for key, section in (("smpp_port", "smpp"), ("web_port", "web"), ("manhole_port", "manhole"),
                             ("metrics_port", "metrics")):
            if values.get(key) is not None:
                cfg = attrs.evolve(cfg, **{section: attrs.evolve(getattr(cfg, section), port=int(values[key]))})
        return cfg


_SECTIONS = {
    "gateway": GatewaySection, "store": StoreSection, "smpp": SmppSection, "web": WebSection,
    "manhole": ManholeSection, "metrics": MetricsSection, "simulators": SimulatorsSection, "numbering": NumberingSection,
    "routing": RoutingSection, "policy": PolicySection,
}


def parse(text: str, source: str) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(syntax)", str(error)) from None
    unknown = sorted(set(raw) - set(_SECTIONS) - {"links", "sgip_listeners"})
    if unknown:
        raise ConfigError(source, unknown[0], f"unknown section (known: {', '.join(sorted(_SECTIONS))}, links, sgip_listeners)")
    sections = {name: build(cls, raw.get(name, {}), source, name) for name, cls in _SECTIONS.items()}
    links = []
    for name, table in (raw.get("links") or {}).items():
        try:
            links.append(LinkConfig.from_mapping(name, {k: _env(v, source, f"links.{name}.{k}") for k, v in table.items()}))
        except (TypeError, ValueError) as error:
            raise ConfigError(source, f"links.{name}", str(error)) from None
    listeners = []
    for name, table in (raw.get("sgip_listeners") or {}).items():
        try:
            listeners.append(SgipListenerConfig.from_mapping(name, {k: _env(v, source, f"sgip_listeners.{name}.{k}")
                                                                    for k, v in table.items()}))
        except (TypeError, ValueError) as error:
            raise ConfigError(source, f"sgip_listeners.{name}", str(error)) from None
    plan_path = Path(source).parent / sections["numbering"].file
    try:
        plan = load_plan(plan_path)
    except NumberingPlanError as error:
        raise ConfigError(str(plan_path), error.key, error.reason) from None
    except OSError as error:
        raise ConfigError(source, "numbering.file", f"cannot read {plan_path}: {error.strerror}") from None
    names = {link.name for link in links}
    for carrier, groups in sections["routing"].groups.items():
        for group in groups:
            if group not in names:
                raise ConfigError(source, f"routing.groups.{carrier}", f"no link named {group!r}")
    cfg = Config(source=source, links=tuple(links), sgip_listeners=tuple(listeners), plan=plan, **sections)
    cfg.routing_table()  # validate now, not at start
    return cfg


def _env(value: Any, source: str, key: str) -> Any:
    from smsgw.app.settings import _env as env
    return env(value, source, key)


def load(path: str | Path | None = None) -> Config:
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(str(path), "(file)", f"cannot read: {error.strerror}") from None
    return parse(text, str(path))


def load_for_run(path: str | Path | None = None, **overrides: Any) -> Config:
    """What ``smsgw run`` and ``twistd smsgw`` start with: ``path``; without one ``config/smsgw.toml``
    when started in the repository, else the embedded default; then the command-line ``overrides``
    (see ``Config.with_overrides``)."""
    chosen = Path(path) if path else DEFAULT_CONFIG
    if not path and not chosen.exists():
        from smsgw.app.defaults import default_config_path

        chosen = default_config_path()
    return load(chosen).with_overrides(**overrides)
