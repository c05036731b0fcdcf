"""Which background workers the Chalice app asks for: its SQS consumers and schedules
(``app.event_sources``), and the stream consumers of ``chalicelib.jobs.STREAM_CONSUMERS``
with the event source mapping infra/resources.json gives each."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable
from typing import Any

from tools import local_env
from tools.local.schedules import ScheduleWorker
from tools.local.sqs import SqsWorker
from tools.local.streams import StreamWorker
from tools.local.worker import Worker, log


def _handler(app: Any, source: Any) -> Callable[[dict[str, Any], Any], Any]:
    """What Lambda would call: the module attribute named by the handler string (chalice's
    wrapper that takes ``(event, context)``), else the app's handler map entry."""
    module_name, _, attribute = str(getattr(source, "handler_string", "")).rpartition(".")
    if module_name:
        with contextlib.suppress(ImportError, AttributeError):
            handler = getattr(importlib.import_module(module_name), attribute)
            if callable(handler):
                return handler  # type: ignore[no-any-return]
    return app.handler_map[source.name]  # type: ignore[no-any-return]


def discover_workers(app: Any, config: Any, env: local_env.LocalEnv, stop: threading.Event) -> list[Worker]:
    from chalice.app import ScheduledEventConfig, SQSEventConfig

    from chalicelib.jobs import STREAM_CONSUMERS
    from tools.resources import resources_of, table_definitions

    def common(name: str, handler: Callable[..., Any]) -> dict[str, Any]:
        return {"stop": stop, "invoke": handler, "region": env.region,
                "context": lambda: local_env.lambda_context(name, config, env.region)}

    workers: list[Worker] = []
    for source in app.event_sources:
        handler = _handler(app, source)
        if isinstance(source, SQSEventConfig):
            queue = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
            workers.append(SqsWorker(source.name, queue, source.batch_size, **common(source.name, handler)))
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            expression = expression.to_string() if hasattr(expression, "to_string") else str(expression)
            try:
                workers.append(ScheduleWorker(source.name, expression, **common(source.name, handler)))
            except ValueError as exc:
                log(f"[schedule] {source.name} not run locally: {exc}")
        else:
            log(f"[runner] {source.name} ({type(source).__name__}) has no local trigger; not run")
    functions = {f.name: f for f in app.pure_lambda_functions}
    tables = table_definitions(env.prefix)
    mappings = {res["Properties"].get("EventSourceArn", {}).get("Fn::GetAtt", [None])[0]: res["Properties"]
                for res in resources_of("AWS::Lambda::EventSourceMapping").values()}
    for logical, function_name in STREAM_CONSUMERS.items():
        if function_name not in functions or logical not in tables:
            log(f"[runner] stream consumer {logical} -> {function_name}: unknown table or function; not run")
            continue
        handler = _handler(app, functions[function_name])
        workers.append(StreamWorker(function_name, tables[logical]["TableName"], mappings.get(logical),
                                    **common(function_name, handler)))
    untriggered = sorted(set(functions) - set(STREAM_CONSUMERS.values()))
    if untriggered:
        log(f"[runner] lambda functions without a local trigger: {', '.join(untriggered)}")
    return workers
