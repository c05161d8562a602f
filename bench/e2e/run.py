"""bench/e2e: end-to-end throughput and latency of ``smsgw run``, against a null-SMSC baseline.

    .venv/bin/python bench/e2e/run.py [--scenario e2e|held|all] [--binds 8] [--window 64]
        [--seconds 20] [--warmup 5] [--half-rate 5000] [--held 1000000] [--json FILE]
        [--py-spy FILE] [--workdir DIR] [--keep]

``e2e``: the same asynchronous SMPP load generator (``loadgen.py``: N
transceiver binds, window W, 50% short ASCII / 35% short Chinese / 15% long
Chinese of three segments, to China Mobile, Unicom and Telecom numbers,
receipts requested) runs twice:

1. against the null SMSC (``null_smsc.py``, its own process: answers at once,
   sends the receipt, stores nothing): the ceiling of this machine;
2. against ``smsgw run --config bench/e2e/gateway.toml`` with a durable SQLite
   store in a fresh directory, its links connected to three carrier
   simulators (``smsgw sim cmpp30|sgip12|smgp30``), each a process of its own,
   answering at once and reporting DELIVRD after ``--receipt-delay``.

Each run has a saturation phase (every bind keeps W submits in flight), a
paced phase at ``--half-rate`` submits/s (half the 10,000 msg/s target), and a
paced phase at half the completed rate its own saturation phase reached
(``half_measured``: the latency of a server that is not overloaded; after each
phase the generator waits for the receipts still due).  Reported: accepted msg/s
(submit_sm_resp OK), completed msg/s (receipts that reached the client while
the phase ran), p50/p99 submit_sm_resp latency, p50/p99 receipt latency (from
sending submit_sm to receiving its deliver_sm), the gateway's peak RSS, the
CPU seconds each process used, and smsgw's figures as ratios of the null
SMSC's.

``held``: ``--held`` messages (default one million) are submitted with an
absolute schedule_delivery_time ``--release-after`` seconds after the start;
the store keeps them queued with that due time and the dispatcher does not
touch them before it.  Reported: the accept rate, the gateway's peak RSS
while holding them and while releasing them, and the release rate (receipts
per second from the release time to the last receipt).  Why scheduled
submits and not the send window: the policy chain (send window) is not wired
into the gateway yet, and a scheduled submit goes through the same intake,
store and dispatcher path as a window-held message would after its release.

Prints a table and writes the JSON document to ``--json`` (and stdout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import loadgen
import processes
from smsgw.session.smpp_time import format_absolute


def machine() -> dict[str, Any]:
    import os
    import platform

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_gb, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def cpu_of(pids: dict[str, int]) -> dict[str, float | None]:
    return {name: processes.cpu_seconds(pid) for name, pid in pids.items()}


def cpu_used(before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if before[k] is None or after[k] is None else round(after[k] - before[k], 2)  # type: ignore[operator]
            for k in before}


async def measure(port: int, args: argparse.Namespace, pids: dict[str, int],
                  profile: tuple[int, Path] | None = None,
                  sampler: processes.RssSampler | None = None) -> dict[str, Any]:
    """Saturation, then paced at the half rate, over one set of binds."""
    templates = loadgen.Templates.build(loadgen.Mix())
    gen = loadgen.LoadGenerator("127.0.0.1", port, processes.LOGIN, processes.PASSWORD, args.binds, args.window,
                                templates)
    await gen.connect()
    if sampler is not None:
        await asyncio.sleep(0.5)  # a sample after the binds' argon2 memory is given back
        sampler.reset_peak()
    result: dict[str, Any] = {}
    pids = {**pids, "loadgen": __import__("os").getpid()}
    for name in ("saturation", "half_rate", "half_measured"):
        if name == "saturation":
            rate = None
        elif name == "half_rate":
            rate = args.half_rate
        else:  # half of what this server completed end to end at saturation
            rate = max(10.0, round(result["saturation"]["completed_per_s"] / 2, -1))
        if args.warmup:
            await gen.run_phase(f"{name}-warmup", args.warmup, rate)
        spy = None
        if profile is not None and name == args.py_spy_phase:
            spy = processes.start_py_spy(profile[0], profile[1], args.seconds, args.py_spy_format)
        before = cpu_of(pids)
        phase = await gen.run_phase(name, args.seconds, rate)
        after = cpu_of(pids)
        if spy is not None:
            spy.wait(60)
        await gen.drain_receipts([phase], timeout=120)
        summary = phase.summary()
        summary["cpu_seconds"] = cpu_used(before, after)
        result[name] = summary
    await gen.close()
    return result


async def held(port: int, args: argparse.Namespace, sampler: processes.RssSampler, pid: int) -> dict[str, Any]:
    release_wall = time.time() + args.release_after
    schedule = format_absolute(datetime.fromtimestamp(release_wall, timezone.utc))
    release_at = loadgen.now() + (release_wall - time.time())
    templates = loadgen.Templates.build(loadgen.Mix(), schedule=schedule)
    gen = loadgen.LoadGenerator("127.0.0.1", port, processes.LOGIN, processes.PASSWORD, args.binds, args.window,
                                templates)
    await gen.connect()
    await asyncio.sleep(0.5)
    sampler.reset_peak()
    phase = await gen.run_phase("held-accept", 1e9, None, total=args.held)
    accepted_summary = phase.summary()
    accept_done = loadgen.now()
    rss_holding = sampler.peak_kb
    early = len(phase.receipt_latency)
    wait = release_at - loadgen.now()
    print(f"held: {phase.accepted} accepted in {phase.seconds:.1f}s; release in {max(0.0, wait):.0f}s", flush=True)
    if wait > 0:
        await asyncio.sleep(wait)
    started = max(release_at, accept_done)
    if args.py_spy:
        processes.start_py_spy(pid, args.py_spy, min(60.0, args.release_window), args.py_spy_format)
    await gen.drain_receipts([phase], timeout=args.release_window, quiet=60.0)
    received = len(phase.receipt_latency)
    last = phase.last_receipt or loadgen.now()
    release_seconds = max(1e-9, last - started)
    await gen.close()
    return {
        "held": args.held,
        "accept": {k: accepted_summary[k] for k in ("seconds", "sent", "accepted", "refused", "accepted_per_s",
                                                     "submit_p50_ms", "submit_p99_ms")},
        "released_before_all_accepted": accept_done > release_at,
        "receipts_before_release": early,
        "receipts": received,
        "receipts_missing": phase.accepted - received,
        "release_window_s": args.release_window,
        "release_seconds": round(release_seconds, 1),
        "release_per_s": round((received - early) / release_seconds, 1),
        "peak_rss_holding_mb": round(rss_holding / 1024, 1),
    }


def with_gateway(args: argparse.Namespace, workdir: Path, body: Any) -> dict[str, Any]:
    """Fresh store, simulators and gateway; run ``body(port, pids, sampler)``; stop everything."""
    data = workdir / "data"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    processes.prepare_store(data, args.binds)
    config = processes.shifted_config(workdir, args.port_offset)
    sims = processes.start_simulators(workdir, args.receipt_delay, args.sim_window, config)
    gateway = None
    try:
        gateway, port = processes.start_gateway(workdir, data, args.switch_interval, config, args.notifier_window)
        time.sleep(2.0)  # the links log in to the simulators
        sampler = processes.RssSampler(gateway.pid).start()
        pids = {"gateway": gateway.pid, **{p.name: p.pid for p in sims}}
        result = body(port, pids, sampler)
        result["gateway_rss"] = sampler.stop()
        return result
    finally:
        if gateway is not None:
            code = gateway.stop(grace=60)
            if code not in (0, None, -15):
                print(f"gateway exited with {code}; see {gateway.log}", file=sys.stderr)
        for sim in sims:
            sim.stop()


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def table(report: dict[str, Any]) -> str:
    rows: list[tuple[str, Any, Any, Any]] = []
    null, gw = report.get("null_smsc"), report.get("smsgw")
    if null and gw:
        for phase in ("saturation", "half_rate", "half_measured"):
            n, g = null[phase], gw[phase]
            for key, label in (("accepted_per_s", "accepted msg/s"), ("completed_per_s", "completed msg/s"),
                               ("submit_p50_ms", "submit_sm_resp p50 ms"), ("submit_p99_ms", "submit_sm_resp p99 ms"),
                               ("receipt_p50_ms", "receipt p50 ms"), ("receipt_p99_ms", "receipt p99 ms"),
                               ("receipts_missing", "receipts missing")):
                if phase == "half_measured" and key == "accepted_per_s":
                    rows.append((f"{phase}: offered msg/s", n["offered_rate"], g["offered_rate"], ""))
                rows.append((f"{phase}: {label}", n[key], g[key],
                             ratio(g[key], n[key]) if phase != "half_measured" else ""))
        rows.append(("gateway peak RSS MB under load", "", gw["gateway_rss"]["peak_rss_after_binds_mb"], ""))
        rows.append(("gateway peak RSS MB (VmHWM, binds too)", "", gw["gateway_rss"]["vm_hwm_mb"], ""))
    lines = []
    if rows:
        lines.append(f"{'':42} {'null SMSC':>10} {'smsgw':>10} {'ratio':>7}")
        for label, n, g, r in rows:
            lines.append(f"{label:42} {'' if n is None else n:>10} {'' if g is None else g:>10} "
                         f"{'' if r is None else r:>7}")
    h = report.get("held")
    if h:
        lines.append("")
        lines.append(f"held: {h['held']} messages accepted at {h['accept']['accepted_per_s']}/s "
                     f"({h['accept']['accepted']} accepted), peak RSS while holding {h['peak_rss_holding_mb']} MB, "
                     f"while releasing too {h['gateway_rss']['peak_rss_after_binds_mb']} MB (VmHWM with the binds' "
                     f"argon2 {h['gateway_rss']['vm_hwm_mb']} MB); released at {h['release_per_s']} msg/s "
                     f"({h['receipts']} receipts, {h['receipts_missing']} missing)")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", choices=("e2e", "held", "all"), default="e2e")
    p.add_argument("--binds", type=int, default=8)
    p.add_argument("--window", type=int, default=64, help="submits in flight per bind (the gateway allows 64)")
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    p.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds before each phase")
    p.add_argument("--half-rate", type=float, default=5000.0, help="paced phase: submits per second")
    p.add_argument("--receipt-delay", type=float, default=0.0, help="simulators: seconds before a report")
    p.add_argument("--sim-window", type=int, default=256, help="simulators: reports in flight per connection")
    p.add_argument("--held", type=int, default=1_000_000)
    p.add_argument("--release-after", type=float, default=None,
                   help="held: seconds from the start to the release (default: held/1500 + 30)")
    p.add_argument("--switch-interval", type=float,
                   help="run the gateway with this GIL switch interval in seconds (default: Python's 0.005)")
    p.add_argument("--release-window", type=float, default=300.0,
                   help="held: seconds to measure the release for at most (the rest stays queued)")
    p.add_argument("--notifier-window", type=int,
                   help="experiment: run the gateway with this deliver_sm window per receiver (default 32)")
    p.add_argument("--port-offset", type=int, default=0,
                   help="move gateway.toml's fixed ports (simulators, SGIP listener) up by this much")
    p.add_argument("--skip-baseline", action="store_true", help="e2e: do not measure the null SMSC")
    p.add_argument("--py-spy", type=Path, help="py-spy record of the gateway: e2e during one phase (--py-spy-phase), held during the release")
    p.add_argument("--py-spy-format", default="flamegraph", choices=("flamegraph", "raw", "speedscope"))
    p.add_argument("--py-spy-phase", default="saturation", choices=("saturation", "half_rate", "half_measured"))
    p.add_argument("--workdir", type=Path, help="where stores and logs go (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", type=Path, help="also write the JSON report here")
    args = p.parse_args()
    if args.release_after is None:
        args.release_after = args.held / 1500 + 30

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="smsgw-bench-e2e-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine(), "settings": {
        k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    try:
        if args.scenario in ("e2e", "all"):
            if not args.skip_baseline:
                null, port = processes.start_null_smsc(workdir)
                try:
                    report["null_smsc"] = asyncio.run(measure(port, args, {"null_smsc": null.pid}))
                finally:
                    null.stop()
            profile = None

            def e2e(port: int, pids: dict[str, int], sampler: processes.RssSampler) -> dict[str, Any]:
                prof = (pids["gateway"], args.py_spy) if args.py_spy else None
                return asyncio.run(measure(port, args, pids, prof, sampler))

            report["smsgw"] = with_gateway(args, workdir, e2e)
            del profile
            if "null_smsc" in report:
                report["ratios"] = {
                    phase: {key: ratio(report["smsgw"][phase][key], report["null_smsc"][phase][key])
                            for key in ("accepted_per_s", "completed_per_s")}
                    for phase in ("saturation", "half_rate")}
        if args.scenario in ("held", "all"):
            report["held"] = with_gateway(args, workdir, lambda port, pids, sampler:
                                          asyncio.run(held(port, args, sampler, pids["gateway"])))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    print()
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
