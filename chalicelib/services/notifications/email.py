"""Email notifications: queue them (fan-out), then render and send each one (the email job).

``enqueue`` puts one SQS message per delivery on the email queue, ten per SendMessageBatch.
The email job hands each message to ``send_queued``, which renders the type's template
(services/notifications/templates.py) and sends it through SES as one MIME message with
``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (RFC 8058).

Once per (eventId, userId, type), at least once. SQS delivers at least once, so each send
claims a marker first (a ProcessedWebhook item ``email#<eventId>#<userId>#<type>``, state
``sending``, written with a condition), calls SES, then marks it ``sent``. A redelivery that
finds ``sent`` does nothing; one that finds a fresh ``sending`` (a concurrent copy of the
message) fails its record so SQS retries it after the visibility timeout, when the marker
says ``sent``. If SES fails, the claim is released and the message retried. If the worker
dies between SES accepting and the ``sent`` write, the claim's lease (``CLAIM_LEASE``,
shorter than the queue's visibility timeout) runs out and the next delivery sends again:
a rare duplicate email is the price of never losing one (at-least-once, not at-most-once).

Recipients: the users table's email address; a user without one, or deleted, is skipped
(logged, no marker: a later redelivery skips them as cheaply).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any, Literal

from pynamodb.exceptions import DeleteError, PutError

from chalicelib import logs, telemetry
from chalicelib.config import get_settings
from chalicelib.domain.notifications import Delivery
from chalicelib.errors import NotFound
from chalicelib.integrations import aws, ses
from chalicelib.logs import logger
from chalicelib.models.base import iso, utcnow
from chalicelib.models.users import User
from chalicelib.models.webhooks import ProcessedWebhook
from chalicelib.services.notifications import links, mailbox, preferences
from chalicelib.services.notifications.templates import TEMPLATES, TemplateError, render

SOURCE = "email"
MESSAGE_VERSION = 1
BATCH = 10  # SendMessageBatch's maximum
SEND_ATTEMPTS = 3  # a batch's failed entries are sent again up to this many times in all
CLAIM_LEASE = timedelta(seconds=120)  # < the email queue's VisibilityTimeout (180 s)
MARKER_RETENTION = timedelta(days=30)  # > the queue's and its DLQ's retention: a redrive finds it

Outcome = Literal["sent", "duplicate", "skipped"]


class PoisonMessage(ValueError):
    """A message no retry can send (unknown type, missing fields, values its template refuses)."""


class EmailInFlight(RuntimeError):
    """Another delivery of the same message holds the claim: retry this one later."""


def enqueue(deliveries: Sequence[Delivery], *, event_id: str | None = None, occurred_at: str | None = None) -> None:
    """Queue one email per delivery (the caller has already decided they get one). Ten per
    SendMessageBatch; entries SQS reports failed are sent again, then an error is raised.

    The event's id (the email's idempotency key, with the user and the type) is
    ``event_id``, else each delivery's ``data["eventId"]`` (as fan-out sets it); its time
    is ``occurred_at``, else ``data["occurredAt"]``, else now."""
    if not deliveries:
        return
    now = iso(utcnow())
    bodies = []
    for delivery in deliveries:
        event = event_id or delivery.data.get("eventId")
        if not isinstance(event, str) or not event:
            raise ValueError("An email delivery needs its event id (event_id, or data['eventId']).")
        when = occurred_at or delivery.data.get("occurredAt") or now
        bodies.append(json.dumps(message(delivery, event_id=event, occurred_at=str(when)), separators=(",", ":"),
                                 default=str))
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().email_queue_name)
    correlation = logs.correlation_id()  # the email job logs under the id of the story that queued it
    attributes: dict[str, Any] = (
        {"MessageAttributes": {"correlationId": {"DataType": "String", "StringValue": correlation}}} if correlation
        else {})
    for start in range(0, len(bodies), BATCH):
        entries = {str(i): body for i, body in enumerate(bodies[start:start + BATCH])}
        for _ in range(SEND_ATTEMPTS):
            response = sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": entry_id, "MessageBody": body, **attributes} for entry_id, body in entries.items()])
            entries = {f["Id"]: entries[f["Id"]] for f in response.get("Failed", [])}
            if not entries:
                break
        if entries:
            raise RuntimeError(f"SQS did not accept {len(entries)} of the email messages queued.")


def message(delivery: Delivery, *, event_id: str, occurred_at: str) -> dict[str, Any]:
    body = {"v": MESSAGE_VERSION, "eventId": event_id, "occurredAt": occurred_at, "userId": delivery.user_id,
            "type": str(delivery.type), "title": delivery.title, "message": delivery.message,
            "relatedId": delivery.related_id, "actionUrl": delivery.action_url, "data": dict(delivery.data)}
    correlation = logs.correlation_id()
    if correlation:
        body["correlationId"] = correlation
    return body


def unsubscribe(token: str) -> tuple[str, str]:
    """Email off for the (user, type) the signed token names; (user_id, type). Repeating it,
    or a user deleted since, changes nothing and succeeds."""
    user_id, type_ = links.read_unsubscribe_token(token)
    try:
        preferences.unsubscribe(user_id, type_)
    except NotFound:
        logger.info("unsubscribe for a user who is gone", extra={"userId": user_id, "type": type_})
    return user_id, type_


@dataclass(frozen=True)
class _Queued:
    event_id: str
    occurred_at: str
    user_id: str
    type: str
    values: dict[str, Any]


def _parse(body: Mapping[str, Any]) -> _Queued:
    fields = {name: body.get(name) for name in ("eventId", "occurredAt", "userId", "type", "title", "message")}
    missing = sorted(name for name, value in fields.items() if not isinstance(value, str) or not value)
    if missing:
        raise PoisonMessage(f"The email message lacks {', '.join(missing)}.")
    type_ = str(fields["type"])
    if type_ not in TEMPLATES:
        raise PoisonMessage(f"There is no email template for the notification type {type_!r}.")
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise PoisonMessage("The email message's data is not an object.")
    values = {**data, "title": fields["title"], "message": fields["message"], "sentAt": fields["occurredAt"],
              "actionUrl": links.action_url(body.get("actionUrl"))}
    return _Queued(event_id=str(fields["eventId"]), occurred_at=str(fields["occurredAt"]),
                   user_id=str(fields["userId"]), type=type_, values=values)


def send_queued(body: Mapping[str, Any], *, now: datetime | None = None) -> Outcome:
    """Send the email one queued message describes, once (see the module's docstring)."""
    queued = _parse(body)
    user = _recipient(queued.user_id)
    if user is None:
        logger.info("email skipped: no address", extra={"userId": queued.user_id, "type": queued.type})
        return "skipped"
    values = {**queued.values, "recipientName": user.display_name or None,
              "unsubscribeUrl": links.unsubscribe_url(user.user_id, queued.type),
              "preferencesUrl": links.settings_url()}
    try:
        rendered = render(TEMPLATES[queued.type], values)
    except TemplateError as exc:
        raise PoisonMessage(str(exc)) from exc
    now = now or utcnow()
    key = f"{SOURCE}#{queued.event_id}#{queued.user_id}#{queued.type}"
    if not _claim(key, queued.type, now):
        return "duplicate"
    settings = get_settings()
    recipient = formataddr((user.display_name or "", str(user.email)))
    unsubscribe = str(values["unsubscribeUrl"])
    mime = _mime(sender=settings.email_sender, recipient=recipient, subject=rendered.subject, text=rendered.text,
                 html=rendered.html, unsubscribe_url=unsubscribe, type_=queued.type, now=now)
    try:
        if settings.mail_viewer:
            ses.verify_local_sender(parseaddr(settings.email_sender)[1])
        message_id = ses.send_raw(sender=settings.email_sender, recipient=str(user.email), raw=mime.as_bytes())
    except ses.EmailRejected as exc:
        _release(key, now)
        raise PoisonMessage(str(exc)) from exc
    except Exception:
        _release(key, now)
        raise
    ProcessedWebhook(event_key=key).update(actions=[ProcessedWebhook.state.set("sent")])
    telemetry.notification_latency("email", queued.occurred_at, now)
    logger.info("email sent", extra={"userId": queued.user_id, "type": queued.type, "eventId": queued.event_id,
                                     "sesMessageId": message_id})
    if settings.mail_viewer:
        mailbox.keep(to=recipient, subject=rendered.subject, type_=queued.type, sent_at=now, user_id=user.user_id,
                     event_id=queued.event_id, ses_message_id=message_id, html=rendered.html, text=rendered.text,
                     headers={k: str(v) for k, v in mime.items()})
    return "sent"


def _recipient(user_id: str) -> User | None:
    try:
        user = User.get(user_id)
    except User.DoesNotExist:
        return None
    if user.status == "deleted" or not user.email or "@" not in user.email:
        return None
    return user


def _claim(key: str, type_: str, now: datetime) -> bool:
    """True: this delivery sends. False: the email was sent already. EmailInFlight: another
    delivery is sending it now."""
    marker = ProcessedWebhook(event_key=key, source=SOURCE, event_type=type_, received_at=iso(now), state="sending",
                              expires_at=int((now + MARKER_RETENTION).timestamp()))
    stale = iso(now - CLAIM_LEASE)
    try:
        marker.save(condition=ProcessedWebhook.event_key.does_not_exist()
                    | ((ProcessedWebhook.state == "sending") & (ProcessedWebhook.received_at < stale)))
        return True
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    existing = ProcessedWebhook.get(key, consistent_read=True)
    if existing.state == "sending":
        raise EmailInFlight("Another delivery of this email is sending it; this one is retried later.")
    return False


def _release(key: str, claimed_at: datetime) -> None:
    """Drop our claim (only ours) so the retry sends at once."""
    try:
        ProcessedWebhook(event_key=key).delete(condition=(ProcessedWebhook.state == "sending")
                                               & (ProcessedWebhook.received_at == iso(claimed_at)))
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _mime(*, sender: str, recipient: str, subject: str, text: str, html: str, unsubscribe_url: str, type_: str,
          now: datetime) -> EmailMessage:
    mime = EmailMessage(policy=SMTP)
    mime["From"] = sender
    mime["To"] = recipient
    mime["Subject"] = subject
    mime["Date"] = format_datetime(now)
    mime["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs to the link.
    mime["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mime["X-Auralumic-Notification-Type"] = type_
    mime.set_content(text)
    mime.add_alternative(html, subtype="html")
    return mime
