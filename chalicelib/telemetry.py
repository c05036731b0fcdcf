"""Metrics (CloudWatch Embedded Metric Format, through powertools) and the optional tracer.

Every metric is in the namespace ``Auralumic`` with the dimensions ``service`` (``auralumic``)
and ``stage`` (the stage's resource prefix, e.g. ``auralumic-dev``: the one name the code and
infra/resources.json both know), plus its own. An emission is one JSON line on stdout, which
CloudWatch Logs turns into metrics: no network call, nothing to flush at the end of an
invocation, and the line carries the correlation id (chalicelib/logs.py) for Logs Insights.

The lines are printed only inside Lambda (``AWS_LAMBDA_FUNCTION_NAME`` is set) and unless
``POWERTOOLS_METRICS_DISABLED`` is true; elsewhere (``make run``, tests) nothing is built
unless a listener asks for the documents (``capture``), so the local terminal stays readable.

What is measured (infra/resources.json charts and alarms on these names):

==================  =========================  ===============================================
metric              own dimensions             emitted by
==================  =========================  ===============================================
Requests            routeClass                 every declared route (chalicelib/api.py)
ClientErrors        routeClass                 ... answering 4xx
ServerErrors        routeClass                 ... answering 5xx (the 5xx rate alarm)
WebhookFailures     webhook (stripe, clerk)    a webhook answered 4xx/5xx (rejected or failed)
CreditsGranted      source                     paid credits granted (checkout, invoice)
ReadingTransitions  action, state              a reading moved (booking and every step)
NotificationLatency channel                    event time -> in-app/push delivery, email sent
DeadLetterMessages  queue                      the dead_letter_depths job (every 5 minutes)
==================  =========================  ===============================================

Requests/ClientErrors/ServerErrors, WebhookFailures and CreditsGranted are also emitted
without their own dimension (the totals the alarms read).

The tracer (X-Ray, ~230 ms of imports) is built only when the stage enables it (``TRACING``;
see ``tracing_enabled``); with it off nothing of it is imported.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from chalicelib import logs

NAMESPACE = "Auralumic"
SERVICE = "auralumic"
COUNT = "Count"
MILLISECONDS = "Milliseconds"

Document = dict[str, Any]
_listeners: list[Callable[[Document], None]] = []
_listeners_lock = threading.Lock()


def emit(
    metrics: Mapping[str, tuple[float, str]], dimensions: Mapping[str, str] | None = None, *, totals: bool = False
) -> None:
    """One EMF document: ``metrics`` (name -> (value, unit)) with ``dimensions`` (and, with
    ``totals``, the same metrics without them as well)."""
    printing = _printing()
    if not printing and not _listeners:
        return
    from aws_lambda_powertools.metrics import EphemeralMetrics  # ~2 ms, only when measured

    base = {"service": SERVICE, "stage": _stage()}
    own = {name: str(value) for name, value in (dimensions or {}).items() if str(value).strip()}
    recorder = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    if own and totals:
        recorder.set_default_dimensions(**base)
        recorder.add_dimensions(**own)
    else:
        recorder.set_default_dimensions(**base, **own)
    for name, (value, unit) in metrics.items():
        recorder.add_metric(name=name, unit=unit, value=value)
    correlation = logs.correlation_id()
    if correlation:
        recorder.add_metadata(key="correlation_id", value=correlation)
    document: Document = dict(recorder.serialize_metric_set())
    if printing:
        print(json.dumps(document, separators=(",", ":")), flush=True)
    for listener in list(_listeners):
        listener(document)


@contextmanager
def capture() -> Iterator[list[Document]]:
    """The documents emitted inside (any thread), for tests and tools."""
    documents: list[Document] = []
    with _listeners_lock:
        _listeners.append(documents.append)
    try:
        yield documents
    finally:
        with _listeners_lock:
            _listeners.remove(documents.append)


def _printing() -> bool:
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return False
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() not in ("true", "1")


def _stage() -> str:
    from chalicelib.config import get_settings

    return get_settings().resource_prefix


# --- what the app measures ----------------------------------------------------------------


def route_class(tags: tuple[str, ...] | list[str], path: str) -> str:
    """A declared route's class: its first tag ("readings", "admin", "webhooks"...), else the
    first segment of its path; a few dozen values, never one per path."""
    name = tags[0] if tags else (path.strip("/").split("/", 1)[0] or "root")
    return name.strip().lower().replace(" ", "_")


def request_started(request_id: str) -> None:
    """An API request: its id is the correlation id of everything it logs and emits; with
    tracing on, the tracer is built (once per container) so its AWS calls are traced."""
    logs.set_correlation_id(request_id)
    if tracing_enabled():
        tracer()


def request_done(tags: tuple[str, ...] | list[str], path: str, status: int) -> None:
    """Requests, ClientErrors and ServerErrors of the route's class (and in total); a webhook
    answered with an error is also a WebhookFailures. The end of the request's story."""
    klass = route_class(tags, path)
    client_error, server_error = int(400 <= status < 500), int(status >= 500)
    emit(
        {"Requests": (1, COUNT), "ClientErrors": (client_error, COUNT), "ServerErrors": (server_error, COUNT)},
        {"routeClass": klass},
        totals=True,
    )
    if klass == "webhooks" and (client_error or server_error):
        emit({"WebhookFailures": (1, COUNT)}, {"webhook": path.rstrip("/").rsplit("/", 1)[-1]}, totals=True)
    logs.set_correlation_id(None)  # the request's story ends with its answer


def credits_granted(credits: int, source: str) -> None:
    emit({"CreditsGranted": (credits, COUNT)}, {"source": source}, totals=True)


def reading_transition(action: str, state: str) -> None:
    emit({"ReadingTransitions": (1, COUNT)}, {"action": action, "state": state})


def notification_latency(channel: str, occurred_at: str, now: datetime) -> None:
    """From the event's time to ``now`` (a delivery); nothing for a time that does not parse."""
    try:
        occurred = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
        latency_ms = max(0.0, (now - occurred).total_seconds() * 1000)
    except (TypeError, ValueError):
        return
    emit({"NotificationLatency": (round(latency_ms), MILLISECONDS)}, {"channel": channel})


def dead_letter_messages(queue: str, depth: int) -> None:
    emit({"DeadLetterMessages": (depth, COUNT)}, {"queue": queue})


# --- tracing ------------------------------------------------------------------------------


def tracing_enabled() -> bool:
    """The stage traces (``TRACING=true``, with ``xray: true`` in its .chalice/config.json),
    unless powertools' own switch says otherwise."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("true", "1"):
        return False
    from chalicelib.config import get_settings

    return get_settings().tracing


@functools.cache
def tracer() -> Any:
    """The powertools Tracer (patches boto3 and botocore: every AWS call is a subsegment).
    Call only when ``tracing_enabled()``: its imports cost ~230 ms of cold start."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@contextmanager
def traced(name: str) -> Iterator[None]:
    """A subsegment named ``name`` annotated with the correlation id, when tracing is on;
    nothing at all (no import) when it is off."""
    if not tracing_enabled():
        yield
        return
    with tracer().provider.in_subsegment(f"## {name}") as subsegment:
        correlation = logs.correlation_id()
        if correlation:
            subsegment.put_annotation(key="correlation_id", value=correlation)
        yield
