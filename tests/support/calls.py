"""Count the AWS calls a block of code makes (DynamoDB through every PynamoDB model, S3
through the app's client), with botocore ``before-call`` hooks on the clients themselves.

``aws_calls()`` records (service, operation) pairs; ``dynamodb_calls()`` only the names of
the DynamoDB operations (the one-call targets of README's figures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


def _clients() -> list[Any]:
    from chalicelib.integrations import s3
    from chalicelib.models.explore import ExploreState
    from chalicelib.models.registry import ALL_MODELS

    models = [*ALL_MODELS, ExploreState]  # ExploreState lives in the catalog table, outside the registry
    clients = {id(client): client for client in (model._get_connection().connection.client for model in models)}
    clients[id(s3._client())] = s3._client()
    return list(clients.values())


@contextmanager
def _recorded(entry: Callable[[str, str], T | None]) -> Iterator[list[T]]:
    """Every ``entry(service, operation)`` that is not None, for the calls the block makes, in order."""
    seen: list[T] = []

    def record(model: Any = None, **_: Any) -> None:  # must return None: anything else replaces the call
        kept = entry(model.service_model.service_name, model.name)
        if kept is not None:
            seen.append(kept)

    clients = _clients()
    for client in clients:
        client.meta.events.register("before-call", record)
    try:
        yield seen
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", record)


@contextmanager
def aws_calls() -> Iterator[list[tuple[str, str]]]:
    """Every (service, operation) the block calls, in order."""
    with _recorded(lambda service, operation: (service, operation)) as seen:
        yield seen


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The name of every DynamoDB operation the block calls (on any model's client), in order."""
    with _recorded(lambda service, operation: operation if service == "dynamodb" else None) as seen:
        yield seen
