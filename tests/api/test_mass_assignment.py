"""No mass assignment: no request body anyone but an admin may send names a role, a status,
credits or an approval, and sending one anyway is a 400 that changes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.readings import make_reader


def _user(user_id: str) -> Any:
    from chalicelib.models.users import User

    return User.get(user_id, consistent_read=True)


# Fields only an admin or the system may write: never part of a body anyone else may send.
PRIVILEGED = re.compile(
    r"^(role|roles|status|isApproved|approved|isAdmin|credits\w*|balance|suspen\w*)$", re.IGNORECASE
)

# Bodies where such a name is an amount the caller asks to move out of their own balance (the
# ledger's condition caps it at what they have), not a value they could assign: each says why.
REQUESTED_AMOUNTS = {
    "POST /reader/payouts": ["credits"],  # how much of the reader's own available earnings to pay out
}


def _field_paths(schema: dict[str, Any], defs: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every property path of a request body's JSON schema (through $ref, unions and arrays)."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    found: list[tuple[str, ...]] = []
    for branch in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
        found += _field_paths(branch, defs, path)
    for name, sub in (schema.get("properties") or {}).items():
        found.append((*path, name))
        if len(path) < 8:
            found += _field_paths(sub, defs, (*path, name))
    if isinstance(schema.get("items"), dict) and len(path) < 8:
        found += _field_paths(schema["items"], defs, (*path, "[]"))
    return found


def _privileged_fields(spec: Any) -> list[str]:
    schema = spec.body.model_json_schema(by_alias=True)
    return [".".join(p) for p in _field_paths(schema, schema.get("$defs", {})) if PRIVILEGED.match(p[-1])]


def test_no_body_anyone_but_an_admin_may_send_names_a_role_status_or_credits(chalice_app):
    from chalicelib.api import REGISTRY

    bodies = [spec for spec in REGISTRY if spec.body is not None]
    admin_patch = next(s for s in bodies if (s.method, s.path) == ("PATCH", "/admin/users/{userId}"))
    assert _privileged_fields(admin_patch) == ["role", "suspend"]  # the walk sees what it looks for
    offenders = {
        f"{spec.method} {spec.path}": _privileged_fields(spec)
        for spec in bodies
        if spec.access.roles != frozenset({"admin"}) and _privileged_fields(spec)
    }
    assert offenders == REQUESTED_AMOUNTS
    assert all(spec.body.model_config.get("extra") == "forbid" for spec in bodies if spec.method in ("PATCH", "PUT"))


def _writes_without_path_parameters() -> list[Any]:
    from chalicelib.api import REGISTRY

    return [
        spec
        for spec in REGISTRY
        if spec.method in ("PATCH", "PUT")
        and spec.body is not None
        and not spec.path_params
        and spec.access.roles != frozenset({"admin"})
    ]


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"status": "active"}, {"credits": 1000}, {"creditsAvailable": 1000}, {"isApproved": True}],
)
def test_privileged_fields_sent_to_any_patch_or_put_are_refused_and_change_nothing(api, chalice_app, extra):
    from chalicelib.models.readers import ReaderProfile

    make_reader("rdr")
    before = _user("rdr")
    routes = _writes_without_path_parameters()
    assert {"PATCH /me", "PUT /me/preferences", "PATCH /reader/profile"} <= {f"{s.method} {s.path}" for s in routes}
    for spec in routes:
        example = spec.example_body()
        body = {**(example if isinstance(example, dict) else {}), **extra}
        response = api.request(spec.method, spec.path, as_user="rdr", json_body=body)
        assert response.status_code == 400, (spec.path, response.body)
        assert next(iter(extra)) in [f["path"] for f in response.json["error"]["details"]["fields"]], spec.path
    after = _user("rdr")
    assert (after.role, after.status, after.credits_available) == (before.role, before.status, before.credits_available)
    assert ReaderProfile.get("rdr", consistent_read=True).status == "approved"
