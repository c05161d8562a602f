"""The fuzz targets (fuzz/): the committed corpus and the vector seeds replay clean, and a short
atheris run of every target finds nothing.

The replays call the harness functions directly (no atheris): a regression in
a decoder or session shows here with the input that triggers it.  The runs
start ``python -m fuzz.run`` as a child process for a few seconds per target
(``SMSGW_FUZZ_SECONDS``, default 3) on a scratch corpus dir in front of the
committed one, and fail with the crashing input and the traceback.  A planted
bug proves that a crash is noticed at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.seeds import SEEDS
from fuzz.targets import CORPUS, TARGETS

ROOT = Path(__file__).resolve().parents[1]
SECONDS = int(os.environ.get("SMSGW_FUZZ_SECONDS", "3"))
NAMES = sorted(TARGETS)


def replay(name: str, inputs: list[tuple[str, bytes]]) -> None:
    check = TARGETS[name].check
    failures = []
    for label, data in inputs:
        try:
            check(data)
        except Exception as x:  # every kind of failure is a finding: collect them all
            failures.append(f"{label} ({data[:200].hex()}): {type(x).__name__}: {x}"[:600])
    assert not failures, f"{name}: {len(failures)} failing input(s):\n" + "\n".join(failures[:10])


@pytest.mark.parametrize("name", NAMES)
def test_committed_corpus_replays_clean(name: str) -> None:
    files = TARGETS[name].corpus_files()
    assert files, f"fuzz/corpus/{name} is empty"
    replay(name, [(p.name, p.read_bytes()) for p in files])


@pytest.mark.parametrize("name", NAMES)
def test_vector_seeds_replay_clean(name: str) -> None:
    seeds = list(SEEDS[name]())
    assert len(seeds) >= 10
    replay(name, [(f"seed {i}", data) for i, data in enumerate(seeds)])


def test_corpus_is_small_and_has_no_strays() -> None:
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert folders == set(TARGETS)
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 2_000_000
    for name in NAMES:
        assert len(TARGETS[name].corpus_files()) < 300, name


def run_target(spec: str, tmp_path: Path, corpus: list[Path], *flags: str) -> tuple[int, str, list[Path]]:
    """Run ``python -m fuzz.run spec`` with new inputs going to a scratch dir; returns (rc, log, artifacts)."""
    artifacts = tmp_path / "artifacts"
    scratch = tmp_path / "new"
    artifacts.mkdir()
    scratch.mkdir()
    args = [sys.executable, "-m", "fuzz.run", spec, *flags, "-timeout=20", "-print_final_stats=1",
            f"-artifact_prefix={artifacts}{os.sep}", str(scratch), *map(str, corpus)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 120,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    log = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if "Instrumenting" not in line)
    return done.returncode, log, sorted(artifacts.iterdir())


def describe(log: str, artifacts: list[Path]) -> str:
    shown = [f"{p.name}: {p.read_bytes()[:512].hex()}" for p in artifacts]
    return "\n".join([*shown, "--- log (end) ---", *log.splitlines()[-40:]])


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_short_fuzz_run_finds_nothing(name: str, tmp_path: Path) -> None:
    rc, log, artifacts = run_target(name, tmp_path, [TARGETS[name].corpus], f"-max_total_time={SECONDS}")
    assert rc == 0 and not artifacts, describe(log, artifacts)
    runs = next(int(line.split()[-1]) for line in log.splitlines() if line.startswith("stat::number_of_executed_units"))
    assert runs > len(TARGETS[name].corpus_files())  # it fuzzed, beyond replaying the corpus


def planted_bug(data: bytes) -> None:
    """A target with a bug for ``test_a_crash_is_reported_with_its_input``."""
    if data.startswith(b"BUG"):
        raise ValueError("planted")


@pytest.mark.slow
def test_a_crash_is_reported_with_its_input(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one").write_bytes(b"BUG!")
    rc, log, artifacts = run_target("tests.test_fuzz:planted_bug", tmp_path, [corpus], "-runs=10")
    assert rc != 0
    assert "ValueError: planted" in log
    assert [p.read_bytes() for p in artifacts if p.name.startswith("crash-")] == [b"BUG!"]
