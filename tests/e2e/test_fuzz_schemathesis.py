"""Property-based fuzzing of the running API (``local_stack``) from its OpenAPI document.

Schemathesis generates valid and invalid requests for every operation (its explicit
examples, coverage and fuzzing phases) and checks each response:

* ``not_a_server_error``: no 5xx;
* ``status_code_conformance``: the status is one the operation declares;
* ``response_schema_conformance``: the body matches the declared schema;
* ``negative_data_rejection``: a request that violates the document is a 4xx;
* ``content_type_conformance``: the Content-Type is one the operation declares.

Every operation is called as a demo user its access admits (``x-access``), so the
handler is reached rather than refused: ``client3`` for signed-in and client routes,
``reader12`` for reader routes, ``admin`` for admin routes; public routes get no token.
A missing or bad token is the authorization matrix's job (tests/api), so the negative
cases break the body, query and path, never the token. The cases write through every
route (catalog, applications, profiles), so this module runs after every other test
(tests/e2e/conftest.py): the probes of the shared stack see the seeded data.

Stateful testing follows the document's ``links`` between operations; the document
declares none today, so ``test_stateful_links`` skips (it runs by itself once links land).

``FUZZ_EXAMPLES`` (default 50) is the number of examples per operation in the fuzzing
phase; ``make fuzz`` raises it. Generation is derandomized with a fixed seed, so a run is
reproducible and CI sees the same cases every time; ``FUZZ_SEED`` changes the seed.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import LocalStack

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
SEED = int(os.environ.get("FUZZ_SEED", "20240101"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection,
          content_type_conformance]
REQUEST_TIMEOUT_S = 10
# The demo user (tools/seed.py) that calls the operations a role may call, in order of preference.
DEMO_USERS = {"client": "client3", "reader": "reader12", "admin": "admin"}


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "cache": {"enabled": False},  # no replay of earlier runs' failures (.schemathesis/): the seed alone decides
        "suppress-health-check": ["too_slow"],  # timing-dependent; a loaded 2-core CI must not flake on it
        "generation": {
            "mode": "all",  # valid and invalid requests
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",  # no Hypothesis example database either
            # The token comes from ``DemoUsers``, not from generation, so no case drops it.
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {
                "enabled": True,
                # Methods the API does not declare must be refused (4xx, never 5xx). TRACE and QUERY
                # are left out: chalice's local HTTP server answers them 501 Not Implemented itself,
                # before the app sees them, which is the right status for a method a server does not
                # implement (RFC 9110, 15.6.2); API Gateway answers them in the cloud.
                "unexpected-methods": ["get", "put", "post", "delete", "options", "patch"],
            },
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True},  # test_stateful_links; the document declares no links yet
        },
        "request-timeout": REQUEST_TIMEOUT_S,
        "checks": {
            # A request line over 8192 characters is refused before validation with 414 URI Too
            # Long (documented on every route with a query), and a body over MAX_BODY_BYTES with
            # 413 (a text longer than its maxLength can make the body that large): rejections
            # like any other 4xx.
            "negative_data_rejection": {"expected-statuses": [
                "400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429",
                "5xx"]},
        },
    })


def _document() -> dict[str, Any]:
    """The document the running stack serves, built by the same code in this process:
    schemathesis' pytest integration needs the operations at collection time, before the
    stack is up (its fixture-based loader, ``schemathesis.pytest.from_fixture``, does not
    work with pytest 9.2). ``test_the_fuzzed_document_is_the_served_one`` proves the two
    are the same."""
    import app  # noqa: F401 - registers the routes
    from chalicelib.openapi import build_document

    return build_document()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=_config())
# chalice's local server writes a response's headers and body in two packets with Nagle's
# algorithm on, so a kept-alive connection waits ~40 ms for the client's delayed ACK on
# every request: a connection per request is ~3x faster here.
SESSION = requests.Session()
SESSION.headers["Connection"] = "close"
PLACEHOLDER = "Bearer demo-user:"


def _roles(access: str) -> set[str]:
    return {role.strip() for role in access.removeprefix("roles:").split(",")} if access.startswith("roles:") else set()


def demo_user(access: str) -> str | None:
    """The demo handle for an operation's ``x-access`` (None: public, no token)."""
    if access in ("public", "public-or-signed-in"):  # the optional caller: fuzzed anonymously
        return None
    if access == "signed-in":
        return DEMO_USERS["client"]
    handle = next((handle for role, handle in DEMO_USERS.items() if role in _roles(access)), None)
    if handle is None:
        raise LookupError(f"no demo user for {access!r}: add one to DEMO_USERS")
    return handle


@schema.auth(refresh_interval=None)  # no caching: the user depends on the operation
class DemoUsers:
    """Names the demo user of each signed-in operation. The tokens exist only once the stack
    runs, after collection (where schemathesis builds its coverage cases), so the header
    carries a placeholder that ``_token_for`` swaps for the real token at call time."""

    def get(self, case: schemathesis.Case, ctx: Any) -> str | None:
        return demo_user(case.operation.definition.raw.get("x-access", "signed-in"))

    def set(self, case: schemathesis.Case, data: str, ctx: Any) -> None:
        case.headers["Authorization"] = f"{PLACEHOLDER}{data}"


def _token_for(case: schemathesis.Case, stack: LocalStack) -> dict[str, str]:
    value = (case.headers or {}).get("Authorization", "")
    if not value.startswith(PLACEHOLDER):
        return {}
    return {"Authorization": f"Bearer {stack.token(value.removeprefix(PLACEHOLDER))}"}


def test_the_fuzzed_document_is_the_served_one(local_stack: LocalStack) -> None:
    served = requests.get(f"{local_stack.url}/openapi.json", timeout=REQUEST_TIMEOUT_S)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


def test_every_access_has_a_demo_user_it_admits(local_stack: LocalStack) -> None:
    for access in {op["x-access"] for item in DOCUMENT["paths"].values() for op in item.values()}:
        handle = demo_user(access)
        if _roles(access):
            assert handle is not None and local_stack.tokens[handle]["role"] in _roles(access), access


@schema.parametrize()
def test_every_operation(case: schemathesis.Case, local_stack: LocalStack) -> None:
    case.call_and_validate(base_url=local_stack.url, session=SESSION, headers=_token_for(case, local_stack),
                           checks=CHECKS)


def _links(document: dict[str, Any]) -> list[str]:
    return [f"{method.upper()} {path} {status}"
            for path, item in document["paths"].items() for method, operation in item.items()
            for status, response in operation.get("responses", {}).items() if response.get("links")]


def test_stateful_links(local_stack: LocalStack) -> None:
    """Chains of calls along the document's ``links`` (e.g. create -> read -> delete).
    The document declares none today, so this skips until the first link lands."""
    if not _links(DOCUMENT):
        pytest.skip("the OpenAPI document declares no links: no stateful phase to run")

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": local_stack.url, "session": SESSION, "headers": _token_for(case, local_stack)}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=schema.config.get_hypothesis_settings())
