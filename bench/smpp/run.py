"""bench/smpp: submit_sm → submit_sm_resp per second through the SMPP listener, store on, policies off.

    .venv/bin/python bench/smpp/run.py [--binds N] [--window W] [--duration S] [--warmup S] [--json FILE]
    .venv/bin/python bench/smpp/run.py --port P --system-id ID --password PW   (a gateway already running)

By default starts ``bench/smpp/server.py`` in a subprocess (listener + intake
+ durable SQLite store; no policies, no carrier links: see its docstring) on
a fresh data directory, then drives it from this process with the asyncio
load generator ``bench/smpp/loadgen.py``: N transceiver binds each keeping W
submit_sm in flight for the duration.  Every submit_sm_resp is timed from
its submit_sm; a submit_sm_resp means the message was committed (fsync'd)
before it was sent.  The first ``--warmup`` seconds are not counted.

Prints a table and a JSON document (also written to ``--json FILE``), with
the CPU time both processes used, so a reader can tell which side limited.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402  (bench/smpp is not a package)

HERE = Path(__file__).resolve().parent


def start_server(data_dir: str, binds: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, str(HERE / "server.py"), data_dir, "--binds", str(binds)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench server exited with {proc.wait()}")
        found = re.search(r"SMPP 127\.0\.0\.1:(\d+)", line)
        if found:
            return proc, int(found.group(1))
    proc.kill()
    raise RuntimeError("bench server did not start within 60 s")


def stop_server(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGTERM, then the writer's figures from its last line and the CPU it used."""
    proc.send_signal(signal.SIGTERM)
    try:
        rest, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate(timeout=10)
    figures: dict[str, Any] = {}
    for line in rest.splitlines():
        if line.startswith("{"):
            figures = json.loads(line)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
    return figures


def table(result: dict[str, Any]) -> str:
    s, cfg = result["summary"], result["config"]
    lat = s["latency_ms"]
    rows = [
        ("binds x window", f"{cfg['binds']} x {cfg['window']}"),
        ("measured", f"{s['measured_seconds']} s (after {cfg['warmup']} s warm-up)"),
        ("submit_sm_resp OK/s", f"{s['rate_ok_per_s']:,.0f}"),
        ("per second min/median/max", f"{s['per_second']['min']:,} / {s['per_second']['median']:,} / "
                                      f"{s['per_second']['max']:,}"),
        ("latency p50 / p90 / p99 / max", f"{lat['p50']} / {lat['p90']} / {lat['p99']} / {lat['max']} ms"),
        ("answered (total run)", f"{s['answered_total']:,} of {s['sent_total']:,} sent"),
        ("refused (measured)", json.dumps(s["refused"]) if s["refused"] else "none"),
        ("generic_nack", str(s["generic_nack"])),
        ("CPU s: generator / gateway", f"{result['generator_cpu_seconds']} / "
                                       f"{result['gateway'].get('cpu_seconds', 'n/a')}"),
    ]
    writer = result["gateway"].get("writer")
    if writer:
        rows.append(("store writer", f"{writer.get('batches', 0):,} commits, mean batch "
                                     f"{writer.get('mean_batch', 0)}, largest {writer.get('largest_batch', 0)}"))
    width = max(len(k) for k, _ in rows)
    head = "bench/smpp: submit_sm -> submit_sm_resp, SQLite store on (WAL, synchronous=FULL), policies and links off"
    return "\n".join([head, "-" * len(head)] + [f"{k:<{width}}  {v}" for k, v in rows])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binds", type=int, default=4)
    p.add_argument("--window", type=int, default=64, help="submit_sm in flight per bind (the listener's window is 64)")
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--port", type=int, help="bench a gateway already listening on 127.0.0.1:PORT instead")
    p.add_argument("--system-id", default="bench")
    p.add_argument("--password", default="benchpw")
    p.add_argument("--json", help="also write the JSON document here")
    args = p.parse_args(argv)
    if args.duration <= args.warmup:
        p.error("--duration must be longer than --warmup")

    tmp = None
    proc = None
    port = args.port
    if port is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-smpp-")
        proc, port = start_server(tmp.name, args.binds)
    try:
        before = time.process_time()
        figures = asyncio.run(loadgen.run("127.0.0.1", port, binds=args.binds, window=args.window,
                                          duration=args.duration, system_id=args.system_id, password=args.password))
        generator_cpu = round(time.process_time() - before, 1)
    finally:
        gateway = stop_server(proc) if proc is not None else {}
        if tmp is not None:
            tmp.cleanup()
    result = {
        "bench": "smpp",
        "config": {"binds": args.binds, "window": args.window, "duration": args.duration, "warmup": args.warmup,
                   "gateway": "bench/smpp/server.py" if args.port is None else f"127.0.0.1:{port}"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "summary": loadgen.summarise(figures, args.warmup),
        "generator_cpu_seconds": generator_cpu,
        "gateway": gateway,
    }
    print(table(result))
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
