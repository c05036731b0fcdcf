from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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


def plain(value: Any) -> Any:
    """A stored map/list as plain JSON-ready values: nested maps as dicts, DynamoDB's
    Decimals as int (when whole) or float."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
