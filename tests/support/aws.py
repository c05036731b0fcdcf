"""One moto account per test process, with every resource of infra/resources.json created
once; each test starts from empty resources.

Creating the 14 tables, 5 queues and the bucket through boto3 costs 0.3-0.9 s, which was
most of the setup of every test that touches AWS. Here they are created on first use and
kept across tests; before each test (``MotoAccount.fresh``) their data is cleared in place,
straight in moto's backends: table items and stream records, queue messages (but the test
event S3 sends when its notifications are configured), bucket objects.
Every other moto service is reset as ``mock_aws`` would reset it. Resources a test created
are removed; if a test deleted or reconfigured one of ours, or something reset moto
meanwhile, the resources are created again. A test therefore sees exactly what a fresh
``mock_aws()`` plus ``create_all`` gives, whatever ran before it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.core.custom_responses_mock import reset_responses_mock
from moto.core.model_instances import reset_model_data
from moto.core.models import responses_mock
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import FakeKey, s3_backends
from moto.s3.utils import _VersionedKeyStore
from moto.sqs.models import sqs_backends

KEPT_SERVICES = frozenset({"dynamodb", "sqs", "s3"})


class MotoAccount:
    def __init__(self, prefix: str, region: str):
        self.prefix = prefix
        self.region = region
        self._session: Any = None  # one boto3 session: its service models are parsed once
        self._baseline: Any = None

    @contextmanager
    def fresh(self) -> Iterator[None]:
        """moto active, every resource present and empty, for the duration of the block."""
        mock = self.start()
        try:
            yield
        finally:
            mock.stop(remove_data=False)

    def start(self) -> Any:
        """Start moto with fresh resources; the caller stops the returned mock with
        ``stop(remove_data=False)``."""
        reset_responses_mock(responses_mock)  # start() adds moto's URL patterns again
        mock = mock_aws()
        mock.start(reset=False)
        try:
            self._clear()
            if self._baseline is None or self._fingerprint() != self._baseline:
                self._create()
        except BaseException:
            mock.stop(remove_data=False)
            raise
        return mock

    def _create(self) -> None:
        """An empty account with every resource: on first use, or when a test deleted or
        reconfigured one of them (or something reset moto meanwhile)."""
        from tools.resources import create_all

        if self._session is None:
            self._session = boto3.session.Session()
        self._reset_all()
        created = create_all(self.prefix, self._session, self.region)
        self._names = {kind: set(names) for kind, names in created.items()}
        # What creating them leaves in the queues (S3 sends a test event to the queue it is
        # configured to notify), put back by every clear.
        self._messages = {name: copy.deepcopy(queue._messages) for name, queue in self._sqs().queues.items()}
        self._baseline = self._fingerprint()

    # -- moto's backends -------------------------------------------------------------

    def _dynamodb(self) -> Any:
        return dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _sqs(self) -> Any:
        return sqs_backends[DEFAULT_ACCOUNT_ID][self.region]

    def _s3(self) -> Any:
        return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def _reset_all(self) -> None:
        BackendDict.reset()
        reset_model_data()

    def _clear(self) -> None:
        """Empty our resources in place, drop any other, reset every other service."""
        for backend_dict in list(BackendDict._instances):  # type: ignore[misc]
            if backend_dict.service_name not in KEPT_SERVICES:
                for account_backend in backend_dict.values():
                    account_backend.reset()
                backend_dict.clear()
                BackendDict._instances.remove(backend_dict)  # type: ignore[misc]
        reset_model_data()  # moto's registry of every model instance (it only grows)
        names = getattr(self, "_names", None)
        if names is None:
            return
        dynamodb = self._dynamodb()
        for name in list(dynamodb.tables):
            table = dynamodb.tables[name]
            if name not in names["tables"]:
                del dynamodb.tables[name]
                continue
            table.items.clear()
            if getattr(table, "stream_shard", None) is not None:
                table.stream_shard.items.clear()
        for attribute in ("backups", "table_imports", "table_exports", "resource_policies"):
            getattr(dynamodb, attribute).clear()
        sqs = self._sqs()
        for name in list(sqs.queues):
            queue = sqs.queues[name]
            if name not in names["queues"]:
                del sqs.queues[name]
                continue
            with queue._messages_lock:
                queue._messages = copy.deepcopy(self._messages.get(name, []))
                queue._pending_messages = set()
                queue.deleted_messages = set()
                queue.last_purged_at = None
        s3 = self._s3()
        for name in list(s3.buckets):
            bucket = s3.buckets[name]
            for key in bucket.keys.values():
                if isinstance(key, FakeKey):
                    key.dispose()
            for part in bucket.multiparts.values():
                part.dispose()
            if name not in names["buckets"]:
                del s3.buckets[name]
                s3_backends.bucket_accounts.pop(name, None)
                continue
            bucket.keys = _VersionedKeyStore()
            bucket.multiparts.clear()

    def _fingerprint(self) -> str:
        """What a test could change about our resources besides their data."""
        dynamodb, sqs, s3 = self._dynamodb(), self._sqs(), self._s3()
        tables = {name: [t.schema, t.attr, t.billing_mode, t.stream_specification, t.ttl,
                         [index.describe() for index in t.global_indexes],
                         [index.describe() for index in t.indexes]]
                  for name, t in dynamodb.tables.items()}
        queues = {name: {k: v for k, v in q.attributes.items() if not k.startswith("Approximate")}
                  for name, q in sqs.queues.items()}
        buckets = {name: [b.versioning_status, b.policy, [vars(rule) for rule in b.cors],
                          repr(vars(b.notification_configuration)) if b.notification_configuration else None,
                          len(b.rules), b.public_access_block is not None, b.encryption]
                   for name, b in s3.buckets.items()}
        return json.dumps([tables, queues, buckets], sort_keys=True, default=repr)
