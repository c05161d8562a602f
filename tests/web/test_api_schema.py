"""Property-based tests of the HTTP API against its own OpenAPI document (schemathesis).

Schemathesis reads ``/api/openapi.json`` from ``smsgw run``'s demo gateway and
generates requests for every operation, valid ones (positive) and invalid
ones (negative); every answer must be documented (status, content type,
body schema), never a server error, and invalid requests must be refused.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation import GenerationMode

from tests.web.server import Served

#: examples per operation and mode; the whole run stays within a few seconds
EXAMPLES = 30

pytestmark = pytest.mark.interop  # schemathesis: software we did not write


def _operations(served: Served) -> list[Any]:
    schema = schemathesis.openapi.from_url(served.base + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    return operations


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_every_operation_answers_as_documented(served: Served, mode: GenerationMode) -> None:
    headers = {"Authorization": f"Bearer {served.key}"}
    seen: dict[str, set[int]] = {}
    for operation in _operations(served):

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            # A schema-valid request may still be refused for what only the gateway knows (a number
            # prefix the numbering plan does not allocate, the balance): 400/422 with an SMPP code, as
            # documented; acceptance is asserted below instead, per operation.
            response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            seen.setdefault(operation.label, set()).add(response.status_code)

        check()
    assert len(seen) == 8
    if mode is GenerationMode.POSITIVE:
        # valid requests are served, not merely refused: every operation answered 200 at least once
        # (except a random message id's status, which is no message of the account's: 404)
        lookup = seen.pop("GET /api/v1/messages/{message_id}")
        assert lookup == {404}
        assert all(200 in codes for codes in seen.values()), seen
