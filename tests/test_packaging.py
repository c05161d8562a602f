"""Packaging: every package is listed, the wheel installs alone, layering holds."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _listed_packages() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return {p.strip() for p in cfg["options"]["packages"].split() if p.strip()}


def test_every_package_directory_is_listed_in_setup_cfg() -> None:
    found = set()
    for base, prefix in ((ROOT / "src" / "smsgw", "smsgw"), (ROOT / "protocols", "smsgw.protocols")):
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join((prefix, *rel.parts)))
    missing = found - _listed_packages()
    assert not missing, f"add to setup.cfg [options] packages: {sorted(missing)}"


def test_layers_hold(tmp_path: Path) -> None:
    """import-linter contracts of setup.cfg (DESIGN.md section 2).

    The tree is assembled as it is installed (``protocols/`` inside ``smsgw``) so
    the check works the same for editable and regular installs.
    """
    shutil.copytree(ROOT / "src" / "smsgw", tmp_path / "smsgw", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "protocols", tmp_path / "smsgw" / "protocols", ignore=shutil.ignore_patterns("__pycache__"))
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / "setup.cfg"), "--no-cache"], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv(tmp_path: Path) -> None:
    """Build the wheel, install it alone in a new venv: tables import, vectors load, twistd finds the plugin."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheels = list(dist.glob("smsgw-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheels[0])], check=True, capture_output=True)
    check = (
        "import importlib\n"
        "from smsgw.protocols import PROTOCOL_IDS, vectors\n"
        "from smsgw.session.codecs import codec_for\n"
        "n = 0\n"
        "for pid in PROTOCOL_IDS:\n"
        "    importlib.import_module('smsgw.protocols.' + pid)\n"
        "    codec_for(pid)\n"
        "    n += len(vectors.load(pid))\n"
        "print(n)\n"
    )
    out = subprocess.run([str(py), "-c", check], check=True, capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": ""})
    shipped = sum(1 for _ in ROOT.glob("protocols/*/vectors/*.json"))
    assert int(out.stdout.strip()) == shipped > 0
    helps = subprocess.run([str(env_dir / "bin" / "twistd"), "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert "smsgw" in helps.stdout
