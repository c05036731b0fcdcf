"""Count (and time) AWS API calls made by both boto3 and PynamoDB, with botocore event hooks.

PynamoDB makes its own botocore session (``botocore.session.get_session()``), so a hook
registered on boto3's default session would miss it. Every botocore session, however,
registers ``botocore.handlers.BUILTIN_HANDLERS`` when it is created (moto hooks in the
same way), so handlers appended there see every client made afterwards, whoever makes it.

* ``before-call`` fires once per API call (retries are not counted again);
* ``after-call`` fires once the response is parsed (also for error responses), so the time
  between the two is what the call cost: botocore serialisation, moto's emulation, parsing.

:func:`install` must therefore run before the first botocore session is created, i.e.
before any request reaches pynamodb or ``chalicelib.integrations.aws``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recording:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation) -> calls
    aws_ns: int = 0  # time spent inside AWS calls
    _started: list[int] = field(default_factory=list)

    @property
    def aws_ms(self) -> float:
        return self.aws_ns / 1e6


_installed = False
_recording: Recording | None = None


def _before_call(model: Any = None, **_: Any) -> None:
    # Must return None: a non-None return from a before-call handler replaces the call.
    if _recording is not None and model is not None:
        _recording.calls[(model.service_model.service_name, model.name)] += 1
        _recording._started.append(time.perf_counter_ns())


def _after_call(**_: Any) -> None:
    if _recording is not None and _recording._started:
        _recording.aws_ns += time.perf_counter_ns() - _recording._started.pop()


def install() -> None:
    global _installed
    if _installed:
        return
    from botocore import handlers

    handlers.BUILTIN_HANDLERS.extend([("before-call", _before_call), ("after-call", _after_call)])
    _installed = True


def start() -> None:
    """Begin recording calls from any client."""
    global _recording
    _recording = Recording()


def stop() -> Recording:
    """Stop recording and return what happened since :func:`start`."""
    global _recording
    recording, _recording = _recording or Recording(), None
    return recording
