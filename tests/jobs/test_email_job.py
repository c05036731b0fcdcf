"""Email: queued ten per SendMessageBatch, sent once per (event, user, type) by the email job
through SES (moto's), with the unsubscribe link and headers; a poison message fails alone;
the unsubscribe link turns that email off; the local mail viewer lists what was sent."""

from __future__ import annotations

import email
import json
from email.policy import default as default_policy
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto.core import DEFAULT_ACCOUNT_ID

from chalicelib.domain.notifications import Delivery

QUEUE = "auralumic-test-email"
USER = "user_mail_client"


@pytest.fixture()
def recipient(api, make_user):
    from chalicelib.integrations import s3

    s3.reset()
    make_user(USER, display_name="Ada Client")
    return api


def _sent() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def _delivery(type_: str = "reading_accepted", user_id: str = USER, **kwargs: Any) -> Delivery:
    return Delivery(user_id=user_id, type=type_, title=kwargs.pop("title", "Luna accepted your reading"),
                    message=kwargs.pop("message", "Your phone call is on Friday at 10:00."),
                    action_url="/readings/r1", **kwargs)


def _body(delivery: Delivery, event_id: str = "evt_1") -> str:
    from chalicelib.services.notifications import email as email_service

    return json.dumps(email_service.message(delivery, event_id=event_id, occurred_at="2026-03-03T14:05:00.000Z"))


def _invoke(bodies: list[str]) -> dict[str, Any]:
    from app import app

    with Client(app) as client:
        event = client.events.generate_sqs_event(message_bodies=bodies, queue_name=QUEUE)
        for n, record in enumerate(event["Records"]):  # generate_sqs_event repeats one messageId
            record["messageId"] = f"m-{n}"
        return dict(client.lambda_.invoke("email_delivery", event).payload)


def test_enqueue_sends_ten_messages_per_batch_call(aws, monkeypatch):
    from chalicelib.integrations import aws as aws_clients
    from chalicelib.services.notifications import email as email_service

    calls: list[int] = []
    real = aws_clients.client

    class Spy:
        def __init__(self, inner: Any):
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def send_message_batch(self, **kwargs: Any) -> Any:
            calls.append(len(kwargs["Entries"]))
            return self.inner.send_message_batch(**kwargs)

    monkeypatch.setattr(aws_clients, "client", lambda service: Spy(real(service)) if service == "sqs" else
                        real(service))
    deliveries = [_delivery(user_id=f"user_{n}") for n in range(23)]

    email_service.enqueue(deliveries, event_id="evt_batch", occurred_at="2026-03-03T14:05:00.000Z")

    assert calls == [10, 10, 3]
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "23"


def test_enqueue_takes_the_event_id_fan_out_puts_in_the_data(aws):
    from chalicelib.services.notifications import email as email_service

    email_service.enqueue([_delivery(data={"eventId": "evt_from_data"})])
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    [queued] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(queued["Body"])["eventId"] == "evt_from_data"
    with pytest.raises(ValueError, match="event id"):
        email_service.enqueue([_delivery()])


def test_a_message_delivered_three_times_sends_one_email_with_the_unsubscribe_headers(recipient):
    body = _body(_delivery())

    responses = [_invoke([body]) for _ in range(3)]

    assert responses == [{"batchItemFailures": []}] * 3
    [sent] = _sent()
    assert sent.destinations[0] == f"{USER}@example.com"  # moto appends the To header's address again
    mime = email.message_from_string(sent.raw_data, policy=default_policy)
    assert mime["From"] == "Auralumic <notifications@test.auralumic.example>"
    assert mime["To"] == f"Ada Client <{USER}@example.com>"
    assert mime["Subject"] == "Luna accepted your reading"
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = mime["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://api.test.auralumic.example/notifications/unsubscribe?token=")
    text = mime.get_body(("plain",)).get_content()
    html = mime.get_body(("html",)).get_content()
    assert unsubscribe in text and unsubscribe.replace("&", "&amp;") in html
    assert "Hello Ada Client," in text and "https://app.test.auralumic.example/readings/r1" in text


def test_a_poison_message_fails_alone_and_the_rest_of_the_batch_is_sent(recipient, make_user):
    bodies = []
    for n in range(10):
        make_user(f"user_batch_{n}")
        bodies.append(_body(_delivery(user_id=f"user_batch_{n}"), event_id=f"evt_{n}"))
    poison = json.loads(bodies[4])
    poison["type"] = "horoscope_of_the_day"
    bodies[4] = json.dumps(poison)

    response = _invoke(bodies)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-4"}]}
    assert sorted(s.destinations[0] for s in _sent()) == sorted(
        f"user_batch_{n}@example.com" for n in range(10) if n != 4)


def test_users_without_an_address_or_deleted_get_nothing(recipient, make_user):
    from chalicelib.models.users import User

    make_user("user_no_mail").update(actions=[User.email.remove()])
    make_user("user_gone", status="deleted")
    bodies = [_body(_delivery(user_id="user_no_mail")), _body(_delivery(user_id="user_gone")),
              _body(_delivery(user_id="user_never_existed"))]

    assert _invoke(bodies) == {"batchItemFailures": []}
    assert _sent() == []


def test_a_failed_send_releases_the_claim_so_the_retry_sends(recipient, monkeypatch):
    from chalicelib.integrations import ses

    real = ses.send_raw
    outages = iter([RuntimeError("SES is throttling")])

    def flaky(**kwargs: Any) -> str:
        for error in outages:
            raise error
        return real(**kwargs)

    monkeypatch.setattr(ses, "send_raw", flaky)
    body, other = _body(_delivery()), _body(_delivery(type_="reading_reminder"))

    assert _invoke([body, other]) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert _invoke([body, other]) == {"batchItemFailures": []}
    assert sorted(email.message_from_string(s.raw_data)["X-Auralumic-Notification-Type"] for s in _sent()) == [
        "reading_accepted", "reading_reminder"]


def _unsubscribe_link() -> str:
    from chalicelib.services.notifications import links

    return links.unsubscribe_url(USER, "reading_accepted").removeprefix("http://api.test.auralumic.example")


def test_the_unsubscribe_link_confirms_then_one_click_post_turns_that_email_off(recipient):
    from chalicelib.services.notifications import preferences

    link = _unsubscribe_link()
    page = recipient.get(link)
    assert page.status_code == 200 and "accepted readings" in page.body.decode()
    assert preferences.get(USER).types["reading_accepted"].email  # a GET changes nothing

    done = recipient.post(link, body="List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    again = recipient.post(link, body="List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert (done.status_code, again.status_code) == (200, 200)
    settings = preferences.get(USER)
    assert not settings.types["reading_accepted"].email
    assert settings.types["reading_declined"].email  # only the type the link names


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # another signature
    lambda token: "eyJ0IjoicmVhZGluZ19hY2NlcHRlZCIsInUiOiJ1c2VyX290aGVyIn0" + token[token.index("."):],
    lambda token: token.split(".")[0],
    lambda token: "not-a-token",
])
def test_a_tampered_unsubscribe_token_is_a_400_and_changes_nothing(recipient, tamper):
    from urllib.parse import parse_qs, urlencode, urlsplit

    from chalicelib.services.notifications import preferences

    token = parse_qs(urlsplit(_unsubscribe_link()).query)["token"][0]
    link = "/notifications/unsubscribe?" + urlencode({"token": tamper(token)})

    for response in (recipient.get(link), recipient.post(link)):
        assert response.status_code == 400
        assert response.json["error"]["code"] == "invalid_unsubscribe_token"
    assert preferences.get(USER).types["reading_accepted"].email


def test_the_local_mail_viewer_lists_what_was_sent_newest_first(recipient):
    _invoke([_body(_delivery(title="First"), event_id="evt_a")])
    _invoke([_body(_delivery(type_="credits_purchased", title="100 credits"), event_id="evt_b")])

    listed = recipient.get("/local/mail/messages")

    assert listed.status_code == 200
    messages = listed.json["messages"]
    assert [(m["type"], m["subject"]) for m in messages] == [
        ("credits_purchased", "100 credits"), ("reading_accepted", "First")]
    assert messages[0]["to"] == f"Ada Client <{USER}@example.com>"
    page = recipient.get("/local/mail")
    assert page.status_code == 200 and "<td>100 credits</td>" in page.body.decode()
    html = recipient.get(messages[0]["htmlUrl"])
    text = recipient.get(messages[0]["textUrl"])
    assert html.status_code == 200 and html.headers["Content-Type"] == "text/html"
    assert "100 credits" in text.body.decode()
    assert recipient.get("/local/mail/9999999999999-" + "0" * 32 + "/html").status_code == 404


def test_a_copy_being_sent_elsewhere_is_retried_later_and_a_stale_claim_is_taken_over(recipient):
    from datetime import timedelta

    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.webhooks import ProcessedWebhook
    from chalicelib.services.notifications import email as email_service

    body = json.loads(_body(_delivery()))
    key = f"email#evt_1#{USER}#reading_accepted"
    now = utcnow()
    ProcessedWebhook(event_key=key, source="email", event_type="reading_accepted", received_at=iso(now),
                     state="sending").save()

    with pytest.raises(email_service.EmailInFlight):
        email_service.send_queued(body, now=now + timedelta(seconds=5))
    assert _sent() == []

    # The worker that claimed it died before SES answered: after the lease, the next copy sends.
    assert email_service.send_queued(body, now=now + email_service.CLAIM_LEASE + timedelta(seconds=1)) == "sent"
    assert email_service.send_queued(body, now=now + timedelta(minutes=10)) == "duplicate"
    assert len(_sent()) == 1 and ProcessedWebhook.get(key).state == "sent"
