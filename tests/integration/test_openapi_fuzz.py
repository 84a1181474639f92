"""The OpenAPI document is the truth of the API: schemathesis generates requests for
every operation (bounded) against a running controlroom, as a signed-in admin with the
room's ingest key, and no answer is a server error or an answer the document does not
list (status code, content type, body schema)."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import cookie_header

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def api(server):
    headers = cookie_header(server.admin)
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", headers=headers), headers


def test_no_operation_answers_a_server_error_or_anything_undocumented(api, server, room):
    schema, headers = api
    headers = {**headers, "x-api-key": room.api_key}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        # The room under test, so answers go past "no such room" into the route's own work.
        strategy = operation.as_strategy(path_parameters={"room": str(room)} if "{room}" in operation.path else None)

        @hypothesis.given(case=strategy)
        @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - schemathesis raises a group; report every operation's
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:1500])
    assert failures == [], "\n\n".join(failures)
