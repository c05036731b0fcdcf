"""tools/strict_moto.py pins moto's DynamoDB to DynamoDB's guarantees (checked against moto
5.2.5): each request atomic with respect to the others, and a cancelled TransactWriteItems
undoing only its own writes, in place (the table object, its stream and other requests'
writes survive; the cancelled writes leave no stream record).

moto's own rollback deep-copies every touched table before the transaction; the tables
here hold a few thousand filler items so that copy takes long enough for the other threads
to run inside it, which is what made the races of issue 10 show up. Without ``install()``
(or after a moto upgrade that changes these internals) these tests fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from tests.support.threads import all_at_once
from tools import strict_moto

REGION = "us-east-1"
TABLE = "strict-moto"
FILLER = 3000
THREADS = 16


@pytest.fixture()
def dynamodb() -> Iterator[Any]:
    strict_moto.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        backend_table = _backend_table()
        for n in range(FILLER):  # straight into the backend: fast, and no stream records
            backend_table.put_item({"pk": {"S": f"filler-{n}"}, "n": {"N": str(n)}}, overwrite=True)
        backend_table.stream_shard.items.clear()
        yield client


def _backend_table() -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[TABLE]


def _cancelled(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError as error:
        assert error.response["Error"]["Code"] == "TransactionCanceledException", error.response
        return True
    return False


def _put(pk: str, **extra: dict[str, str]) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, **extra}}}


def _fails() -> dict[str, Any]:
    """A condition that never holds: the transaction carrying it is cancelled."""
    return {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "filler-0"}},
                               "ConditionExpression": "attribute_not_exists(pk)"}}


def _stream(client: Any) -> tuple[Any, str]:
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
    return streams, iterator["ShardIterator"]


def _stream_keys(streams: Any, iterator: str) -> list[str]:
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in records]


def test_install_is_idempotent() -> None:
    strict_moto.install()
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    patched = (DynamoDBBackend.transact_write_items, DynamoHandler.call_action)
    strict_moto.install()
    assert (DynamoDBBackend.transact_write_items, DynamoHandler.call_action) == patched


def test_concurrent_conditional_puts_of_one_key_let_exactly_one_succeed(dynamodb: Any) -> None:
    def claim(n: int) -> bool:
        put = _put("claimed", owner={"N": str(n)})
        put["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
        return not _cancelled(lambda: dynamodb.transact_write_items(TransactItems=[put]))

    for _ in range(3):
        dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "claimed"}})
        assert sum(all_at_once(THREADS, claim)) == 1


def test_concurrent_conditional_transfers_never_overdraw_and_conserve_the_sum(dynamodb: Any) -> None:
    start, amount = 100, 10
    for pk, balance in (("from", start), ("to", 0)):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "balance": {"N": str(balance)}})

    def move(_: int) -> bool:
        debit = {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "from"}},
                            "UpdateExpression": "SET balance = balance - :a",
                            "ConditionExpression": "balance >= :a",
                            "ExpressionAttributeValues": {":a": {"N": str(amount)}}}}
        credit = {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "to"}},
                             "UpdateExpression": "SET balance = balance + :a",
                             "ExpressionAttributeValues": {":a": {"N": str(amount)}}}}
        return not _cancelled(lambda: dynamodb.transact_write_items(TransactItems=[debit, credit]))

    succeeded = sum(all_at_once(THREADS * 2, move))

    balances = {pk: int(dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": pk}})["Item"]["balance"]["N"])
                for pk in ("from", "to")}
    assert succeeded == start // amount
    assert balances == {"from": 0, "to": start}


def test_a_cancelled_transaction_keeps_other_writes_the_table_and_its_stream(dynamodb: Any) -> None:
    table = _backend_table()
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "before"}})
    streams, iterator = _stream(dynamodb)

    def write_or_cancel(n: int) -> bool:
        if n % 2:
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"concurrent-{n}"}})
            return True
        return _cancelled(lambda: dynamodb.transact_write_items(
            TransactItems=[_put(f"cancelled-{n}"), _fails()]))

    assert all(all_at_once(THREADS, write_or_cancel))

    assert _backend_table() is table
    items = {item["pk"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]}
    written = {f"concurrent-{n}" for n in range(1, THREADS, 2)}
    assert {"before", *written} <= items
    assert not {pk for pk in items if pk.startswith("cancelled-")}
    assert len(items) == FILLER + 1 + len(written)
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})
    assert sorted(_stream_keys(streams, iterator)) == sorted([*written, "after"])


def test_a_cancelled_transaction_leaves_no_stream_record(dynamodb: Any) -> None:
    streams, iterator = _stream(dynamodb)
    update = {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "filler-1"}},
                         "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "-1"}}}}

    assert _cancelled(lambda: dynamodb.transact_write_items(TransactItems=[_put("ghost"), update, _fails()]))
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "marker"}})

    assert _stream_keys(streams, iterator) == ["marker"]
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "ghost"}})
    filler = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "filler-1"}})["Item"]
    assert filler["n"] == {"N": "1"}


def test_a_transactional_read_never_sees_half_a_transaction(dynamodb: Any) -> None:
    total = 1000
    for pk in ("left", "right"):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "balance": {"N": str(total // 2)}})
    keys = [{"Get": {"TableName": TABLE, "Key": {"pk": {"S": pk}}}} for pk in ("left", "right")]

    def shift(source: str, target: str) -> dict[str, Any]:
        return {"TransactItems": [
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": pk}},
                        "UpdateExpression": f"SET balance = balance {sign} :a",
                        "ExpressionAttributeValues": {":a": {"N": "1"}}}}
            for pk, sign in ((source, "-"), (target, "+"))]}

    def write_or_read(n: int) -> set[int]:
        if n % 2:
            for _ in range(20):
                dynamodb.transact_write_items(**shift("left", "right"))
                dynamodb.transact_write_items(**shift("right", "left"))
            return set()
        sums = set()
        for _ in range(40):
            items = dynamodb.transact_get_items(TransactItems=keys)["Responses"]
            sums.add(sum(int(item["Item"]["balance"]["N"]) for item in items))
        return sums

    seen = set().union(*all_at_once(8, write_or_read))
    assert seen == {total}
