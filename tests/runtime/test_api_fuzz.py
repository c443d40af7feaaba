"""Property-based run of the whole REST API with schemathesis.

The OpenAPI document the API publishes for the machining example drives the
generation (valid and invalid bodies, query strings, headers and path ids),
sent with an admin's bearer token; no generated request may get a 5xx. The
number of generated cases is printed by the last test of this module.
"""
from __future__ import annotations

import collections
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from runtime import users
from runtime.definition import load_document

CASES: collections.Counter = collections.Counter()


@pytest.fixture
def fuzz_target(takt):
    """The machining app with a little data, and an admin's bearer token."""
    takt.publish(load_document("example_apps/machining.yaml"))
    records = takt.records("machining")
    records.create("product", {"code": "P1", "name": "shaft", "unit_price": 2})
    for line in ("line_1", "line_2"):
        order = records.create("work_order", {"product": "P1", "quantity": 5, "line": line,
                                              "steps": [{"step_no": 1, "operation": "turn"}]})
        records.create("inspection", {"work_order": order["id"], "kind": "final", "measured": "10.01"})
    with takt.db.write() as conn:
        admin = users.create_user(conn, "fuzz_admin", None, ["admin"])
        token = users.create_token(conn, admin, "fuzz")
    return takt, {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api_schema(fuzz_target):
    takt, headers = fuzz_target
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", takt.app, headers=headers)


# Revoking tokens by random id would revoke the fuzzer's own token (test_api covers revocation).
SKIPPED_OPERATIONS = {"revoke_token"}
PINNED = {"id": (1, 2), "slug": ("machining",)}


def operations(api_schema):
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") not in SKIPPED_OPERATIONS:
            yield operation


def cases(operation):
    """Requests that fit the document, requests that break it (bad types, unknown keys…), and, so that
    record operations get past 404, requests aimed at the seeded records and the machining app."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    for name in set(re.findall(r"{(\w+)}", operation.path)) & PINNED.keys():
        for value in PINNED[name]:
            strategies += [operation.as_strategy(mode, path_parameters={name: value}) for mode in GenerationMode]
    return st.one_of(strategies)


def send(case, headers, counter_key):
    response = case.call(headers=headers)
    CASES[counter_key] += 1
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}")


def test_no_generated_request_gets_a_server_error(api_schema, fuzz_target, database_url):
    """Each operation gets its own Hypothesis run; failures are collected so one report shows them all."""
    _, headers = fuzz_target
    key = database_url.split(":", 1)[0].split("+", 1)[0]
    failures = []
    for operation in operations(api_schema):
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=cases(operation))
        def run(case):
            send(case, headers, key)
        try:
            run()
        except Exception as error:    # noqa: BLE001 - reported below with the operation's name
            failures.append(f"{operation.label}: {type(error).__name__}: {str(error)[:800]}")
    assert not failures, "\n".join(failures)


def test_report_generated_cases(capsys):
    """Runs after the fuzz test above (same module, later in the file): prints how many cases ran."""
    with capsys.disabled():
        per_database = ", ".join(f"{db}: {n}" for db, n in sorted(CASES.items())) or "none (fuzz test not run)"
        print(f"\nschemathesis generated {sum(CASES.values())} API cases ({per_database})")
