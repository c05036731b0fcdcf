"""Which domain event notifies whom, of what: the fan-out's table, as data.

``RULES[event_type]`` builds the ``Target``s of one event: a ``Note`` (type, title,
message, relatedId, actionUrl) and who receives it, either named users (the parties of a
reading, a buyer, an applicant) or a role audience (``"admins"``, resolved page by page by
audiences.py). A rule states the parties whose names its sentences use (``clients=``,
``readers=``: data keys); fan-out reads them with one BatchGetItem per table. Titles and
messages are sentences a user can read: they name the other party when the name is known
and never show a raw id; actionUrl is the frontend path the notification opens.

Events of the platform that notify nobody, and why, are in ``SILENT``; the notification
types that no capability produces yet are in ``NOT_PRODUCED_YET``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.notifications import Delivery, NotificationType
from chalicelib.services.notifications import audiences, words
from chalicelib.services.notifications.words import cap, credits, kind, were_added

T = NotificationType


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    occurred_at: str
    data: dict[str, Any]

    @classmethod
    def of(cls, message: dict[str, Any]) -> Event:
        return cls(str(message["eventId"]), str(message["type"]), str(message.get("occurredAt") or ""),
                   dict(message.get("data") or {}))


@dataclass(frozen=True)
class Note:
    """What every recipient of one target reads."""

    type: str
    title: str
    message: str
    related_id: str | None = None
    action_url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to(self, user_id: str) -> Delivery:
        return Delivery(user_id=user_id, type=self.type, title=self.title, message=self.message,
                        related_id=self.related_id, action_url=self.action_url, data=dict(self.data))

    def dump(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "message": self.message, "relatedId": self.related_id,
                "actionUrl": self.action_url, "data": self.data}

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Note:
        return cls(raw["type"], raw["title"], raw["message"], raw.get("relatedId"), raw.get("actionUrl"),
                   dict(raw.get("data") or {}))


@dataclass(frozen=True)
class Target:
    note: Note
    user_ids: tuple[str, ...] = ()
    audience: str | None = None  # a role audience of audiences.AUDIENCES


class Names(Protocol):
    def client(self, user_id: Any) -> str | None: ...

    def reader(self, reader_id: Any) -> str | None: ...


Build = Callable[[Event, Names], list[Target]]


@dataclass(frozen=True)
class Rule:
    build: Build
    clients: tuple[str, ...] = ()  # data keys of users named by their first name
    readers: tuple[str, ...] = ()  # data keys of readers named by their public display name


RULES: dict[str, Rule] = {}


def rule(*events: str, clients: tuple[str, ...] = (), readers: tuple[str, ...] = ()) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        for event in events:
            RULES[event] = Rule(build, clients, readers)
        return build

    return register


def targets(event: Event, names: Names) -> list[Target]:
    found = RULES.get(event.type)
    return found.build(event, names) if found else []


def _to(note: Note, *user_ids: Any) -> Target:
    return Target(note, tuple(str(u) for u in user_ids if u))


def _reading(event: Event, type_: str, title: str, message: str, *, admin: bool = False) -> Note:
    rid = event.data.get("readingId")
    url = (f"/admin/disputes/{rid}" if admin else f"/readings/{rid}") if rid else None
    return Note(type_, title, message, rid, url, {"readingType": event.data.get("type")})


# --- readings -----------------------------------------------------------------------------

@rule("reading.requested", clients=("clientId",))
def _requested(e: Event, n: Names) -> list[Target]:
    client = n.client(e.data.get("clientId")) or "A client"
    return [_to(_reading(e, T.READING_REQUEST, "New reading request",
                         f"{client} requested a {kind(e.data)} ({credits(e.data.get('credits'))}). "
                         "Accept or decline it before the request expires."), e.data.get("readerId"))]


@rule("reading.accepted", readers=("readerId",))
def _accepted(e: Event, n: Names) -> list[Target]:
    reader = n.reader(e.data.get("readerId")) or "Your reader"
    return [_to(_reading(e, T.READING_ACCEPTED, "Reading accepted",
                         f"{reader} accepted your {kind(e.data)} request."), e.data.get("clientId"))]


@rule("reading.declined", readers=("readerId",))
def _declined(e: Event, n: Names) -> list[Target]:
    reader = n.reader(e.data.get("readerId")) or "Your reader"
    return [_to(_reading(e, T.READING_DECLINED, "Reading declined",
                         f"{reader} declined your {kind(e.data)} request. "
                         "The credits held for it are available again."), e.data.get("clientId"))]


@rule("reading.expired", clients=("clientId",), readers=("readerId",))
def _expired(e: Event, n: Names) -> list[Target]:
    reader = n.reader(e.data.get("readerId")) or "Your reader"
    client = n.client(e.data.get("clientId")) or "a client"
    return [
        _to(_reading(e, T.READING_DECLINED, "Request expired",
                     f"{reader} did not answer your {kind(e.data)} request in time. "
                     "The credits held for it are available again."), e.data.get("clientId")),
        _to(_reading(e, T.READING_CANCELLED, "Request expired",
                     f"The {kind(e.data)} request from {client} expired before it was answered."),
            e.data.get("readerId")),
    ]


@rule("reading.cancelled", clients=("clientId",), readers=("readerId",))
def _cancelled(e: Event, n: Names) -> list[Target]:
    by = e.data.get("by")
    refunded = int(e.data.get("refunded") or 0)
    refund = f" {cap(credits(refunded))} went back to the client." if refunded else ""
    found = []
    if by != "client":
        reader = n.reader(e.data.get("readerId")) or "Your reader"
        who = f"{reader} cancelled" if by == "reader" else "An admin cancelled"
        back = f" {cap(credits(refunded))} went back to your balance." if refunded else \
            " The credits held for it are available again."
        found.append(_to(_reading(e, T.READING_CANCELLED, "Reading cancelled", f"{who} your {kind(e.data)}.{back}"),
                         e.data.get("clientId")))
    if by != "reader":
        client = n.client(e.data.get("clientId")) or "The client"
        who = f"{client} cancelled" if by == "client" else "An admin cancelled"
        found.append(_to(_reading(e, T.READING_CANCELLED, "Reading cancelled",
                                  f"{who} the {kind(e.data)}.{refund}"), e.data.get("readerId")))
    return found


def _earnings(e: Event, what: str) -> Target:
    """The reader's share of a paid reading: ``what`` is the first half of the sentence."""
    paid = e.data.get("paid")
    tail = f": {were_added(paid)} to your earnings." if paid else "."
    return _to(_reading(e, T.EARNINGS_RECEIVED, "Earnings received", f"{what}{tail}"), e.data.get("readerId"))


@rule("reading.completed", clients=("clientId",), readers=("readerId",))
def _completed(e: Event, n: Names) -> list[Target]:
    client = n.client(e.data.get("clientId")) or "your client"
    found = [_earnings(e, f"Your {kind(e.data)} with {client} is complete")]
    if e.data.get("by") != "client":
        reader = n.reader(e.data.get("readerId")) or "Your reader"
        found.append(_to(_reading(e, T.READING_COMPLETED, "Reading completed",
                                  f"{reader} marked your {kind(e.data)} as complete. You can now leave a review."),
                         e.data.get("clientId")))
    return found


@rule("reading.delivered", clients=("clientId",), readers=("readerId",))
def _delivered(e: Event, n: Names) -> list[Target]:
    reader = n.reader(e.data.get("readerId")) or "Your reader"
    return [
        _to(_reading(e, T.READING_COMPLETED, "Video message delivered",
                     f"{reader} delivered your video message. You can watch it now and leave a review."),
            e.data.get("clientId")),
        _earnings(e, f"Your video message for {n.client(e.data.get('clientId')) or 'your client'} was delivered"),
    ]


@rule("reading.no_show", clients=("clientId",), readers=("readerId",))
def _no_show(e: Event, n: Names) -> list[Target]:
    if e.data.get("by") == "client":  # the reader did not come: the client was refunded
        client = n.client(e.data.get("clientId")) or "The client"
        return [_to(_reading(e, T.READING_CANCELLED, "Reported as a no-show",
                             f"{client} reported that you did not join the {kind(e.data)}. "
                             "The client's credits were refunded."), e.data.get("readerId"))]
    reader = n.reader(e.data.get("readerId")) or "Your reader"
    return [
        _to(_reading(e, T.READING_CANCELLED, "Reported as a no-show",
                     f"{reader} reported that you did not join your {kind(e.data)}. "
                     "The credits were paid to the reader."), e.data.get("clientId")),
        _earnings(e, f"You reported that {n.client(e.data.get('clientId')) or 'the client'} did not join the "
                    f"{kind(e.data)}"),
    ]


@rule("reading.reminder_due", clients=("clientId",), readers=("readerId",))
def _reminder(e: Event, n: Names) -> list[Target]:
    when = words.lead(e.data)
    client = n.client(e.data.get("clientId")) or "your client"
    reader = n.reader(e.data.get("readerId")) or "your reader"
    # Held by quiet hours or a digest past the start, a reminder would arrive too late: it
    # goes stale at the start (held.release_due drops it; the in-app copy stays).
    stale = {"staleAfter": e.data["scheduledStart"]} if e.data.get("scheduledStart") else {}
    found = [
        _to(_reading(e, T.READING_REMINDER, "Upcoming reading",
                     f"Your {kind(e.data)} with {reader} starts {when}."), e.data.get("clientId")),
        _to(_reading(e, T.READING_REMINDER, "Upcoming reading",
                     f"Your {kind(e.data)} with {client} starts {when}."), e.data.get("readerId")),
    ]
    for target in found:
        target.note.data.update(stale)
    return found


@rule("dispute.filed", clients=("clientId",), readers=("readerId",))
def _dispute(e: Event, n: Names) -> list[Target]:
    client = n.client(e.data.get("clientId"))
    reader = n.reader(e.data.get("readerId"))
    return [
        Target(_reading(e, T.DISPUTE_FILED, "New dispute",
                        f"{client or 'A client'} disputed a {kind(e.data)} with {reader or 'a reader'}. "
                        "It is waiting for review.", admin=True), audience="admins"),
        _to(_reading(e, T.DISPUTE_FILED, "Reading disputed",
                     f"{client or 'Your client'} disputed your {kind(e.data)}. An admin will review it "
                     "and let you both know the outcome."), e.data.get("readerId")),
    ]


@rule("dispute.resolved", readers=("readerId",), clients=("clientId",))
def _resolved(e: Event, n: Names) -> list[Target]:
    reader = n.reader(e.data.get("readerId")) or "your reader"
    client = n.client(e.data.get("clientId")) or "your client"
    return [
        _to(_reading(e, T.DISPUTE_RESOLVED, "Dispute resolved",
                     f"An admin resolved your dispute about the {kind(e.data)} with {reader}. "
                     + words.dispute_outcome(e.data, for_client=True)), e.data.get("clientId")),
        _to(_reading(e, T.DISPUTE_RESOLVED, "Dispute resolved",
                     f"An admin resolved the dispute {client} filed about your {kind(e.data)}. "
                     + words.dispute_outcome(e.data, for_client=False)), e.data.get("readerId")),
    ]


@rule("review.created", clients=("clientId",))
def _review(e: Event, n: Names) -> list[Target]:
    client = n.client(e.data.get("clientId")) or "Your client"
    rating = int(e.data.get("rating") or 0)
    rid = e.data.get("readingId")
    return [_to(Note(T.REVIEW_RECEIVED, "New review", f"{client} rated your reading {words.stars(rating)}.",
                     rid, f"/readings/{rid}" if rid else "/reader/profile", {"rating": rating}),
                e.data.get("readerId"))]


# --- credits ------------------------------------------------------------------------------

@rule("credits.purchased")
def _purchased(e: Event, n: Names) -> list[Target]:
    return [_to(Note(T.CREDITS_PURCHASED, "Credits added",
                     f"Your purchase went through: {were_added(e.data.get('credits'))} to your balance.",
                     e.data.get("sessionId"), "/credits", {"credits": e.data.get("credits")}), e.data.get("userId"))]


@rule("subscription.credits_granted")
def _granted(e: Event, n: Names) -> list[Target]:
    expired = int(e.data.get("expired") or 0)
    tail = f" {cap(credits(expired))} from the last period expired." if expired else ""
    return [_to(Note(T.CREDITS_PURCHASED, "Subscription credits added",
                     f"Your subscription added {credits(e.data.get('credits'))} to your balance.{tail}",
                     e.data.get("invoiceId"), "/credits", {"credits": e.data.get("credits"), "expired": expired}),
                e.data.get("userId"))]


# --- reader payouts -------------------------------------------------------------------------

def _money(minor: Any, currency: Any) -> str:
    """"$24.00" style for the common currencies, else "24.00 CHF"."""
    code = str(currency or "").upper()
    amount = f"{int(minor or 0) / 100:,.2f}"
    symbol = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "CAD": "CA$", "AUD": "A$"}.get(code)
    return f"{symbol}{amount}" if symbol else f"{amount} {code}".strip()


@rule("payout.sent")
def _payout_sent(e: Event, n: Names) -> list[Target]:
    money = _money(e.data.get("amountMinor"), e.data.get("currency"))
    return [_to(Note(T.PAYOUT_SENT, "Payout sent",
                     f"We sent {money} ({credits(e.data.get('credits'))}) to your payout account. Banks usually "
                     "show it within a few business days.", e.data.get("payoutId"), "/reader/payouts",
                     {"credits": e.data.get("credits"), "amountMinor": e.data.get("amountMinor"),
                      "currency": e.data.get("currency")}), e.data.get("readerId"))]


@rule("payout.failed")
def _payout_failed(e: Event, n: Names) -> list[Target]:
    money = _money(e.data.get("amountMinor"), e.data.get("currency"))
    reason = str(e.data.get("reason") or "").strip()
    return [_to(Note(T.PAYOUT_FAILED, "Payout not completed",
                     f"Your payout of {money} ({credits(e.data.get('credits'))}) could not be completed."
                     + (f" {reason}" if reason else "") + " The credits are back in your earnings available for "
                     "payout; check your payout account before the next payout.", e.data.get("payoutId"),
                     "/reader/payouts", {"credits": e.data.get("credits"), "status": e.data.get("status")}),
                e.data.get("readerId"))]


@rule("payouts.held")
def _payouts_held(e: Event, n: Names) -> list[Target]:
    return [_to(Note(T.PAYOUTS_HELD, "Payouts on hold",
                     "An administrator put your payouts on hold while they review your account. Your earnings "
                     "stay in your account and keep maturing; no payout is sent until the hold is released. "
                     "Contact support if you have questions.", e.data.get("readerId"), "/reader/earnings",
                     {"heldAt": e.data.get("heldAt")}), e.data.get("readerId"))]


@rule("payouts.released")
def _payouts_released(e: Event, n: Names) -> list[Target]:
    return [_to(Note(T.PAYOUTS_RELEASED, "Payouts resumed",
                     "The hold on your payouts was released. Your available earnings are paid out again on the "
                     "next weekly payout, or when you request a payout.", e.data.get("readerId"),
                     "/reader/earnings", {"releasedAt": e.data.get("releasedAt")}), e.data.get("readerId"))]


# --- reader applications ------------------------------------------------------------------

@rule("reader_application.submitted", clients=("user_id",))
def _submitted(e: Event, n: Names) -> list[Target]:
    who = n.client(e.data.get("user_id")) or "Someone"
    again = int(e.data.get("submission") or 1) > 1
    verb = "sent their reader application again" if again else "applied to become a reader"
    app_id = e.data.get("application_id")
    return [Target(Note(T.APPLICATION_SUBMITTED, "New reader application", f"{who} {verb}. It is waiting for review.",
                        app_id, f"/admin/applications/{app_id}"), audience="admins")]


@rule("reader_application.approved")
def _approved(e: Event, n: Names) -> list[Target]:
    return [_to(Note(T.APPLICATION_APPROVED, "Application approved",
                     "Your reader application was approved. Welcome aboard: set up your reader profile to start "
                     "taking readings.", e.data.get("application_id"), "/reader/application"), e.data.get("user_id"))]


@rule("reader_application.declined")
def _app_declined(e: Event, n: Names) -> list[Target]:
    return [_to(Note(T.APPLICATION_DECLINED, "Application declined",
                     "Your reader application was declined. You can read the reason, update it and send it again.",
                     e.data.get("application_id"), "/reader/application", {"reason": e.data.get("reason")}),
                e.data.get("user_id"))]


# --- media and badges ---------------------------------------------------------------------

_PURPOSE = {"profile_image": "profile photo", "background_image": "background image", "video_message": "video"}


@rule("media.processed")
def _processed(e: Event, n: Names) -> list[Target]:
    what = _PURPOSE.get(str(e.data.get("purpose")), "upload")
    rid = e.data.get("readingId")
    url = f"/readings/{rid}" if rid else "/profile"
    return [_to(Note(T.MEDIA_PROCESSED, "Upload ready", f"Your {what} is processed and ready.",
                     e.data.get("uploadId"), url, {"purpose": e.data.get("purpose")}), e.data.get("userId"))]


@rule("media.rejected")
def _rejected(e: Event, n: Names) -> list[Target]:
    what = _PURPOSE.get(str(e.data.get("purpose")), "upload")
    reason = str(e.data.get("reason") or "").strip()
    return [_to(Note(T.MEDIA_REJECTED, "Upload not accepted",
                     f"Your {what} could not be used." + (f" {reason}" if reason else " Please upload another file."),
                     e.data.get("uploadId"), "/profile", {"purpose": e.data.get("purpose")}), e.data.get("userId"))]


@rule("badge.awarded")
def _badge(e: Event, n: Names) -> list[Target]:
    # No producer yet (badges are catalog entries an admin assigns); data as it will be emitted.
    name = e.data.get("badgeName") or e.data.get("name")
    message = f"You earned the {name} badge. It now shows on your profile." if name else \
        "You earned a new badge. It now shows on your profile."
    return [_to(Note(T.BADGE_AWARDED, "New badge", message, e.data.get("badgeId"), "/reader/profile"),
                e.data.get("readerId") or e.data.get("userId"))]


@rule("quality.warning_opened")
def _quality_warning(e: Event, n: Names) -> list[Target]:
    title = e.data.get("title") or "A quality warning"
    message = e.data.get("message") or "One of your quality figures is past its threshold. See your quality page."
    return [_to(Note(T.QUALITY_WARNING, str(title), str(message), e.data.get("warningId"), "/reader/quality",
                     {"kind": e.data.get("kind")}), e.data.get("readerId"))]


# --- client statuses and suggested readings ------------------------------------------------

def _status(e: Event, type_: str, title: str, message: str, url: str | None = None) -> Note:
    sid = e.data.get("statusId")
    return Note(type_, title, message, sid, url or (f"/statuses/{sid}" if sid else "/statuses"),
                {"category": e.data.get("category")} if e.data.get("category") else {})


@rule("status.posted")
def _status_posted(e: Event, n: Names) -> list[Target]:
    if e.data.get("held"):
        return []  # held by moderation: readers find it in their feed once a moderator approves it
    # The client is not named: a status reaches every matching reader, whatever the
    # client's privacy settings; the reader sees who posted it as those settings allow.
    about = f" in the {e.data['categoryName']} category" if e.data.get("categoryName") else ""
    excerpt = str(e.data.get("excerpt") or "").strip()
    quoted = f": \u201c{excerpt}\u201d" if excerpt else ""
    note = _status(e, T.STATUS_POSTED, "A client is looking for a reading",
                   f"A client posted a new status{about}{quoted}. Suggest a reading for it.")
    return [Target(note, audience=audiences.specialists(str(e.data.get("category"))))]


@rule("status.suggested", readers=("readerId",))
def _status_suggested(e: Event, n: Names) -> list[Target]:
    reader = n.reader(e.data.get("readerId")) or "A reader"
    title = str(e.data.get("title") or "").strip()
    what = f"\u201c{title}\u201d" if title else "a reading"
    price = f" for {credits(e.data.get('credits'))}" if e.data.get("credits") else ""
    return [_to(_status(e, T.SUGGESTED_READING, "New reading suggestion",
                        f"{reader} suggested {what}{price} for your status. Accept it to book the reading."),
                e.data.get("clientId"))]


_CLOSED_FOR_OTHERS = {
    "accepted": "The client chose another reader's suggestion, so the status is closed.",
    "closed_by_client": "The client closed the status you suggested a reading for.",
    "expired": "The status you suggested a reading for expired without a booking.",
    "account_deleted": "The client who posted the status you suggested a reading for has left, so it is closed.",
}


@rule("status.closed", clients=("clientId",))
def _status_closed(e: Event, n: Names) -> list[Target]:
    found = []
    if e.data.get("acceptedReaderId") and e.data.get("readingId"):
        client = n.client(e.data.get("clientId")) or "The client"
        rid = e.data["readingId"]
        found.append(_to(_status(e, T.STATUS_RESPONSE, "Suggestion accepted",
                                 f"{client} accepted your suggested reading. The reading request is waiting for "
                                 "your answer.", f"/readings/{rid}"), e.data["acceptedReaderId"]))
    message = _CLOSED_FOR_OTHERS.get(str(e.data.get("reason")), _CLOSED_FOR_OTHERS["closed_by_client"])
    for reader_id in e.data.get("readerIds") or []:
        found.append(_to(_status(e, T.STATUS_RESPONSE, "Status closed", message), reader_id))
    return found


# --- privacy --------------------------------------------------------------------------------

@rule("data_export.ready")
def _data_export_ready(e: Event, n: Names) -> list[Target]:
    export_id = e.data.get("exportId")
    until = words.day_of(e.data.get("availableUntil"))
    when = f" You can download it until {until}; after that it is deleted." if until else ""
    return [_to(Note(T.DATA_EXPORT_READY, "Your data export is ready",
                     f"The copy of your Auralumic data you asked for is ready.{when}", export_id,
                     f"/profile/data-export/{export_id}" if export_id else "/profile",
                     {"availableUntil": e.data.get("availableUntil")}), e.data.get("userId"))]


# --- moderation -----------------------------------------------------------------------------

_YOUR = {"status": "Your status", "suggestion": "Your suggested reading", "review": "Your review",
         "profile": "Your profile"}


def _moderated_url(e: Event) -> str:
    kind_, content_id, parent_id = e.data.get("contentType"), e.data.get("contentId"), e.data.get("parentId")
    if kind_ == "status" and content_id:
        return f"/statuses/{content_id}"
    if kind_ == "suggestion" and parent_id:
        return f"/statuses/{parent_id}"
    if kind_ == "review" and content_id:
        return f"/readings/{content_id}"
    return "/reader/profile" if kind_ == "profile" else "/"


_PROFILE_FIELDS = {"displayName": "display name", "tagline": "tagline", "bio": "bio", "location": "location"}


def _what_moderated(e: Event) -> tuple[str, bool]:
    """("Your bio", False), ("Your tagline and bio", True), ("Your status", False): the content or,
    for a profile, the fields the decision was about; and whether that is plural."""
    kind_ = str(e.data.get("contentType"))
    fields = [_PROFILE_FIELDS[f] for f in _PROFILE_FIELDS if f in (e.data.get("fields") or ())]
    options = [f for f in e.data.get("fields") or () if str(f).startswith("readingOptions.")]  # an option's text
    if kind_ != "profile" or not (fields or options) or (len(fields) == len(_PROFILE_FIELDS) and not options):
        return _YOUR.get(kind_, "Your post"), False
    if options:
        fields.append("reading option" if len(options) == 1 else "reading options")
    named = fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1]
    return f"Your {named}", len(fields) > 1 or len(options) > 1


@rule("moderation.decided")
def _moderated(e: Event, n: Names) -> list[Target]:
    what, plural = _what_moderated(e)
    was, it, is_ = ("were", "them", "are") if plural else ("was", "it", "is")
    if e.data.get("outcome") == "hidden":
        title, message = (f"{what} {was} hidden", f"{what} {was} hidden by a moderator for breaking the community "
                          f"guidelines. Only you can see {it} now; change {it} to publish new text.")
    else:
        title, message = (f"{what} {is_} public",
                          f"A moderator looked at {what[0].lower() + what[1:]}: everyone can see {it} now.")
    return [_to(Note(T.CONTENT_MODERATED, title, message, e.data.get("itemId"), _moderated_url(e),
                     {"contentType": e.data.get("contentType"), "outcome": e.data.get("outcome")}),
                e.data.get("authorId"))]


# --- the platform ---------------------------------------------------------------------------

@rule("system.alert")
def _alert(e: Event, n: Names) -> list[Target]:
    kind_ = str(e.data.get("kind") or "")
    return [Target(Note(T.SYSTEM_ALERT, words.alert_title(kind_), words.alert_message(e.data), e.event_id,
                        "/admin", {"kind": kind_}), audience="admins")]


# Relayed events that notify nobody, and why (tests/unit/test_notification_rules.py checks
# that every emitted event is either here or in RULES).
SILENT: dict[str, str] = {
    "reading.started": "the client is in the session already; the join page follows it live",
    "reading.session_ready": "the join page follows it live",
    "reading.reminder": "replaced by reading.reminder_due (24 h and 15 min reminders)",
    "reading.delivery_overdue": "an operations flag, not a user notification",
    "credits.reversed": "a chargeback or refund the user started at their bank; GET /credits shows it",
    "reader.card_changed": "an internal cache event",
    "reader.online_changed": "real-time status, not a notification",
    "user.deleted": "the account is gone",
    "data_export.requested": "the export job's trigger; the user is told when the export is ready (data_export.ready)",
    "user.suspended": "the user meets it on their next request (403 account_suspended; GET /me shows the reason and "
                      "the end), and a suspended user reads no notifications",
    "user.reinstated": "the account simply works again; GET /me shows it active",
    "user.role_changed": "an admin's decision about staff access; GET /me shows the new role",
    "user.age_verified": "the user did it themselves",
    "user.signed_up": "counted in the platform metrics; the welcome is onboarding's",
    "stripe.event_received": "an internal relay",
    "payout.requested": "the transfer's trigger; the reader is told when it is sent (payout.sent) or fails",
    "quality.warning_resolved": "GET /reader/quality shows it resolved; the reader was told when it opened",
}

# Notification types no capability produces yet.
NOT_PRODUCED_YET: dict[str, str] = {}
