"""Building blocks for moderation tests: a queue item to decide, a rule to change."""

from __future__ import annotations

from typing import Any

PHONE_STATUS = "Please call me on 555 123 4567, I need answers about my love life."


def flagged_status(client_id: str, *, content: str = PHONE_STATUS) -> tuple[str, str]:
    """A client (made if missing) posts a status with a phone number: held, queued. Returns
    (status id, queue item id). Needs the default catalog."""
    from chalicelib.models.users import User
    from chalicelib.services import statuses
    from chalicelib.services.moderation import queue
    from tests.support.readings import make_client

    try:
        client = User.get(client_id, consistent_read=True)
    except User.DoesNotExist:
        client = make_client(client_id)
    status = statuses.create(client, content=content, mood=None, category="love")
    found = queue.current("status", status.status_id)
    assert found.item is not None
    return status.status_id, str(found.item.item_id)


def a_rule(admin_id: str, **overrides: Any) -> str:
    """A flag rule on the word "guaranteed" (any content); returns its id."""
    from chalicelib.services.moderation import rules

    values = {
        "name": "Guarantees",
        "description": "",
        "contentType": "any",
        "action": "flag",
        "conditions": {"keywords": ["guaranteed"]},
        "flaggedReason": "false_claims",
        "isActive": True,
        **overrides,
    }
    return rules.create_rule(values, actor_id=admin_id).id
