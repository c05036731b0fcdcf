"""Secrets: a cloud stage's come from Secrets Manager at run time (once per container, kept
for a TTL), never from its Lambda environment or its template; a webhook secret rotates
with a window in which the old and the new one both verify."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.client
import pytest

from chalicelib import config
from tests.conftest import ROOT
from tests.fakes import stripe_events as se

SECRET_ID = "auralumic/test/app"
CLOUD_VALUES = {
    "cursorSecret": "cloud-cursor-secret",
    "clerkSecretKey": "sk_test_cloud_clerk",
    "clerkWebhookSecret": "whsec_Y2xvdWQtY2xlcmstd2ViaG9vay1zZWNyZXQ=",
    "stripeSecretKey": "sk_test_cloud",
    "stripeWebhookSecret": "whsec_cloud_stripe",
    "pusherAppId": "42",
    "pusherKey": "cloud-pusher-key",
    "pusherSecret": "cloud-pusher-secret",
    "pusherCluster": "eu",
}


def test_no_cloud_stage_carries_a_secret_in_its_environment():
    chalice = json.loads((ROOT / ".chalice" / "config.json").read_text())
    secret_variables = {env for env, _key, _required in config.SECRETS.values()}
    cloud = {name: stage for name, stage in chalice["stages"].items() if name != "local"}
    assert set(cloud) == {"dev", "prod"}
    for name, stage in cloud.items():
        variables = {**chalice.get("environment_variables", {}), **stage.get("environment_variables", {})}
        assert variables["APP_SECRET_ID"] == f"auralumic/{name}/app"
        assert not secret_variables & set(variables), name
        assert not [value for value in variables.values() if "{{resolve:" in value], name


@pytest.fixture()
def cloud_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The stage's secret in (moto's) Secrets Manager, the settings pointed at it, and a
    count of the AWS calls made meanwhile."""
    from aws_lambda_powertools.utilities import parameters

    client = boto3.client("secretsmanager")
    client.create_secret(Name=SECRET_ID, SecretString=json.dumps(CLOUD_VALUES))
    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls[operation] += 1
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    monkeypatch.setenv("APP_SECRET_ID", SECRET_ID)
    for env, _key, _required in config.SECRETS.values():
        monkeypatch.delenv(env, raising=False)
    parameters.clear_caches()
    config.get_settings.cache_clear()
    try:
        yield client, calls
    finally:
        monkeypatch.undo()
        parameters.clear_caches()
        config.get_settings.cache_clear()
        config.get_settings()


def test_a_cloud_stage_reads_its_secrets_once_per_container(cloud_secret):
    _client, calls = cloud_secret
    settings = config.get_settings()
    assert calls["GetSecretValue"] == 0  # nothing is fetched at import or when settings are read

    for _ in range(10):
        assert settings.cursor_secret == "cloud-cursor-secret"
        assert settings.stripe_webhook_secrets == ("whsec_cloud_stripe",)
        assert (settings.pusher_app_id, settings.pusher_key, settings.pusher_cluster) == (
            "42",
            "cloud-pusher-key",
            "eu",
        )
    assert calls["GetSecretValue"] == 1
    assert not settings.payments_are_local  # a cloud stage never serves the local stand-ins


def test_a_rotated_value_arrives_after_the_ttl_without_a_deploy(cloud_secret, monkeypatch):
    client, calls = cloud_secret
    monkeypatch.setenv("SECRETS_TTL_SECONDS", "0")  # every read fetches: the TTL has always passed
    config.get_settings.cache_clear()
    settings = config.get_settings()
    assert settings.cursor_secret == "cloud-cursor-secret"

    client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps({**CLOUD_VALUES, "cursorSecret": "rotated"}))
    assert settings.cursor_secret == "rotated"
    assert calls["GetSecretValue"] == 2


def test_a_secret_missing_a_required_key_names_it(cloud_secret):
    client, _calls = cloud_secret
    incomplete = {key: value for key, value in CLOUD_VALUES.items() if key != "stripeWebhookSecret"}
    client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(incomplete))
    with pytest.raises(config.ConfigError, match=f"stripeWebhookSecret in secret {SECRET_ID}"):
        _ = config.get_settings().stripe_webhook_secret


@pytest.fixture()
def rotating(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the Stripe webhook secrets (current, previous) for the rest of the test."""

    def configure(current: str, previous: str | None) -> None:
        monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", current)
        if previous is None:
            monkeypatch.delenv("STRIPE_WEBHOOK_SECRET_PREVIOUS", raising=False)
        else:
            monkeypatch.setenv("STRIPE_WEBHOOK_SECRET_PREVIOUS", previous)
        config.get_settings.cache_clear()
        config.get_settings()  # read here: the test client patches the environment during a request

    yield configure
    monkeypatch.undo()
    config.get_settings.cache_clear()
    config.get_settings()


def test_a_stripe_webhook_secret_rotates_with_a_window_for_both(api, make_user, drain, default_catalog, rotating):
    make_user("buyer")
    old, new = se.webhook_secret(), "whsec_the_new_stripe_signing_secret"

    rotating(new, old)  # the window: Stripe may still sign with the old secret
    for secret in (old, new):
        delivered = se.deliver(
            api, se.event("checkout.session.completed", se.ordered_checkout(api, "buyer")), secret=secret
        )
        assert delivered.status_code == 200, delivered.body
    drain()
    assert api.get("/credits", as_user="buyer").json_body["balance"]["available"] == 120

    rotating(new, None)  # the window closed: only the new secret verifies
    stale = se.deliver(api, se.event("checkout.session.completed", se.ordered_checkout(api, "buyer")), secret=old)
    assert (stale.status_code, stale.json["error"]["code"]) == (400, "invalid_signature")
    assert (
        se.deliver(
            api, se.event("checkout.session.completed", se.ordered_checkout(api, "buyer")), secret=new
        ).status_code
        == 200
    )


def test_a_clerk_webhook_secret_rotates_the_same_way():
    from datetime import UTC, datetime

    from chalicelib.integrations import clerk_webhooks

    old, new = "whsec_" + "b2xkLWNsZXJrLXNpZ25pbmcta2V5", "whsec_" + "bmV3LWNsZXJrLXNpZ25pbmcta2V5"
    now = datetime.now(UTC)
    timestamp = str(int(now.timestamp()))
    body = b'{"type":"user.updated"}'
    headers = {
        "svix-id": "msg_rotation",
        "svix-timestamp": timestamp,
        "svix-signature": clerk_webhooks.sign(old, "msg_rotation", timestamp, body),
    }
    assert clerk_webhooks.verify(body, headers, (new, old), now=now) == "msg_rotation"
    with pytest.raises(clerk_webhooks.InvalidSignature):
        clerk_webhooks.verify(body, headers, (new,), now=now)
