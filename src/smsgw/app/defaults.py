"""The embedded default configuration shipped inside the package (for installs run outside the repository)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def default_config_path() -> Path:
    """``smsgw.toml`` and ``numbering.toml`` as shipped (package data ``smsgw/app/config``)."""
    return Path(str(resources.files("smsgw.app").joinpath("config", "smsgw.toml")))
