from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.connection import Connection

from chalicelib.config import get_settings


def table_name(short_name: str) -> str:
    """``<prefix>-<short_name>``: the name infra/resources.json gives the same table."""
    return get_settings().table_name(short_name)


def region() -> str:
    return get_settings().region


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO-8601 with a Z, millisecond precision: sorts as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_connection: Connection | None = None


def connection() -> Connection:
    """One PynamoDB connection per container, for TransactWrite/TransactGet."""
    global _connection
    if _connection is None:
        _connection = Connection(region=get_settings().region)
    return _connection
