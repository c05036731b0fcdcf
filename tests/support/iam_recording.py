"""Record the AWS operations each function makes across the test suite, as the IAM
permissions they need (tools/iam), and check them against infra/iam/groups.json.

Which function makes a call: a context variable set around each function's entry.

* the API (``api_handler``): ``Chalice.__call__``, what chalice.test.Client's HTTP calls (and
  Lambda) invoke;
* a job: the handler Chalice wraps it in (``EventSourceHandler``), whether a test invokes it
  through ``Client.lambda_`` / ``Client.events`` or calls it directly;
* a job's work called by a test without the job around it: the service entry each job runs
  (``ENTRY_POINTS``; e.g. ``presence.expire_stale`` is ``reader_presence``, ``events.dispatch``
  is ``domain_events`` or ``payment_events`` by the event's queue). Inside a function these are
  the function's own calls (the outer function is kept).

Anything else (fixtures, seeding, assertions, the local runner's own calls: creating
resources, polling streams) is outside every function and not recorded. Nor is anything an
e2e test does in this process (its stack runs in another one), nor what only the local stage
does (``LOCAL_ONLY``: the mail viewer, moto's sender verification).

Every client is seen: a ``before-parameter-build`` handler is added to botocore's
``BUILTIN_HANDLERS``, which every botocore session registers when it is created (PynamoDB's
own session included; bench/counting.py counts calls the same way), so ``install`` runs before
the first session. Presigned URLs need the signer's permission too: a presigned GET is seen by
the same event, a presigned POST by wrapping the S3 client's ``generate_presigned_post``.

Per-container caches (``TtlCache``, queue URLs, the explore snapshot) hide a call from the
function that finds the value another function loaded in the same process; in the cloud its
own container would have loaded it. So what a cache's load needed is kept with the cache and
counted again for each function that reads it (``_replaying``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from tools import iam

_function: ContextVar[str | None] = ContextVar("iam_function", default=None)
_captures: ContextVar[tuple[set[tuple[str, str]], ...]] = ContextVar("iam_captures", default=())
_muted: ContextVar[bool] = ContextVar("iam_muted", default=False)
_watchers: list[list[tuple[str | None, str, str]]] = []  # watching(): every call seen, with its function
_lock = threading.Lock()
# function -> (action, resource) -> the test it was first seen in
RECORDED: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
_naming: iam.Naming | None = None
_E2E = "tests/e2e/"


def recorded() -> iam.Recorded:
    with _lock:
        found: iam.Recorded = {}
        for function, grants in RECORDED.items():
            for action, resource in grants:
                found.setdefault(function, {}).setdefault(resource, set()).add(action)
        return found


def seen_in() -> dict[tuple[str, str, str], str]:
    with _lock:
        return {
            (function, action, resource): test
            for function, grants in RECORDED.items()
            for (action, resource), test in grants.items()
        }


def merge(function_grants: list[list[str]]) -> None:
    """Add a worker's records (``export``'s rows)."""
    with _lock:
        for function, action, resource, test in function_grants:
            RECORDED[function].setdefault((action, resource), test)


def export() -> list[list[str]]:
    with _lock:
        return [
            [function, action, resource, test]
            for function, grants in RECORDED.items()
            for (action, resource), test in grants.items()
        ]


# --- who is calling -------------------------------------------------------------------------------


@contextlib.contextmanager
def running(function: str) -> Iterator[None]:
    """Calls in the block are ``function``'s, unless a function is running already (its
    calls are its own, whatever service it goes through)."""
    if _function.get() is not None:
        yield
        return
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]


def _observe(grants: list[tuple[str, str]]) -> None:
    if _muted.get():
        return
    for capture in _captures.get():
        capture.update(grants)
    function = _function.get()
    for watcher in _watchers:
        watcher.extend((function, action, resource) for action, resource in grants)
    if function is None or not grants:
        return
    test = _current_test()
    if test.startswith(_E2E):
        return
    with _lock:
        for grant in grants:
            RECORDED[function].setdefault(grant, test)


@contextlib.contextmanager
def watching() -> Iterator[list[tuple[str | None, str, str]]]:
    """Every (function or None, action, resource) seen during the block (tests of the recorder)."""
    seen: list[tuple[str | None, str, str]] = []
    _watchers.append(seen)
    try:
        yield seen
    finally:
        _watchers.remove(seen)


@contextlib.contextmanager
def _capturing() -> Iterator[set[tuple[str, str]]]:
    captured: set[tuple[str, str]] = set()
    token = _captures.set((*_captures.get(), captured))
    try:
        yield captured
    finally:
        _captures.reset(token)


def _replaying(load: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a cached accessor: what a call that loaded needed is kept (per positional
    arguments) and counted again for a function whose call found the value cached."""
    kept: dict[Any, set[tuple[str, str]]] = {}

    @functools.wraps(load)
    def accessor(*args: Any, **kwargs: Any) -> Any:
        with _capturing() as captured:
            value = load(*args, **kwargs)
        key: Any = args
        try:
            hash(key)
        except TypeError:
            key = repr(args)
        if captured:
            kept[key] = captured
        elif key in kept:
            _observe(sorted(kept[key]))
        return value

    for name in ("cache_clear", "cache_info"):  # an lru_cache's own handles, for its callers
        if hasattr(load, name):
            setattr(accessor, name, getattr(load, name))
    return accessor


# --- botocore ---------------------------------------------------------------------------------------


def _before_parameter_build(params: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
    # Must return None: botocore would otherwise use the returned value.
    if model is None or _naming is None:
        return
    if (context or {}).get("is_presign_request") and model.name == "CreateBucket":
        return  # a presigned POST's own bucket lookup: its object is recorded by _presigned_post
    try:
        grants = iam.permissions(model.service_model.service_name, model.name, params or {}, _naming)
    except (KeyError, TypeError, IndexError, AttributeError):
        grants = [(f"{model.service_model.service_name}:{model.name}", "<unreadable parameters>")]
    _observe(grants)


def _wrap_presigned_post(class_attributes: dict[str, Any], **_: Any) -> None:
    original = class_attributes.get("generate_presigned_post")
    if original is None or getattr(original, "_iam_recorded", False):
        return

    @functools.wraps(original)
    def generate_presigned_post(self: Any, Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
        if _naming is not None:
            _observe(iam.permissions("s3", "PutObject", {"Bucket": Bucket, "Key": Key}, _naming))
        return original(self, Bucket, Key, *args, **kwargs)

    generate_presigned_post._iam_recorded = True  # type: ignore[attr-defined]
    class_attributes["generate_presigned_post"] = generate_presigned_post


# --- functions ---------------------------------------------------------------------------------------


def _payment_or_domain(message: Any, *_: Any, **__: Any) -> str:
    from chalicelib.jobs.outbox import PAYMENT_EVENT_TYPES

    kind = message.get("type") if isinstance(message, dict) else None
    return "payment_events" if kind in PAYMENT_EVENT_TYPES else "domain_events"


# A job's work, as tests call it without the job: "module:attribute" -> its function (or a
# callable choosing it from the arguments). Each is what the job's handler calls.
ENTRY_POINTS: dict[str, str | Callable[..., str]] = {
    "chalicelib.services.outbox:stale_pending": "outbox_sweep",
    "chalicelib.services.outbox:relay": "outbox_sweep",
    "chalicelib.services.events:dispatch": _payment_or_domain,
    "chalicelib.services.notifications.email:send_queued": "email_delivery",
    "chalicelib.services.media:process_upload": "media_uploads",
    "chalicelib.services.presence:expire_stale": "reader_presence",
    "chalicelib.services.ledger_check:run": "ledger_check",
    "chalicelib.services.ledger_check:alert": "ledger_check",
    "chalicelib.services.readings:run_timers": "reading_timers",
    "chalicelib.services.statuses:expire_due": "status_expiry",
    "chalicelib.services.notifications.held:release_due": "release_held_notifications",
    "chalicelib.services.readings.reminders:run": "reading_reminders",
    "chalicelib.services.explore.freshness:rebuild_if_stale": "explore_refresh",
    "chalicelib.services.explore.freshness:rebuild": "explore_rebuild",
    "chalicelib.services.metrics.insights:run": "reader_insights",
    "chalicelib.services.metrics.quality_views:recheck_due": "reader_quality_recheck",
    "chalicelib.services.accounts:end_due": "suspension_expiry",
    "chalicelib.services.privacy:purge_due": "account_purge",
    "chalicelib.services.dead_letters:depths": "dead_letter_depths",
    "chalicelib.services.payouts.maturity:mature_due": "earnings_maturation",
    "chalicelib.services.payouts.scheduled:pay_due": "reader_payouts",
}
# Entries of ENTRY_POINTS and LOCAL_ONLY that no longer exist (renamed or moved): a full run
# reports them, so that a test calling one is not silently nobody's.
MISSING: list[str] = []


# What only the local stage and the tests do (settings.mail_viewer): never called in the cloud,
# so their calls are nobody's. "module:attribute" -> why.
LOCAL_ONLY: dict[str, str] = {
    "chalicelib.integrations.ses:verify_local_sender": "moto only: in the cloud the sender's domain is verified once",
    "chalicelib.services.notifications.mailbox:keep": "the local mail viewer's copy of an email",
    "chalicelib.services.notifications.mailbox:recent": "the local mail viewer's list",
    "chalicelib.services.notifications.mailbox:get": "the local mail viewer's message",
}


def _local_only(target: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(target)
    def local(*args: Any, **kwargs: Any) -> Any:
        token = _muted.set(True)
        try:
            return target(*args, **kwargs)
        finally:
            _muted.reset(token)

    return local


def _entry(target: Callable[..., Any], function: str | Callable[..., str]) -> Callable[..., Any]:
    @functools.wraps(target)
    def entry(*args: Any, **kwargs: Any) -> Any:
        if _function.get() is not None:
            return target(*args, **kwargs)
        name = function(*args, **kwargs) if callable(function) else function
        with running(name):
            return target(*args, **kwargs)

    return entry


def _install_functions() -> None:
    from chalice import app as chalice_app

    api_call = chalice_app.Chalice.__call__

    def chalice_call(self: Any, event: Any, context: Any) -> Any:
        with running(iam.API_FUNCTION):
            return api_call(self, event, context)

    chalice_app.Chalice.__call__ = chalice_call  # type: ignore[method-assign]

    wrap_handler = chalice_app.DecoratorAPI._wrap_handler

    def tagging_wrap_handler(self: Any, handler_type: str, handler_name: str, user_handler: Any) -> Any:
        wrapped = wrap_handler(self, handler_type, handler_name, user_handler)
        module = getattr(user_handler, "__module__", "") or ""
        # The app's functions only: what a test's own app runs is nobody's.
        if isinstance(wrapped, chalice_app.EventSourceHandler) and module.split(".")[0] in ("app", "chalicelib"):
            wrapped._iam_function = handler_name  # type: ignore[attr-defined]
        return wrapped

    chalice_app.DecoratorAPI._wrap_handler = tagging_wrap_handler  # type: ignore[method-assign]

    handler_call = chalice_app.EventSourceHandler.__call__

    def event_call(self: Any, event: Any, context: Any) -> Any:
        name = getattr(self, "_iam_function", None)
        if name is None:
            return handler_call(self, event, context)
        with running(name):
            return handler_call(self, event, context)

    chalice_app.EventSourceHandler.__call__ = event_call  # type: ignore[method-assign]

    for target, function in ENTRY_POINTS.items():
        _wrap(target, functools.partial(_entry, function=function))
    for target in LOCAL_ONLY:
        _wrap(target, _local_only)


def _wrap(target: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    module_name, attribute = target.split(":")
    try:
        module = importlib.import_module(module_name)
        found = getattr(module, attribute)
    except (ImportError, AttributeError):
        MISSING.append(target)
        return
    setattr(module, attribute, wrapper(found))


# Per-container caches of the code (and ``TtlCache.get``, every TtlCache's): "module:attribute".
# The payments gateway and the Pusher client read secrets when they are made.
CACHED = (
    "chalicelib.integrations.aws:queue_url",
    "chalicelib.integrations.payments:gateway",
    "chalicelib.integrations.pusher:_client",
    "chalicelib.services.explore.store:current",
)


def _install_caches() -> None:
    from chalicelib import ttl_cache

    ttl_cache.TtlCache.get = _replaying(ttl_cache.TtlCache.get)  # type: ignore[method-assign]
    for target in CACHED:
        _wrap(target, _replaying)


def _install_secrets() -> None:
    """In a cloud stage a secret is read from Secrets Manager (the stage's app secret, cached per
    container); the tests read the environment's values through the same accessor, so a
    function reading one needs GetSecretValue on the app secret."""
    from chalicelib import config

    read = getattr(config.Settings, "secret", None)
    if read is None or _naming is None:
        return
    needs = [("secretsmanager:GetSecretValue", "secret/app")]

    @functools.wraps(read)
    def secret(self: Any, name: str) -> Any:
        _observe(needs)
        return read(self, name)

    config.Settings.secret = secret  # type: ignore[method-assign]


def install(prefix: str, secret_id: str, sender: str) -> None:
    """Before any botocore session is created (so in tests/conftest.py, after the environment)."""
    global _naming
    if _naming is not None or os.environ.get("IAM_RECORDING") == "off":  # off: to rule it out when debugging
        return
    from email.utils import parseaddr

    from botocore import handlers

    _naming = iam.Naming(prefix=prefix, secret_id=secret_id, sender=parseaddr(sender)[1])
    handlers.BUILTIN_HANDLERS.extend(
        [("before-parameter-build", _before_parameter_build), ("creating-client-class.s3", _wrap_presigned_post)]
    )
    _install_caches()  # first: services import some of them by name
    _install_functions()
    _install_secrets()


# --- the check at the end of a full run --------------------------------------------------------------


class Plugin:
    """Workers send their records to the controller; the process that saw the whole run
    compares them with infra/iam/groups.json (and, with IAM_SNAPSHOT=write, rewrites the
    snapshot) when the run was the full suite."""

    def __init__(self, config: Any):
        self.config = config
        self.lines: list[str] = []
        self.deselected = 0

    def pytest_deselected(self, items: list[Any]) -> None:
        self.deselected += len(items)

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        merge(getattr(node, "workeroutput", {}).get("iam_records", []))
        self.deselected += getattr(node, "workeroutput", {}).get("iam_deselected", 0)

    def _full_run(self, session: Any) -> str | None:
        """None when this run is the whole suite, else why it is not."""
        import pytest

        option = self.config.option
        ignored = {os.path.normpath(str(p)) for p in (option.ignore or [])} | {
            os.path.normpath(str(p)) for p in (option.ignore_glob or [])
        }
        if self.config.args_source != pytest.Config.ArgsSource.TESTPATHS:
            return "tests were chosen by path"
        if (
            option.keyword
            or option.markexpr
            or option.deselect
            or getattr(option, "lf", False)
            or getattr(option, "stepwise", False)
        ):
            return "tests were selected (-k, -m, --deselect, --lf or --sw)"
        if ignored - {"tests/e2e", os.path.normpath(os.path.join(str(self.config.rootpath), "tests/e2e"))}:
            return f"paths were ignored: {sorted(ignored)}"
        if self.deselected:
            return f"{self.deselected} tests were deselected"
        if session.shouldstop or session.shouldfail:
            return "the run stopped early"
        return None

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        import pytest

        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["iam_records"] = export()
            workeroutput["iam_deselected"] = self.deselected
            return
        dump = os.environ.get("IAM_RECORD_DUMP")  # any run: the raw records, for a look at them
        if dump:
            import json

            with open(dump, "w") as f:
                json.dump(sorted(export()), f, indent=0)
        partial = self._full_run(session)
        if partial is not None and os.environ.get("IAM_CHECK") != "always":
            return
        if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            self.lines.append(f"IAM check skipped: the run ended with {exitstatus!r}")
            return
        failed = exitstatus == pytest.ExitCode.TESTS_FAILED or partial is not None  # IAM_CHECK=always on a part
        functions = recorded()
        if os.environ.get("IAM_SNAPSHOT") == "write":
            if failed:
                self.lines.append(f"IAM: infra/iam/recorded.json not rewritten: {partial or 'tests failed'}")
            else:
                iam.write_snapshot(functions)
                self.lines.append(f"IAM: infra/iam/recorded.json rewritten ({len(functions)} functions)")
        comparison = iam.compare(functions, iam.load_groups(), seen_in=seen_in(), check_unused=not failed)
        comparison.unknown += [
            f"tests/support/iam_recording.py names {target}, which no longer exists" for target in MISSING
        ]
        if not comparison.ok:
            self.lines += [
                "IAM: the AWS operations the functions made and infra/iam/groups.json disagree (tools/iam):",
                *(f"  {line}" for line in comparison.lines()),
            ]
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        if failed:
            why = partial or "tests failed"
            self.lines.append(f"IAM: every recorded operation is granted (unused grants not checked: {why})")
            return
        stale = not iam.SNAPSHOT_FILE.exists() or functions != iam.load_snapshot()
        self.lines.append(
            f"IAM: each of {len(functions)} functions made only operations its group grants, and "
            f"every grant was used"
            + (" (infra/iam/recorded.json differs from this run: `make iam-snapshot`)" if stale else "")
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.lines:
            terminalreporter.write_line(line)
