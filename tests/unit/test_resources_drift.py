"""The PynamoDB models and infra/resources.json describe the same tables.

infra/resources.json is what CloudFormation deploys and what the local runner and the
tests create in moto; the models are what the code reads and writes. A key, index or
type that differs between them works locally against one and fails in the cloud (or the
other way round), so every difference is listed here, by model and table, both ways.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from chalice.utils import to_cfn_resource_name
from pynamodb.models import Model

from chalicelib.jobs import STREAM_CONSUMERS
from chalicelib.models.registry import ALL_MODELS
from tools.resources import load_template, resources_of, table_definitions

PREFIX = os.environ["RESOURCE_PREFIX"]
TABLES = table_definitions(PREFIX)  # logical id -> resolved properties

# A table's shape, as both sides can state it:
# {"key": {"HASH": "name:S", "RANGE": "name:S" | None},
#  "gsi": {index: {"HASH": ..., "RANGE": ..., "projection": "ALL"}}, "lsi": {...}}
Shape = dict[str, Any]


def _keys(key_schema: list[dict[str, str]], types: dict[str, str], where: str) -> dict[str, str | None]:
    keys: dict[str, str | None] = {"HASH": None, "RANGE": None}
    for element in key_schema:
        name = element["AttributeName"]
        keys[element["KeyType"]] = f"{name}:{types.get(name, f'<no AttributeDefinition for {name} in {where}>')}"
    return keys


def _projection(projection: dict[str, Any]) -> str:
    kind = projection.get("ProjectionType", "<none>")
    extra = sorted(projection.get("NonKeyAttributes", []))
    return f"{kind}{extra}" if extra else kind


def model_shape(model: type[Model]) -> Shape:
    schema = model._get_schema()
    types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    where = model.__name__

    def indexes(kind: str) -> dict[str, Any]:
        return {index["index_name"]: {**_keys(index["key_schema"], types, where),
                                      "projection": _projection(index["projection"])}
                for index in schema[kind]}

    return {"key": _keys(schema["key_schema"], types, where),
            "gsi": indexes("global_secondary_indexes"), "lsi": indexes("local_secondary_indexes")}


def template_shape(logical_id: str, props: dict[str, Any]) -> Shape:
    types = {d["AttributeName"]: d["AttributeType"] for d in props.get("AttributeDefinitions", [])}

    def indexes(kind: str) -> dict[str, Any]:
        return {index["IndexName"]: {**_keys(index["KeySchema"], types, logical_id),
                                     "projection": _projection(index.get("Projection", {}))}
                for index in props.get(kind, [])}

    return {"key": _keys(props["KeySchema"], types, logical_id),
            "gsi": indexes("GlobalSecondaryIndexes"), "lsi": indexes("LocalSecondaryIndexes")}


def differences(model: Shape, template: Shape) -> list[str]:
    found = []
    for key_type in ("HASH", "RANGE"):
        if model["key"][key_type] != template["key"][key_type]:
            found.append(f"table {key_type} key: model {model['key'][key_type]}, "
                         f"template {template['key'][key_type]}")
    for kind in ("gsi", "lsi"):
        for name in sorted(model[kind].keys() - template[kind].keys()):
            found.append(f"{kind.upper()} {name} is on the model but not in the template")
        for name in sorted(template[kind].keys() - model[kind].keys()):
            found.append(f"{kind.upper()} {name} is in the template but not on the model")
        for name in sorted(model[kind].keys() & template[kind].keys()):
            for field in ("HASH", "RANGE", "projection"):
                ours, theirs = model[kind][name][field], template[kind][name][field]
                if ours != theirs:
                    found.append(f"{kind.upper()} {name} {field}: model {ours}, template {theirs}")
    return found


def _tables_named(name: str) -> list[str]:
    return sorted(logical for logical, props in TABLES.items() if props["TableName"] == name)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_model_has_exactly_one_matching_template_table(model: type[Model]) -> None:
    name = model.Meta.table_name
    matches = _tables_named(name)
    assert len(matches) == 1, (
        f"{model.__name__}: expected exactly one AWS::DynamoDB::Table named {name!r} in infra/resources.json "
        f"(prefix {PREFIX!r}), found {matches or 'none'}; tables there: "
        f"{ {logical: props['TableName'] for logical, props in TABLES.items()} }")
    logical = matches[0]
    found = differences(model_shape(model), template_shape(logical, TABLES[logical]))
    assert not found, (f"{model.__name__} ({name}) and infra/resources.json {logical} disagree:\n  "
                       + "\n  ".join(found))


@pytest.mark.parametrize("logical", sorted(TABLES))
def test_template_table_defines_only_its_key_attributes(logical: str) -> None:
    """CloudFormation rejects an AttributeDefinition that no key schema uses, and a key
    attribute without one."""
    props = TABLES[logical]
    defined = [d["AttributeName"] for d in props.get("AttributeDefinitions", [])]
    used = {e["AttributeName"] for e in props["KeySchema"]}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        used |= {e["AttributeName"] for index in props.get(kind, []) for e in index["KeySchema"]}
    assert len(defined) == len(set(defined)), f"{logical}: AttributeDefinitions repeats a name: {defined}"
    assert set(defined) == used, (f"{logical}: AttributeDefinitions {sorted(defined)} must be exactly the key "
                                  f"attributes of the table and its indexes {sorted(used)}")
    for definition in props.get("AttributeDefinitions", []):
        assert definition["AttributeType"] in {"S", "N", "B"}, f"{logical}: {definition}"


def test_every_template_table_has_a_model() -> None:
    modelled = {model.Meta.table_name: model.__name__ for model in ALL_MODELS}
    orphans = sorted(f"{logical} ({props['TableName']})" for logical, props in TABLES.items()
                     if props["TableName"] not in modelled)
    assert not orphans, (f"infra/resources.json tables with no model in chalicelib/models/registry.py "
                         f"ALL_MODELS: {orphans}")


def test_models_are_listed_once() -> None:
    names = [model.Meta.table_name for model in ALL_MODELS]
    assert len(names) == len(set(names)), f"two models share a table name: {names}"


def _stream_mappings() -> dict[str, list[dict[str, Any]]]:
    """Table logical id -> the EventSourceMappings that read its stream."""
    mappings: dict[str, list[dict[str, Any]]] = {}
    for resource in resources_of("AWS::Lambda::EventSourceMapping", load_template()).values():
        source = resource["Properties"].get("EventSourceArn")
        if isinstance(source, dict) and "Fn::GetAtt" in source:
            table, attribute = source["Fn::GetAtt"]
            if attribute == "StreamArn":
                mappings.setdefault(table, []).append(resource["Properties"])
    return mappings


@pytest.mark.parametrize(("table", "function"), sorted(STREAM_CONSUMERS.items()))
def test_stream_consumer_is_wired_to_its_table_stream(table: str, function: str, chalice_app: Any) -> None:
    assert table in TABLES, (f"STREAM_CONSUMERS names {table!r}, which is not an AWS::DynamoDB::Table in "
                             f"infra/resources.json ({sorted(TABLES)})")
    assert TABLES[table].get("StreamSpecification"), f"{table} has no StreamSpecification, so no stream to consume"
    mappings = _stream_mappings().get(table, [])
    assert len(mappings) == 1, (f"expected one AWS::Lambda::EventSourceMapping from {table}'s StreamArn in "
                                f"infra/resources.json, found {len(mappings)}")
    # Chalice names a lambda_function's resource by CamelCasing its name.
    expected = {"Ref": to_cfn_resource_name(function)}
    assert mappings[0]["FunctionName"] == expected, (
        f"the mapping from {table}'s stream must invoke {expected} (the Chalice function {function!r}), "
        f"not {mappings[0]['FunctionName']}")
    registered = {f.name for f in chalice_app.pure_lambda_functions}
    assert function in registered, (f"STREAM_CONSUMERS names {function!r}, but the app registers no "
                                    f"lambda_function of that name ({sorted(registered)})")


def test_every_stream_mapping_is_a_declared_consumer() -> None:
    undeclared = sorted(set(_stream_mappings()) - set(STREAM_CONSUMERS))
    assert not undeclared, (f"infra/resources.json maps the streams of {undeclared} but "
                            f"chalicelib/jobs STREAM_CONSUMERS does not (the local runner would not poll them)")
