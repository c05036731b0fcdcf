"""moto's DynamoDB made as strict as DynamoDB for what the app relies on.

Checked against moto 5.2.5. Two differences from DynamoDB are removed:

1. moto serves requests from several threads (``ThreadedMotoServer``, or the app's own
   threads in-process) and its DynamoDB backend takes no lock: ``TransactWriteItems`` checks
   conditions and applies writes interleaved with other requests, so two conditional puts
   of one key can both succeed. Here every DynamoDB and DynamoDB Streams request runs under
   one process-wide re-entrant lock, so each request is atomic with respect to the others
   and no reader sees a half-applied transaction.
2. A cancelled ``TransactWriteItems`` is rolled back by moto by putting back a deep copy of
   every table it touched. That erases the writes other requests made meanwhile and leaves
   stream readers on the replaced table's shard (the relay stalls). Here the backup is the
   live table itself and the transaction undoes only its own writes, in place: each
   touched item gets its previous value back and the stream records it appended are
   dropped, so a cancelled transaction leaves no stream record.

``install()`` is idempotent; call it before the moto server starts or ``mock_aws`` is used.
tests/unit/test_strict_moto.py pins both behaviours: it fails if a moto upgrade changes them.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

CHECKED_MOTO_VERSION = "5.2.5"

_LOCK = threading.RLock()
_MARK = "_strict_moto"


def install() -> None:
    """Patch moto in this process (idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, _MARK, False):
        return
    transact = backend.transact_write_items
    # The internals this relies on; a moto upgrade that changes them must be looked at again.
    _require(all(name in transact.__code__.co_names for name in ("copy", "deepcopy", "tables")),
             "DynamoDBBackend.transact_write_items no longer backs tables up with copy.deepcopy")
    _require(models.copy is copy, "moto.dynamodb.models no longer imports the copy module")
    _require(all(hasattr(backend, name) for name in ("get_table", "get_keys_value")),
             "DynamoDBBackend.get_table / get_keys_value are gone")
    _require(hasattr(Table, "get_item") and {"items", "hash_key_attr", "range_key_attr", "stream_shard"}
             <= set(Table.__init__.__code__.co_names),
             "Table.get_item / items / hash_key_attr / range_key_attr / stream_shard are gone")
    _require("items" in StreamShard.__init__.__code__.co_names, "StreamShard.items is gone")

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _locked(handler.call_action)  # type: ignore[method-assign]
    backend.transact_write_items = _undo_own_writes_on_failure(transact)  # type: ignore[method-assign]


def _require(condition: bool, what: str) -> None:
    if not condition:
        from moto import __version__

        raise RuntimeError(f"tools/strict_moto.py was checked against moto {CHECKED_MOTO_VERSION} and moto "
                           f"{__version__} is installed: {what}. Review the adaptation for this version.")


def _locked(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(call_action)
    def call_action_atomically(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    return call_action_atomically


class _LiveTables:
    """Stands in for the ``copy`` module in moto.dynamodb.models during a transaction: the
    "backup" of a table is the table itself, so moto's rollback puts back the same object.
    Anything else (update_item copies the old item for its stream record) is copied."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _undo_own_writes_on_failure(transact: Callable[..., None]) -> Callable[..., None]:
    from moto.dynamodb import models

    @functools.wraps(transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            undo = _undo_log(self, transact_items)
            models.copy = _LiveTables  # type: ignore[assignment]
            try:
                transact(self, transact_items)
            except BaseException:
                for rollback in reversed(undo):
                    rollback()
                raise
            finally:
                models.copy = copy

    setattr(transact_write_items, _MARK, True)
    return transact_write_items


def _undo_log(backend: Any, transact_items: list[dict[str, Any]]) -> list[Callable[[], None]]:
    """Closures that restore, in place, each item the transaction may write and the length of
    each touched table's stream. Items moto will refuse (unknown table, bad key) are skipped:
    moto writes nothing for them."""
    undo: list[Callable[[], None]] = []
    shards: dict[int, Any] = {}
    for transact_item in transact_items:
        for op_type, op in transact_item.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key")
            if op_type == "Put":
                item = op.get("Item", {})
                key = {name: item[name] for name in (table.hash_key_attr, table.range_key_attr) if name in item}
            try:
                hash_key, range_key = backend.get_keys_value(table, key or {})
            except Exception:  # noqa: BLE001 - moto rejects this item itself and writes nothing
                continue
            undo.append(_restore_item(table, hash_key, range_key))
            if table.stream_shard is not None:
                shards.setdefault(id(table.stream_shard), table.stream_shard)
    return undo + [functools.partial(_truncate, shard, len(shard.items)) for shard in shards.values()]


def _restore_item(table: Any, hash_key: Any, range_key: Any) -> Callable[[], None]:
    before = copy.deepcopy(table.get_item(hash_key, range_key))  # update_item edits in place

    def restore() -> None:
        items = table.items[hash_key] if range_key is not None else table.items
        slot = range_key if range_key is not None else hash_key
        if before is None:
            items.pop(slot, None)
        else:
            items[slot] = before

    return restore


def _truncate(shard: Any, length: int) -> None:
    del shard.items[length:]
