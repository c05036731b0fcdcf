"""Every response schema of /openapi.json says what it is and shows an example that is valid
against it (Swagger UI at /docs shows both)."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from chalicelib.openapi import response_components
from chalicelib.schemas import examples
from chalicelib.schemas.examples import EXAMPLES
from chalicelib.services import pricing
from chalicelib.services.catalog_defaults import TIME_SPANS

PREFIX = "#/components/schemas/"


def _response_components(document: dict[str, Any]) -> set[str]:
    return response_components(document["paths"], document["components"]["schemas"])


@pytest.fixture
def doc(api) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_walk_reaches_nested_components(doc):
    names = _response_components(doc)
    # ReadingPage -> ReadingOut -> PriceOut, DisputeOut; every error -> ErrorEnvelope -> ErrorDetail
    assert {"ReadingPage", "ReadingOut", "PriceOut", "DisputeOut", "ErrorEnvelope", "ErrorDetail"} <= names


def test_every_response_schema_has_a_description_and_an_example(doc):
    schemas = doc["components"]["schemas"]
    names = _response_components(doc)
    undescribed = sorted(n for n in names if not str(schemas[n].get("description", "")).strip())
    without_example = sorted(n for n in names if not (schemas[n].get("examples") or "example" in schemas[n]))
    assert undescribed == [], f"response schemas without a description (add a class docstring): {undescribed}"
    assert without_example == [], f"response schemas without an example: {without_example}"


def test_every_example_is_valid_against_its_own_schema(doc):
    schemas = doc["components"]["schemas"]
    invalid = {}
    for name in sorted(_response_components(doc)):
        validator = Draft202012Validator({"$ref": PREFIX + name, "components": doc["components"]})
        examples = list(schemas[name].get("examples", []))
        if "example" in schemas[name]:
            examples.append(schemas[name]["example"])
        errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                  for example in examples for e in validator.iter_errors(example)]
        if errors:
            invalid[name] = errors
    assert invalid == {}


def _unknown_keys(example: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str) -> list[str]:
    """Keys of ``example`` that ``schema`` does not declare (a misspelt field would still
    validate where extra properties are allowed)."""
    if "$ref" in schema:
        return _unknown_keys(example, schemas[schema["$ref"].removeprefix(PREFIX)], schemas, path)
    if "anyOf" in schema:
        fits = [b for b in schema["anyOf"] if (b.get("type") == "null") == (example is None)]
        return _unknown_keys(example, fits[0], schemas, path) if fits else []
    if isinstance(example, list) and "items" in schema:
        return [k for i, item in enumerate(example) for k in _unknown_keys(item, schema["items"], schemas,
                                                                            f"{path}[{i}]")]
    if isinstance(example, dict) and "properties" in schema:
        unknown = [f"{path}.{key}" for key in example if key not in schema["properties"]]
        for key, value in example.items():
            if key in schema["properties"]:
                unknown += _unknown_keys(value, schema["properties"][key], schemas, f"{path}.{key}")
        return unknown
    return []


def test_examples_use_only_declared_field_names(doc):
    schemas = doc["components"]["schemas"]
    unknown = [key for name in sorted(_response_components(doc))
               for example in schemas[name].get("examples", [])
               for key in _unknown_keys(example, schemas[name], schemas, name)]
    assert unknown == []


def test_every_hand_written_example_names_a_documented_schema(doc):
    assert sorted(set(EXAMPLES) - set(doc["components"]["schemas"])) == []
    reading = doc["components"]["schemas"]["ReadingOut"]["examples"][0]
    assert reading["pricing"]["total"] == reading["creditsCost"]
    assert reading["reader"]["displayName"] == "Luna Marquez"


def test_the_example_prices_are_what_the_quote_charges():
    spans = [{"id": f"{minutes}-min", "duration": minutes, "label": f"{minutes} minutes", "multiplier": multiplier}
             for minutes, multiplier in TIME_SPANS]
    assert pricing.listed_prices(examples.OPTION, spans) == examples.LISTED
    quoted = pricing.price(examples.OPTION, 30, "0.95")
    assert {key: float(value) for key, value in quoted.breakdown().items()} == examples.PRICE
    assert EXAMPLES["ReadingOut"]["creditsCost"] == quoted.total


def test_the_walk_fails_on_a_schema_without_description_or_example(doc):
    schemas = doc["components"]["schemas"]
    schemas["PriceOut"].pop("description")
    schemas["PriceOut"].pop("examples")
    with pytest.raises(AssertionError, match="PriceOut"):
        test_every_response_schema_has_a_description_and_an_example(doc)


# Fields whose real value can be their own name (an enum member spelt like the field).
NAMED_LIKE_THEIR_VALUE: set[str] = set()


def _placeholders(node: Any, path: str) -> list[str]:
    """Paths in ``node`` whose string value is the name of its own property (a placeholder
    such as ``"version": "version"`` rather than a value a client would see)."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _placeholders(item, f"{path}[{i}]")]
    if isinstance(node, dict):
        found = [f"{path}.{key}" for key, value in node.items()
                 if key == value and key not in NAMED_LIKE_THEIR_VALUE]
        return found + [p for key, value in node.items() for p in _placeholders(value, f"{path}.{key}")]
    return []


def test_no_example_is_a_placeholder_repeating_its_field_name(doc):
    placeholders = []
    for name, schema in sorted(doc["components"]["schemas"].items()):
        placeholders += _placeholders(schema.get("examples", []), f"{name}.examples")
        placeholders += _placeholders(schema.get("example"), f"{name}.example")
        for key, prop in schema.get("properties", {}).items():
            placeholders += [f"{name}.{key}" for value in prop.get("examples", []) if value == key]
    assert placeholders == []
