"""The ``smsgw`` command line: a friendly front over the same service tree as ``twistd smsgw``.

    smsgw run [--config PATH] [--data-dir DIR] [--smpp-port N] [--web-port N] [--manhole-port N]
              [--metrics-port N] [--log-format text|json] [--log-level LEVEL]
    smsgw hash-password [PASSWORD]             (argon2 hash for [manhole] users)
    smsgw db upgrade [--config PATH | --url URL]
    smsgw sim <cmpp20|cmpp30|sgip12|smgp30> [--port N] ...
    smsgw account create|recharge|balance ...   (for scripts)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smsgw.app.settings import ConfigError

#: the options of ``smsgw run`` (and ``twistd smsgw``) that override the configuration file
RUN_OVERRIDES = ("data_dir", "smpp_port", "web_port", "manhole_port", "metrics_port")


def _config(args: argparse.Namespace) -> Any:
    from smsgw.app.config import load_for_run

    return load_for_run(args.config, **{key: getattr(args, key, None) for key in RUN_OVERRIDES})


def cmd_run(args: argparse.Namespace) -> int:
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner

    from smsgw.app import logs
    from smsgw.app.gateway import GatewayService

    cfg = _config(args)
    globalLogBeginner.beginLoggingTo([logs.observer(args.log_format, args.log_level)], redirectStandardIO=False)
    service = GatewayService(cfg, reactor, announce=lambda text: print(text, flush=True))
    failed: list[Any] = []
    service.ready.addErrback(lambda f: failed.append(f))
    reactor.callWhenRunning(service.startService)
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.run()
    return 1 if failed else 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from smsgw.store.passwords import hash_password

    password = args.password
    if password is None:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("smsgw: the passwords differ", file=sys.stderr)
            return 2
    if not password:
        print("smsgw: empty password", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from smsgw.store import migrate

    url = args.url or _config(args).store_url()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)
    print(f"store at {url} is at the newest schema")
    return 0


def cmd_sim(args: argparse.Namespace, rest: list[str]) -> int:
    from smsgw.sim.runner import main as sim_main

    return sim_main(rest)


def _run_ops(args: argparse.Namespace, *ops: Any) -> list[Any]:
    """Run store operations through a writer of our own, synchronously (the gateway may be running:
    both write through transactions, so this is safe on SQLite and PostgreSQL)."""
    from concurrent.futures import Future

    from smsgw.store.db import create_engine
    from smsgw.store.writer import Writer

    url = args.url or _config(args).store_url()
    engine = create_engine(url)
    writer = Writer(engine, notify=lambda fn: fn())
    writer.start()
    try:
        results = []
        for op in ops:
            future: Future[Any] = Future()
            writer.submit(op, lambda result, error, f=future: f.set_exception(error) if error else f.set_result(result))
            results.append(future.result(timeout=60))
        return results
    finally:
        writer.stop()
        engine.dispose()


def _find(args: argparse.Namespace, login: str) -> Any:
    from smsgw.store import accounts
    from smsgw.store.db import create_engine

    engine = create_engine(args.url or _config(args).store_url())
    try:
        with engine.connect() as conn:
            found = accounts.find_login(conn, login)
    finally:
        engine.dispose()
    return None if found is None else found[0]


def cmd_account(args: argparse.Namespace) -> int:
    import time

    from smsgw.domain.model import FEN
    from smsgw.store import accounts
    from smsgw.store.passwords import hash_password

    now = int(time.time() * 1000)
    if args.action == "create":
        parent = None
        if args.parent:
            owner = _find(args, args.parent)
            if owner is None:
                print(f"smsgw: no account {args.parent!r}", file=sys.stderr)
                return 2
            parent = owner.id
        [account] = _run_ops(args, accounts.CreateAccount(
            args.login, hash_password(args.password), now, "cli", parent_id=parent, tps=args.tps,
            max_binds=args.max_binds, extension=args.extension, reassemble_mo=args.reassemble_mo))
        print(f"created {'sub-account' if parent else 'enterprise'} {account.login} (id {account.id})")
        return 0
    account = _find(args, args.login)
    if account is None:
        print(f"smsgw: no account {args.login!r}", file=sys.stderr)
        return 2
    if args.action == "recharge":
        try:
            amount = int(round(float(args.yuan) * 100 * FEN))
        except ValueError:
            print(f"smsgw: not an amount of yuan: {args.yuan!r}", file=sys.stderr)
            return 2
        [balance] = _run_ops(args, accounts.Recharge(account.enterprise_id, amount, now, "cli", args.note))
        print(f"{account.login}: recharged {args.yuan} yuan, balance {balance / 100 / FEN:.2f} yuan")
        return 0
    enterprise = account if account.is_enterprise else _find_by_id(args, account.enterprise_id)
    print(f"{account.login}: balance {enterprise.balance / 100 / FEN:.2f} yuan")
    return 0


def _find_by_id(args: argparse.Namespace, account_id: int) -> Any:
    from smsgw.store import queries  # noqa: F401 - reads below use the accounts module
    from smsgw.store import accounts
    from smsgw.store.db import create_engine

    engine = create_engine(args.url or _config(args).store_url())
    try:
        with engine.connect() as conn:
            return accounts.get_account(conn, account_id)
    finally:
        engine.dispose()


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smsgw", description="SMS gateway for the Chinese carrier networks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the gateway (embedded defaults: SQLite, built-in carrier simulators)")
    run.add_argument("--config", help="gateway TOML file (default: config/smsgw.toml)")
    run.add_argument("--data-dir", help="data directory (SQLite store)")
    run.add_argument("--smpp-port", type=int, help="SMPP listener port (0: any free port)")
    run.add_argument("--web-port", type=int, help="web centre and HTTP API port")
    run.add_argument("--manhole-port", type=int, help="telnet manhole port")
    run.add_argument("--metrics-port", type=int, help="Prometheus endpoint port (/metrics)")
    run.add_argument("--log-format", choices=("text", "json"), default="text", help="log lines as text or JSON")
    run.add_argument("--log-level", choices=("debug", "info", "warn", "error"), default="info")

    hp = sub.add_parser("hash-password", help="argon2 hash of a password, for [manhole] users")
    hp.add_argument("password", nargs="?", help="the password (asked for when absent)")

    db = sub.add_parser("db", help="store administration")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create or upgrade the store's schema")
    up.add_argument("--config", help="gateway TOML file")
    up.add_argument("--url", help="store URL (overrides the config)")

    sub.add_parser("sim", help="run one carrier simulator alone (smsgw sim --help for its options)",
                   add_help=False)

    acc = sub.add_parser("account", help="enterprise accounts, for scripts")
    acc_sub = acc.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("create", "create an enterprise or sub-account"), ("recharge", "add prepaid balance"),
                       ("balance", "show the balance")):
        a = acc_sub.add_parser(name, help=text)
        a.add_argument("--config", help="gateway TOML file")
        a.add_argument("--url", help="store URL (overrides the config)")
        a.add_argument("login")
        if name == "create":
            a.add_argument("password")
            a.add_argument("--parent", help="the enterprise this is a sub-account of")
            a.add_argument("--tps", type=int, default=100)
            a.add_argument("--max-binds", type=int, default=1)
            a.add_argument("--extension", help="the 子号 extension MO replies arrive on")
            a.add_argument("--reassemble-mo", action="store_true",
                           help="deliver long MO replies as one deliver_sm, not part by part")
        if name == "recharge":
            a.add_argument("yuan", help="amount in yuan, e.g. 100 or 12.50")
            a.add_argument("--note")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sim"]:
        return cmd_sim(argparse.Namespace(), argv[1:])
    p = parser()
    args = p.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "db":
            return cmd_db_upgrade(args)
        if args.command == "account":
            return cmd_account(args)
        if args.command == "hash-password":
            return cmd_hash_password(args)
    except ConfigError as error:
        print(f"smsgw: configuration error: {error}", file=sys.stderr)
        return 2
    p.print_help()
    return 0 if args.command is None else 2


if __name__ == "__main__":
    sys.exit(main())
