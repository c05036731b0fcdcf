"""Scaffold for property-based state tests over the HTTP API (hypothesis).

Subclass ``ApiStateMachine``, add ``@rule``s that call ``self.api`` as different users,
keep a model of what *should* be true, and assert it in ``@invariant``s. One moto account
(with every resource) serves all examples of a run, for speed; each example gets its own
namespace, so ``self.user("ana")`` is a new user in every example and examples stay
independent. Model anything global (e.g. the ledger total) per namespace. The credits and
readings state machines build on this.

    class Balances(ApiStateMachine):
        @rule(amount=st.integers(1, 50))
        def grant(self, amount): ...

        @invariant()
        def ledger_sums_to_zero(self): ...

    TestBalances = Balances.TestCase
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine

from tests.conftest import ISSUER_KEYS, MOTO, Api

# The "state" profile (tests/state/conftest.py) sized for the simplest machines; the ledger and
# readings machines set their own examples and steps on top of it.
STATE_SETTINGS = settings(settings.get_profile("state"), max_examples=20, stateful_step_count=15)


class ApiStateMachine(RuleBasedStateMachine):
    """The API client, a per-example namespace, and user helpers."""

    _shared: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.api = Api(self._environment(), ISSUER_KEYS)
        self.namespace = uuid.uuid4().hex[:10]
        self.users: dict[str, str] = {}

    @classmethod
    def _environment(cls) -> Any:
        """Start moto and the app client once per process; they outlive the examples."""
        if "client" not in cls._shared:
            from chalice.test import Client

            from app import app

            mock = MOTO.start()
            client = Client(app)
            client.__enter__()
            cls._shared.update(mock=mock, client=client)
        return cls._shared["client"]

    @classmethod
    def stop_environment(cls) -> None:
        if "client" in cls._shared:
            cls._shared.pop("client").__exit__(None, None, None)
            cls._shared.pop("mock").stop(remove_data=False)

    def user(self, handle: str, role: str = "client", **fields: Any) -> str:
        """Create (once per example) a user with a role, as an admin would; returns its id."""
        if handle not in self.users:
            from chalicelib.models.base import iso, utcnow
            from chalicelib.models.users import User

            user_id = f"user_{self.namespace}_{handle}"
            now = iso(utcnow())
            User(user_id=user_id, role=role, status="active", created_at=now, updated_at=now, **fields).save()
            self.users[handle] = user_id
        return self.users[handle]
