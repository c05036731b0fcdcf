"""Property-based fuzzing of the running API (``local_stack``) from its own ``/openapi.json``.

Schemathesis generates valid and invalid requests for every operation (its explicit
examples, coverage and fuzzing phases) and checks each response:

* ``not_a_server_error``: no 5xx;
* ``status_code_conformance``: the status is declared for the operation;
* ``response_schema_conformance``: the body (and its content type) matches the declared one;
* ``negative_data_rejection``: a request that violates the document is a 4xx;
* ``content_type_conformance``: the Content-Type is one the operation declares.

The document declares no ``links``, so there is no stateful phase to run (schemathesis
needs links between operations to chain calls); add links and a ``test_stateful`` here.

Signed-in routes get a demo client's token (``client3``, so the other e2e modules' users
are untouched); a second, cheap run covers the same routes with the admin token.

``FUZZ_EXAMPLES`` (default 100) is the number of examples per operation in the fuzzing
phase; ``make fuzz`` raises it. Generation is derandomized with a fixed seed, so a run is
reproducible and CI sees the same cases every time; ``FUZZ_SEED`` changes the seed.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import LocalStack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("FUZZ_SEED", "20240101"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection,
          content_type_conformance]
REQUEST_TIMEOUT_S = 10


def _config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",  # no example replay between runs: the seed alone decides
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},  # the document declares no links
        },
        "auth": {"openapi": {"bearerAuth": {"bearer": token}}},
        "request-timeout": REQUEST_TIMEOUT_S,
    })


def _load(stack: LocalStack, handle: str) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url}/openapi.json", config=_config(stack.token(handle)))


@pytest.fixture(scope="module")
def client_schema(local_stack: LocalStack) -> Any:
    return _load(local_stack, "client3")


@pytest.fixture(scope="module")
def admin_schema(local_stack: LocalStack) -> Any:
    return _load(local_stack, "admin")


def _signed_in(ctx: Any) -> bool:
    """Operations that require a token (the public ones gain nothing from a second run)."""
    security = ctx.operation.definition.raw.get("security")
    return security != []


as_client = schemathesis.pytest.from_fixture("client_schema")
as_admin = schemathesis.pytest.from_fixture("admin_schema").include(_signed_in)


@as_client.parametrize()
def test_every_operation_as_a_client(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@as_admin.parametrize()
def test_signed_in_operations_as_the_admin(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
