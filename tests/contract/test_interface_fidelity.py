"""The product's TypeScript interfaces (interfaces.json, extracted from the requirements by
extract_interfaces.py) against the response schemas of /openapi.json: every field of an
interface is present in each matching schema under the same camelCase name, with a
compatible JSON type, or listed in exceptions.json with the reason.

Compatible: string and date -> a JSON string (a date: ISO 8601); number -> number or
integer; boolean; object -> an object (an inline object's fields are checked in turn,
``stats.totalEarnings``); array -> an array (of strings for ``string[]``); enum -> a
string whose allowed values, if it lists any, include every value of the interface.
A field typed with another interface (``readingOption: ReadingOption``) is checked as an
object; that interface is checked on its own when it has an entry here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
INTERFACES: dict[str, dict[str, Any]] = json.loads((HERE / "interfaces.json").read_text())
EXCEPTIONS: dict[str, dict[str, str]] = json.loads((HERE / "exceptions.json").read_text())["exceptions"]

# Each interface -> the response schemas of /openapi.json that carry it.
SCHEMAS: dict[str, list[str]] = {
    "Reading": ["ReadingOut"],
    "Review": ["ReviewOut"],
    "PsychicReader": ["ReaderCard", "ReaderProfileOut"],
    "ReadingOption": ["ReadingOptionOut"],
    "ReadingTimeSpan": ["TimeSpan", "AdminTimeSpan"],
    "User": ["MeOut"],
    "UserPreferences": ["PreferencesOut"],
    "UserOnboarding": ["OnboardingOut"],
    "CreditPackage": ["CreditPackage", "AdminCreditPackage"],
    "SubscriptionPlan": ["SubscriptionPlan", "AdminPlan"],
    "Subscription": ["SubscriptionOut"],
    "Badge": ["Badge", "AdminBadge"],
    "Notification": ["NotificationOut"],
    "Status": ["StatusOut"],
    "SuggestedReading": ["SuggestedReadingOut"],
    # The lists the product's pages page through (every list shares PageInfo).
    "PaginatedResponse": ["ReadingPage", "ReaderReviewPage", "StatusPage", "FeedPage"],
}
KINDS = {"not_built": "belongs to a capability not built yet",
         "private": "withheld from a public response; present in the owner's own view",
         "documented_shape": "shared/API.md documents another shape for this field"}


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    """The components of the app's own /openapi.json (moto is not needed to serve it)."""
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        response = client.http.get("/openapi.json")
    assert response.status_code == 200
    return json.loads(response.body)["components"]["schemas"]


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives a property schema allows (``X | None`` -> [X]), references followed."""
    if "$ref" in schema:
        return _resolve(components[schema["$ref"].rsplit("/", 1)[1]], components)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return [alt for option in schema[key] for alt in _resolve(option, components)
                    if alt.get("type") != "null"]
    return [schema]


def _json_type(schema: dict[str, Any]) -> str | None:
    if "enum" in schema or "const" in schema:
        return "string"
    kind = schema.get("type")
    if kind is None and "properties" in schema:
        return "object"
    return kind if isinstance(kind, str) else None


def _problems(path: str, expected: dict[str, Any], schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """What is wrong with ``schema`` (one property) as the interface field ``expected``."""
    alternatives = _resolve(schema, components)
    wanted = expected["type"]
    accepted = {"string": {"string"}, "date": {"string"}, "enum": {"string"}, "number": {"number", "integer"},
                "boolean": {"boolean"}, "object": {"object"}, "array": {"array"}}[wanted]
    matching = [alt for alt in alternatives if _json_type(alt) in accepted]
    if not matching:
        found = sorted({str(_json_type(alt)) for alt in alternatives})
        return [f"{path}: the interface has {wanted}, the schema {'/'.join(found)}"]
    chosen = matching[0]
    if wanted == "enum":
        allowed = chosen.get("enum", [chosen["const"]] if "const" in chosen else None)
        missing = [value for value in expected["enum"] if allowed is not None and value not in allowed]
        return [f"{path}: the schema does not allow {missing}"] if missing else []
    if wanted == "array" and expected["items"]["type"] in ("string", "number", "boolean"):
        return _problems(f"{path}[]", expected["items"], chosen.get("items", {}), components)
    if wanted == "object" and "fields" in expected:
        return _missing(path, expected["fields"], chosen, components)
    return []


def _missing(prefix: str, fields: dict[str, Any], schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    problems: list[str] = []
    for name, expected in fields.items():
        path = f"{prefix}.{name}"
        if name not in properties:
            problems.append(f"{path}: missing")
        else:
            problems += _problems(path, expected, properties[name], components)
    return problems


def _unexcused(interface: str, components: dict[str, Any]) -> tuple[list[str], set[str]]:
    """The problems of an interface not excused by exceptions.json, and the exceptions used."""
    used: set[str] = set()
    if interface in EXCEPTIONS:
        return [], {interface}
    problems: list[str] = []
    for schema_name in SCHEMAS[interface]:
        assert schema_name in components, f"{schema_name} is not a schema of /openapi.json"
        for problem in _missing(interface, INTERFACES[interface], components[schema_name], components):
            key = problem.split(":", 1)[0]
            scoped = f"{schema_name}:{key}"
            excuse = next((k for k in (scoped, key) if k in EXCEPTIONS), None)
            if excuse is None:
                problems.append(f"{schema_name}: {problem}")
            else:
                used.add(excuse)
    return problems, used


@pytest.mark.parametrize("interface", sorted(INTERFACES))
def test_every_field_of_the_interface_is_in_its_response_schemas(interface: str, components: dict[str, Any]) -> None:
    problems, _ = _unexcused(interface, components)
    assert not problems, "\n".join(problems)


def test_every_interface_is_mapped_or_excused() -> None:
    assert set(SCHEMAS) == set(INTERFACES)
    for interface, schemas in SCHEMAS.items():
        assert schemas or interface in EXCEPTIONS, f"{interface} has no response schema and no exception"


def test_every_exception_still_applies_and_says_why(components: dict[str, Any]) -> None:
    """An exception names a capability not built yet (or a privacy choice, or a shape API.md
    documents); once the field is there, the exception must go."""
    used: set[str] = set()
    for interface in INTERFACES:
        used |= _unexcused(interface, components)[1]
    for key, entry in EXCEPTIONS.items():
        assert entry.get("kind") in KINDS and len(entry.get("reason", "")) > 20, key
    assert set(EXCEPTIONS) <= used, f"stale exceptions (the field is there now): {sorted(set(EXCEPTIONS) - used)}"


def test_the_extract_reads_interfaces_as_the_requirements_write_them() -> None:
    from tests.contract.extract_interfaces import extract

    text = ("```typescript\ninterface BaseModel {\n  id: string;\n  deletedAt?: Date; // soft delete\n}\n"
            "enum Kind {\n  A = 'a',\n  B = \"b\"\n}\n"
            "interface Reading extends BaseModel {\n  kind: Kind;\n  tier: \"x\" | 'y';\n  tags: string[];\n"
            "  stats: {\n    total: number;\n  };\n  review?: Review;\n}\n```\n")
    extracted = extract(text, wanted=("Reading",))

    assert extracted == {"Reading": {
        "id": {"type": "string", "optional": False},
        "deletedAt": {"type": "date", "optional": True},
        "kind": {"type": "enum", "enum": ["a", "b"], "ref": "Kind", "optional": False},
        "tier": {"type": "enum", "enum": ["x", "y"], "optional": False},
        "tags": {"type": "array", "items": {"type": "string"}, "optional": False},
        "stats": {"type": "object", "optional": False, "fields": {"total": {"type": "number", "optional": False}}},
        "review": {"type": "object", "ref": "Review", "optional": True},
    }}
