"""The fan-out's table: every relayed event notifies the right people with the right type,
in sentences that name the other party and never show an id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.domain.notifications import NOTIFICATION_TYPES
from chalicelib.services.notifications import rules
from chalicelib.services.readings.table import TRANSITIONS

ROOT = Path(__file__).resolve().parents[2]
CLIENT, READER, BUYER = "user_2Xc9ClientAbc", "user_2Xc9ReaderXyz", "user_2Xc9BuyerQrs"
READING = "01JREADINGIDXXXXXXXXXXXXXX"
IDS = (CLIENT, READER, BUYER, READING, "01JUPLOADID", "cs_test_session", "in_test_invoice", "sts_01JSTATUS", "sug_1",
       "mod_1")


class Names:
    def __init__(self, known: bool = True):
        self.known = known

    def client(self, user_id):
        return {CLIENT: "Maria", BUYER: "Tom"}.get(user_id) if self.known else None

    def reader(self, reader_id):
        return {READER: "Luna Starling"}.get(reader_id) if self.known else None


def _event(type_, **data):
    return rules.Event("01JEVENTIDXXXXXXXXXXXXXXXX", type_, "2025-03-01T10:00:00.000Z", data)


def _reading(type_, **extra):
    return _event(type_, readingId=READING, clientId=CLIENT, readerId=READER, type="live_video", **extra)


# (event, [(recipient or audience, notification type)])
CASES = [
    (_reading("reading.requested", credits=40), [(READER, "reading_request")]),
    (_reading("reading.accepted", by="reader"), [(CLIENT, "reading_accepted")]),
    (_reading("reading.declined", by="reader"), [(CLIENT, "reading_declined")]),
    (_reading("reading.expired", by="system"), [(CLIENT, "reading_declined"), (READER, "reading_cancelled")]),
    (_reading("reading.cancelled", by="client"), [(READER, "reading_cancelled")]),
    (_reading("reading.cancelled", by="reader", refunded=40), [(CLIENT, "reading_cancelled")]),
    (_reading("reading.completed", by="reader", paid=32),
     [(READER, "earnings_received"), (CLIENT, "reading_completed")]),
    (_reading("reading.completed", by="client", paid=32), [(READER, "earnings_received")]),
    (_reading("reading.delivered", by="reader", paid=32),
     [(CLIENT, "reading_completed"), (READER, "earnings_received")]),
    (_reading("reading.no_show", by="client", refunded=40), [(READER, "reading_cancelled")]),
    (_reading("reading.no_show", by="reader", paid=32),
     [(CLIENT, "reading_cancelled"), (READER, "earnings_received")]),
    (_reading("reading.reminder_due", minutesBefore=15),
     [(CLIENT, "reading_reminder"), (READER, "reading_reminder")]),
    (_reading("dispute.filed", by="client", reason="The reader never answered."),
     [("admins", "dispute_filed"), (READER, "dispute_filed")]),
    (_reading("dispute.resolved", by="admin", outcome="full_refund", refunded=40),
     [(CLIENT, "dispute_resolved"), (READER, "dispute_resolved")]),
    (_reading("dispute.resolved", by="admin", outcome="reject", refunded=0),
     [(CLIENT, "dispute_resolved"), (READER, "dispute_resolved")]),
    (_event("review.created", readingId=READING, readerId=READER, clientId=CLIENT, rating=5),
     [(READER, "review_received")]),
    (_event("credits.purchased", userId=BUYER, credits=60, packageId="seeker", sessionId="cs_test_session"),
     [(BUYER, "credits_purchased")]),
    (_event("subscription.credits_granted", userId=BUYER, credits=100, expired=5, planId="p",
            invoiceId="in_test_invoice"), [(BUYER, "credits_purchased")]),
    (_event("reader_application.submitted", application_id=CLIENT, user_id=CLIENT, submission=1),
     [("admins", "application_submitted")]),
    (_event("reader_application.approved", application_id=CLIENT, user_id=CLIENT), [(CLIENT, "application_approved")]),
    (_event("reader_application.declined", application_id=CLIENT, user_id=CLIENT, reason="Too short."),
     [(CLIENT, "application_declined")]),
    (_event("media.processed", userId=BUYER, purpose="profile_image", uploadId="01JUPLOADID"),
     [(BUYER, "media_processed")]),
    (_event("media.rejected", userId=BUYER, purpose="profile_image", uploadId="01JUPLOADID",
            reason="The image is damaged or could not be read."), [(BUYER, "media_rejected")]),
    (_event("badge.awarded", readerId=READER, badgeId="b1", badgeName="Rising Star"), [(READER, "badge_awarded")]),
    (_event("status.posted", statusId="sts_01JSTATUS", clientId=CLIENT, category="love", categoryName="Love",
            excerpt="Will he come back after the summer?"), [("specialists:love", "status_posted")]),
    (_event("status.suggested", statusId="sts_01JSTATUS", suggestionId="sug_1", clientId=CLIENT, readerId=READER,
            title="Three-card spread", suggestedType="phone_call", credits=45), [(CLIENT, "suggested_reading")]),
    (_event("status.closed", statusId="sts_01JSTATUS", clientId=CLIENT, reason="accepted", readerIds=[BUYER],
            acceptedSuggestionId="sug_1", acceptedReaderId=READER, readingId=READING),
     [(READER, "status_response"), (BUYER, "status_response")]),
    (_event("status.closed", statusId="sts_01JSTATUS", clientId=CLIENT, reason="expired", readerIds=[READER],
            acceptedSuggestionId=None, acceptedReaderId=None, readingId=None), [(READER, "status_response")]),
    (_event("system.alert", kind="ledger_mismatch",
            message="The ledger check found 1 account whose balance differs from its postings."),
     [("admins", "system_alert")]),
    (_event("quality.warning_opened", readerId=READER, warningId="cancellation_rate.20260615T120000000Z",
            kind="cancellation_rate", title="Too many cancellations", value=0.25, threshold=0.1,
            message="You cancelled 25% of the readings you accepted over the last 30 days, more than 10%."),
     [(READER, "quality_warning")]),
    (_event("moderation.decided", itemId="mod_1", contentType="review", contentId=READING, parentId=READER,
            authorId=CLIENT, outcome="hidden"), [(CLIENT, "content_moderated")]),
    (_event("moderation.decided", itemId="mod_1", contentType="profile", contentId=READER, authorId=READER,
            outcome="published"), [(READER, "content_moderated")]),
    (_event("data_export.ready", userId=BUYER, exportId="01JEXPORTIDXXXXXXXXXXXXXXX",
            availableUntil="2025-03-08T10:00:04.000Z"), [(BUYER, "data_export_ready")]),
    (_event("payout.sent", payoutId="po_1", readerId=READER, credits=120, amountMinor=2400, currency="usd"),
     [(READER, "payout_sent")]),
    (_event("payout.failed", payoutId="po_1", readerId=READER, credits=120, amountMinor=2400, currency="usd",
            status="reversed", reason="The transfer to your payout account was reversed."),
     [(READER, "payout_failed")]),
    (_event("payouts.held", readerId=READER, heldAt="2026-12-07T09:00:00.000Z"), [(READER, "payouts_held")]),
    (_event("payouts.released", readerId=READER, releasedAt="2026-12-08T09:00:00.000Z"),
     [(READER, "payouts_released")]),
]


def _who(target):
    return target.audience or target.user_ids[0]


def _case_id(event: rules.Event) -> str:
    return f"{event.type}-{event.data.get('by') or event.data.get('reason') or ''}"


@pytest.mark.parametrize(("event", "expected"), CASES, ids=[_case_id(c[0]) for c in CASES])
@pytest.mark.parametrize("known", [True, False], ids=["names", "no-names"])
def test_each_event_reaches_its_people_in_sentences_without_ids(event, expected, known):
    targets = rules.targets(event, Names(known))

    assert [(_who(t), t.note.type) for t in targets] == expected
    for target in targets:
        note = target.note
        assert note.type in NOTIFICATION_TYPES
        assert note.title and note.title[0].isupper() and not note.title.endswith(".")
        assert note.message[0].isupper() and note.message.endswith("."), note.message
        assert "None" not in note.message and "  " not in note.message
        assert not any(raw in note.title + note.message for raw in IDS), note.message
        assert note.action_url and note.action_url.startswith("/")
        assert len(target.user_ids) <= 1 and (target.audience is None) == bool(target.user_ids)


def test_messages_name_the_other_party_when_known():
    requested = rules.targets(_reading("reading.requested", credits=40), Names())[0].note
    accepted = rules.targets(_reading("reading.accepted", by="reader"), Names())[0].note
    dispute = rules.targets(_reading("dispute.filed", by="client"), Names())[0].note

    assert requested.message.startswith("Maria requested a live video reading (40 credits).")
    assert accepted.message == "Luna Starling accepted your live video reading request."
    assert "Maria" in dispute.message and "Luna Starling" in dispute.message
    assert (requested.action_url, dispute.action_url) == (f"/readings/{READING}", f"/admin/disputes/{READING}")


def test_a_review_tells_the_reader_who_rated_what():
    [target] = rules.targets(_event("review.created", readingId=READING, readerId=READER, clientId=CLIENT, rating=1),
                             Names())

    assert (target.note.type, target.note.title, target.note.message) == (
        "review_received", "New review", "Maria rated your reading 1 star.")
    assert target.note.action_url == f"/readings/{READING}"


@pytest.mark.parametrize(("fields", "outcome", "title", "message"), [
    (["bio"], "hidden", "Your bio was hidden",
     "Your bio was hidden by a moderator for breaking the community guidelines. Only you can see it now; "
     "change it to publish new text."),
    (["bio", "tagline"], "hidden", "Your tagline and bio were hidden",
     "Your tagline and bio were hidden by a moderator for breaking the community guidelines. Only you can "
     "see them now; change them to publish new text."),
    (["displayName"], "published", "Your display name is public",
     "A moderator looked at your display name: everyone can see it now."),
    (["location"], "published", "Your location is public",
     "A moderator looked at your location: everyone can see it now."),
    (["readingOptions.opt_1.description"], "published", "Your reading option is public",
     "A moderator looked at your reading option: everyone can see it now."),
    (["bio", "readingOptions.opt_1.name", "readingOptions.opt_1.description"], "hidden",
     "Your bio and reading options were hidden",
     "Your bio and reading options were hidden by a moderator for breaking the community guidelines. Only you can "
     "see them now; change them to publish new text."),
    ([], "hidden", "Your profile was hidden",
     "Your profile was hidden by a moderator for breaking the community guidelines. Only you can see it now; "
     "change it to publish new text."),
])
def test_a_profile_decision_names_the_fields_it_was_about(fields, outcome, title, message):
    [target] = rules.targets(_event("moderation.decided", itemId="mod_1", contentType="profile", contentId=READER,
                                    authorId=READER, outcome=outcome, fields=fields), Names())

    assert (target.note.type, target.note.title, target.note.message) == ("content_moderated", title, message)


@pytest.mark.parametrize(("outcome", "refunded", "client_says", "reader_says"), [
    ("full_refund", 40, "The reading was refunded in full: 40 credits were added back to your balance.",
     "The reading was refunded in full: 40 credits went back to the client."),
    ("partial_refund", 1, "The reading was refunded in part: 1 credit was added back to your balance.",
     "The reading was refunded in part: 1 credit went back to the client."),
    ("reject", 0, "The dispute was rejected: the reading stands as completed.",
     "The dispute was rejected: the reading stands as completed and your earnings are unchanged."),
])
def test_a_resolved_dispute_tells_both_parties_the_outcome(outcome, refunded, client_says, reader_says):
    client, reader = rules.targets(_reading("dispute.resolved", by="admin", outcome=outcome, refunded=refunded),
                                   Names())

    assert client.user_ids == (CLIENT,) and reader.user_ids == (READER,)
    assert client.note.message == ("An admin resolved your dispute about the live video reading with Luna Starling. "
                                   + client_says)
    assert reader.note.message == ("An admin resolved the dispute Maria filed about your live video reading. "
                                   + reader_says)
    assert client.note.action_url == reader.note.action_url == f"/readings/{READING}"


@pytest.mark.parametrize(("data", "title", "message"), [
    ({"kind": "ledger_mismatch", "message": "The ledger check found 2 accounts whose balance differs."},
     "Ledger check failed", "The ledger check found 2 accounts whose balance differs."),
    ({"kind": "other", "message": "  the queue   is backing up "}, "System alert", "The queue is backing up."),
    ({}, "System alert", "An automated check found a problem. The logs have the details."),
])
def test_a_system_alert_reaches_every_admin_in_a_sentence(data, title, message):
    [target] = rules.targets(_event("system.alert", **data), Names())

    assert (target.audience, target.user_ids) == ("admins", ())
    assert (target.note.type, target.note.title, target.note.message) == ("system_alert", title, message)
    assert target.note.action_url == "/admin"


def test_reminders_say_when():
    day = rules.targets(_reading("reading.reminder_due", minutesBefore=1440), Names())[0].note
    soon = rules.targets(_reading("reading.reminder_due", minutesBefore=15), Names())[1].note

    assert day.message == "Your live video reading with Luna Starling starts in 24 hours."
    assert soon.message == "Your live video reading with Maria starts in 15 minutes."


def test_singular_and_plural_credits():
    one = rules.targets(_event("credits.purchased", userId=BUYER, credits=1), Names())[0].note
    many = rules.targets(_reading("reading.completed", by="client", paid=32), Names())[0].note

    assert one.message == "Your purchase went through: 1 credit was added to your balance."
    assert many.message == "Your live video reading with Maria is complete: 32 credits were added to your earnings."


def _emitted_events() -> set[str]:
    """Every event type the code emits: literal ``outbox.emit`` names, the transitions'
    events, the timers' and the module constants passed to emit."""
    found = {step.event for action in TRANSITIONS.values() for step in action.steps}
    literal = re.compile(r"outbox\.emit\(\s*tx,\s*\"([a-z_.]+)\"")
    constant = re.compile(r"outbox\.emit\(\s*tx,\s*([A-Z_]+)\b")
    for path in (ROOT / "chalicelib").rglob("*.py"):
        text = path.read_text()
        found.update(literal.findall(text))
        for name in constant.findall(text):
            value = re.search(rf"^{name}\s*=\s*\"([a-z_.]+)\"", text, re.M)
            assert value, f"{path}: {name} is not a module constant"
            found.add(value.group(1))
        found.update(re.findall(r"\(\"[a-z_]+\",\s*\"(reading\.[a-z_]+)\",", text))  # timers.NOTICES
    return found


def test_every_emitted_event_notifies_someone_or_says_why_not():
    emitted = _emitted_events()
    assert {"reading.requested", "credits.purchased", "dispute.filed", "reader_application.submitted"} <= emitted

    assert sorted(emitted - set(rules.RULES) - set(rules.SILENT)) == []


def test_every_notification_type_has_a_producer_or_is_listed_as_not_yet():
    produced = {target.note.type for event, _ in CASES for target in rules.targets(event, Names())}

    assert sorted(set(NOTIFICATION_TYPES) - produced - set(rules.NOT_PRODUCED_YET)) == []
    assert not produced & set(rules.NOT_PRODUCED_YET)
