"""``JobBlueprint``: the Blueprint every job module uses, so every invocation of a schedule, a
queue consumer or a stream consumer runs in a story of its own (chalicelib/logs.py).

A job function's Lambda imports only its own module, never app.py, so an app-level middleware
would not reach it; the blueprint wraps each job function where it is declared instead:

* a fresh correlation id per invocation (the Lambda request id, the id of the function's own
  START/END/REPORT lines; a new one where there is none), so a scheduled run's log lines and
  the events it emits share one id; SQS consumers then set each record's id
  (``logs.per_sqs_record``), the outbox relay each event's;
* with tracing on for the stage, an X-Ray subsegment named after the function, annotated with
  that id (chalicelib/telemetry.py); off, the tracer is never imported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib import logs, telemetry

# Chalice's event handler kinds (what runs outside an HTTP request).
JOB_KINDS = frozenset(
    {
        "schedule",
        "on_sqs_message",
        "lambda_function",
        "on_s3_event",
        "on_sns_message",
        "on_cw_event",
        "on_kinesis_record",
        "on_dynamodb_record",
    }
)


def observed(name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` (a job function: ``(event)``, or ``(event, context)`` for a pure Lambda
    function) run under a fresh correlation id and, when the stage traces, a subsegment."""

    @functools.wraps(handler)
    def run(event: Any, *args: Any, **kwargs: Any) -> Any:
        context = args[0] if args else getattr(event, "context", None)
        with logs.correlated(getattr(context, "aws_request_id", None)), telemetry.traced(name):
            return handler(event, *args, **kwargs)

    return run


class JobBlueprint(Blueprint):
    """A Blueprint whose job functions run ``observed`` (routes are left as they are: the API
    sets the request's id in chalicelib/api.py)."""

    def _wrap_handler(self, handler_type: str, handler_name: str, user_handler: Any) -> Any:
        if handler_type in JOB_KINDS:
            user_handler = observed(handler_name, user_handler)
        return super()._wrap_handler(handler_type, handler_name, user_handler)
