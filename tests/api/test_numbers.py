"""Numbers are numbers: every response property that holds an amount (a rate, multiplier,
price, total, percentage, credits, fee...) is a JSON number in /openapi.json, and one field
has one type across routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.openapi import response_components

# The head noun of a camelCase property name (its last word) that says "this is an amount".
NUMERIC_WORDS = {"rate", "multiplier", "price", "amount", "total", "percent", "percentage", "credits", "fee",
                 "fees", "discount", "cost", "balance", "earnings", "rating", "minutes", "duration", "count"}


def _last_word(name: str) -> str:
    return re.findall(r"[a-z0-9]+|[A-Z][a-z0-9]*", name)[-1].lower()


def _types(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """The JSON types a property schema allows (through $ref, anyOf/oneOf/allOf)."""
    if "$ref" in schema:
        return _types(components[schema["$ref"].rsplit("/", 1)[1]], components)
    found: set[str] = set()
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            found |= _types(part, components)
    kind = schema.get("type")
    if isinstance(kind, list):
        found |= set(kind)
    elif kind:
        found.add(kind)
    if "enum" in schema and not kind:
        found |= {type(value).__name__ for value in schema["enum"]}
    return found - {"null"}


def _response_schemas(document: dict[str, Any]) -> list[str]:
    """Names of the component schemas a response reaches (transitively)."""
    return sorted(response_components(document["paths"], document["components"]["schemas"]))


def _numeric_properties(document: dict[str, Any]) -> Iterator[tuple[str, str, set[str]]]:
    components = document["components"]["schemas"]
    for name in _response_schemas(document):
        for prop, schema in (components[name].get("properties") or {}).items():
            if _last_word(prop) in NUMERIC_WORDS and not re.match(r"^(is|has)[A-Z]", prop):  # isDiscount: a flag
                yield name, prop, _types(schema, components)


def test_the_walk_finds_the_known_amounts(api):
    """Guards the test below: it must see the quote's rate and multiplier and the catalog prices."""
    found = {(schema, prop) for schema, prop, _ in _numeric_properties(api.get("/openapi.json").json)}
    assert {("PriceOut", "rate"), ("PriceOut", "multiplier"), ("PriceOut", "total"),
            ("AdminTimeSpan", "multiplier"), ("TimeSpan", "multiplier"), ("CreditPackage", "price")} <= found


def test_no_amount_in_a_response_is_a_string(api):
    strings = [f"{schema}.{prop}: {sorted(types)}"
               for schema, prop, types in _numeric_properties(api.get("/openapi.json").json)
               if not types or types & {"string", "boolean"}]
    assert strings == []


def test_one_amount_field_has_one_type_across_schemas(api):
    """A property name means the same JSON type wherever it appears (an integer is a number;
    an object, such as a balance breakdown, is walked as its own schema)."""
    by_name: dict[str, set[str]] = {}
    for _schema, prop, types in _numeric_properties(api.get("/openapi.json").json):
        by_name.setdefault(prop, set()).update(types)
    # An object (a figure with its sample and thresholds, a balance breakdown) is walked as its own schema.
    mixed = {prop: sorted(types) for prop, types in by_name.items() if len(types - {"integer", "object"}) > 1}
    assert mixed == {}


@pytest.mark.usefixtures("default_catalog")
def test_a_quote_and_its_reading_show_the_rate_and_multiplier_as_numbers(api, aws):
    from tests.support.readings import QUESTION, TOPIC, make_client, make_reader

    make_client("cli_numbers", 100)
    make_reader("rdr_numbers")  # its video message: 40 credits for 15 minutes, 8/3 a minute
    body = {"readerId": "rdr_numbers", "optionType": "video_message", "duration": 15}
    quote = api.post("/readings/quote", as_user="cli_numbers", json_body=body)
    assert quote.status_code == 200, quote.body
    assert quote.json_body["price"] == {"rate": 2.6667, "minutes": 15, "multiplier": 1, "total": 40}
    assert all(isinstance(quote.json_body["price"][key], float) for key in ("rate", "multiplier"))

    created = api.post("/readings", as_user="cli_numbers", headers={"Idempotency-Key": "numbers-1"},
                       json_body={**body, "topicId": TOPIC, "question": QUESTION})
    assert created.status_code == 201, created.body
    assert created.json_body["pricing"] == quote.json_body["price"]


def test_an_admin_time_span_shows_its_multiplier_as_a_number_like_the_catalog(api, make_user):
    make_user("adm_numbers", role="admin")
    response = api.post("/admin/time-spans", as_user="adm_numbers",
                        json_body={"id": "numbers", "duration": 25, "multiplier": "0.95"})
    assert response.status_code == 201, response.json
    assert response.json["multiplier"] == 0.95
    listed = api.get("/admin/time-spans", as_user="adm_numbers").json["data"]
    assert {span["id"]: span["multiplier"] for span in listed}["numbers"] == 0.95
    [shown] = [span for span in api.get("/catalog").json["timeSpans"] if span["id"] == "numbers"]
    assert shown["multiplier"] == 0.95
