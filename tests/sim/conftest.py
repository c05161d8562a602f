"""Every simulator test also fails if a simulator logged a failure (a handler that raised)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.sim.peers import no_failures_logged


@pytest.fixture(autouse=True)
def _no_simulator_failures() -> Iterator[None]:
    with no_failures_logged():
        yield
