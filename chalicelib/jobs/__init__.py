"""Background work: schedules, queue consumers and stream consumers.

``STREAM_CONSUMERS`` maps a table's logical id in infra/resources.json to the Chalice
lambda function that consumes its stream; infra wires the event source mapping and the
local runner polls the stream, both from this one map.
"""

STREAM_CONSUMERS: dict[str, str] = {"OutboxTable": "outbox_relay"}
