"""``make dlq``: list the messages of every dead-letter queue, with why they failed, and
redrive them to the queue they came from.

    make dlq                                   # the local stack (make run), list only
    make dlq ARGS="--redrive"                  # ... and move every dead letter back
    make dlq ARGS="--redrive --queue notifications --limit 10"
    make dlq ARGS="--stage dev"                # a cloud stage, with your AWS credentials

The dead-letter queues are read from infra/resources.json (each queue's RedrivePolicy), so
a new queue is listed without changing this tool. For each message: its id, receive count,
first-sent time, attributes (eventType, eventId), the body's type, and the reason its
consumer recorded for the last failure (services/dead_letters.py; the same line is in the
consumer's log). Listing does not consume: messages are received with a short visibility
timeout and made visible again right after. Redriving sends each message back to its source queue with its
body and attributes, then deletes it from the dead-letter queue (consumers are idempotent,
so a redriven message that is then delivered twice does no harm).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from tools.resources import resources_of

LIST_VISIBILITY_S = 5  # long enough to page through a queue, short enough to stay redrivable


def dead_letter_queues(prefix: str) -> list[tuple[str, str]]:
    """(source queue, its dead-letter queue) names, from infra/resources.json."""
    queues = resources_of("AWS::SQS::Queue")
    pairs = []
    for props in (q["Properties"] for q in queues.values()):
        target = props.get("RedrivePolicy", {}).get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0]
        if target:
            pairs.append((_name(props["QueueName"], prefix), _name(queues[target]["Properties"]["QueueName"], prefix)))
    return sorted(pairs)


def _name(value: Any, prefix: str) -> str:
    text = value["Fn::Sub"] if isinstance(value, dict) else str(value)
    return text.replace("${ResourcePrefix}", prefix)


def _peek(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < limit:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, limit - len(seen)),
                                  VisibilityTimeout=LIST_VISIBILITY_S, WaitTimeSeconds=0,
                                  AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            break
        seen.update((m["MessageId"], m) for m in fresh)
    return list(seen.values())


def _release(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    """Make the listed messages visible again at once (listing leaves them as they were)."""
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for n, m in enumerate(messages[start:start + 10])])


def _describe(message: dict[str, Any], reason: str | None) -> str:
    attributes = message.get("Attributes", {})
    sent = datetime.fromtimestamp(int(attributes.get("SentTimestamp", "0")) / 1000, UTC).isoformat(timespec="seconds")
    custom = {k: v.get("StringValue") for k, v in (message.get("MessageAttributes") or {}).items()}
    try:
        body_type = json.loads(message["Body"]).get("type")
    except (ValueError, AttributeError):
        body_type = "(not JSON)"
    return (f"  {message['MessageId']}  received {attributes.get('ApproximateReceiveCount', '?')}x  sent {sent}"
            f"  type {custom.get('eventType') or body_type}  eventId {custom.get('eventId') or '-'}\n"
            f"    reason: {reason or 'not recorded (see the consumer log for this message id)'}")


def _redrive(sqs: Any, dlq_url: str, source_url: str, messages: list[dict[str, Any]]) -> int:
    moved = 0
    for start in range(0, len(messages), 10):
        chunk = messages[start:start + 10]
        entries = [{"Id": str(n), "MessageBody": m["Body"], **(
            {"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {})}
            for n, m in enumerate(chunk)]
        response = sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
        sent = [chunk[int(e["Id"])] for e in response.get("Successful", [])]
        if sent:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(sent)])
        moved += len(sent)
        for failed in response.get("Failed", []):
            print(f"    not redriven: {chunk[int(failed['Id'])]['MessageId']}: {failed.get('Message')}",
                  file=sys.stderr)
    return moved


def run(*, redrive: bool, queue: str | None, limit: int) -> int:
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.services import dead_letters

    prefix = get_settings().resource_prefix
    sqs = aws.client("sqs")
    total = 0
    for source, dlq in dead_letter_queues(prefix):
        if queue and queue not in (source, dlq, source.removeprefix(f"{prefix}-")):
            continue
        dlq_url = aws.queue_url(dlq)
        messages = _peek(sqs, dlq_url, limit)
        reasons = dead_letters.reasons([m["MessageId"] for m in messages]) if messages else {}
        print(f"{dlq} ({len(messages)} message{'s' if len(messages) != 1 else ''}, from {source})")
        for message in messages:
            print(_describe(message, reasons.get(message["MessageId"])))
        if redrive and messages:
            moved = _redrive(sqs, dlq_url, aws.queue_url(source), messages)
            print(f"  redrove {moved} to {source}")
        elif messages:
            _release(sqs, dlq_url, messages)
        total += len(messages)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make dlq", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=["dev", "prod"], help="a cloud stage (AWS credentials from the environment)")
    parser.add_argument("--aws-port", type=int, default=5000, help="the local stack's moto port (default 5000)")
    parser.add_argument("--redrive", action="store_true", help="move the listed messages back to their source queue")
    parser.add_argument("--queue", help="only this queue (e.g. notifications, email, media-uploads)")
    parser.add_argument("--limit", type=int, default=100, help="messages per queue (default 100)")
    args = parser.parse_args(argv)
    if args.stage:
        from tools.local_env import stage_environment

        for key, value in stage_environment(args.stage).items():
            os.environ.setdefault(key, value)  # secret references stay unresolved: the tool needs none
        if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
            print("error: set AWS_REGION (and AWS credentials) for the stage's account", file=sys.stderr)
            return 1
    else:
        from tools import local_env

        if not local_env.port_open(args.aws_port):
            print(f"no local stack on port {args.aws_port}: start it with `make run` (or pass --stage)",
                  file=sys.stderr)
            return 2
        local_env.configure(args.aws_port)
    run(redrive=args.redrive, queue=args.queue, limit=args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
