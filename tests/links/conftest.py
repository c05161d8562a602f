"""Every link test fails if Twisted logged a failure (an exception swallowed by a callback or the reactor)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from twisted.logger import globalLogPublisher


@pytest.fixture(autouse=True)
def no_logged_failures() -> Iterator[list[Any]]:
    failures: list[Any] = []

    def observe(event: dict[str, Any]) -> None:
        if "log_failure" in event:
            failures.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        yield failures
    finally:
        globalLogPublisher.removeObserver(observe)
    assert not failures, [f["log_failure"].getTraceback() for f in failures]
