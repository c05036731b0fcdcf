"""Queue consumers (``on_sqs_message``): long-poll the queue, invoke the handler with a
Lambda SQS event, delete every record not listed in ``batchItemFailures``."""

from __future__ import annotations

import base64
from typing import Any

from tools.local.worker import Worker, log, one_line


class SqsWorker(Worker):
    kind = "sqs"
    idle_s = 0.0  # the receive itself long-polls

    def __init__(self, name: str, queue: str, batch_size: int, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.queue = queue
        self.batch_size = max(1, min(int(batch_size or 10), 10))
        self.sqs: Any = None
        self.queue_url: str | None = None
        self.queue_arn = ""

    def step(self) -> bool:
        if self.sqs is None:
            self.sqs = self._client("sqs")  # created in the worker's thread, off the startup path
        if self.queue_url is None:
            self.queue_url = self.sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
            self.queue_arn = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=1,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not received or self.stop_event.is_set():
            return False  # a message received while stopping becomes visible again later
        event = {"Records": [self._record(message) for message in received]}
        try:
            result = self.invoke(event, self.context())
        except Exception as exc:  # noqa: BLE001 - like Lambda: the whole batch returns to the queue
            log(f"[sqs] {self.job}: batch of {len(received)} failed, left on the queue: {one_line(exc)}")
            return False
        failed = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", []) or []} \
            if isinstance(result, dict) else set()
        done = [m for m in received if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])
        log(f"[sqs] {self.job}: {len(received)} message(s), {len(done)} done, {len(failed)} returned to the queue")
        return True

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {}
        for name, value in (message.get("MessageAttributes") or {}).items():
            entry: dict[str, Any] = {"dataType": value.get("DataType"), "stringListValues": [],
                                     "binaryListValues": []}
            if "StringValue" in value:
                entry["stringValue"] = value["StringValue"]
            if "BinaryValue" in value:
                entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
            attributes[name] = entry
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record
