"""Fixtures of the web tests: the in-process rig (real store, real intake, the site on loopback) and the
whole demo gateway in a child process."""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_twisted

from tests.web.rig import make_web_rig
from tests.web.server import Served


@pytest_twisted.async_yield_fixture
async def rig(tmp_path: Path) -> AsyncIterator[Any]:
    web = await make_web_rig(tmp_path)
    try:
        yield web
    finally:
        await web.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo gateway with its web centre in a child process (shared by the browser and API-schema tests)."""
    with Served(tmp_path_factory.mktemp("served") / "data") as gateway:
        yield gateway
