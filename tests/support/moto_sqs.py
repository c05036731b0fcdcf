"""moto's SQS without its quadratic cost: same answers, one clock reading per scan.

moto 5.2.5 computes every attribute of a queue (``Queue.attributes``: three scans of all its
messages, each message reading the clock twice) for every message sent, and three times for
every message received (``is_message_valid_based_on_retention_period`` asks for the whole
attribute set to read one value). Sending and receiving n messages costs O(n²) clock
readings: the 1,200 emails of tests/jobs/test_fanout.py took over a minute in moto alone.

``install()`` (tests only; idempotent) keeps moto's semantics and removes the waste: the
scans read the clock once each, and the retention check reads the one attribute it needs.
It fails loudly if a moto upgrade changes the internals it relies on.
"""

from __future__ import annotations

import functools
from typing import Any

CHECKED_MOTO_VERSION = "5.2.5"
_MARK = "_fast_moto_sqs"


def install() -> None:
    from moto.core.utils import unix_time, unix_time_millis
    from moto.sqs.models import Message, Queue, SQSBackend

    if getattr(SQSBackend.is_message_valid_based_on_retention_period, _MARK, False):
        return
    sample = Message("m", "body")
    if not (hasattr(sample, "visible_at") and hasattr(sample, "delayed_until")
            and isinstance(getattr(Queue, "messages", None), property)
            and "MessageRetentionPeriod" in Queue.BASE_ATTRIBUTES
            and "get_queue_attributes" in SQSBackend.is_message_valid_based_on_retention_period.__code__.co_names):
        from moto import __version__

        raise RuntimeError(f"tests/support/moto_sqs.py was checked against moto {CHECKED_MOTO_VERSION} and moto "
                           f"{__version__} is installed: review it (Message.visible_at/delayed_until, "
                           "Queue.messages, the retention check).")

    # Message.visible: now > visible_at; Message.delayed: now < delayed_until.
    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    def number(self: Any) -> int:
        return len(self.messages)

    Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_delayed = property(delayed)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_not_visible = property(not_visible)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages = property(number)  # type: ignore[method-assign,assignment]

    original = SQSBackend.is_message_valid_based_on_retention_period

    @functools.wraps(original)
    def within_retention(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = self.get_queue(queue_name).message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    setattr(within_retention, _MARK, True)
    SQSBackend.is_message_valid_based_on_retention_period = within_retention  # type: ignore[method-assign]
