"""DELETE /me: the account is soft-deleted at once (its tokens refused, a reader out of explore
and unbookable), its readings in flight are cancelled with their credits moved through the
ledger, and after the retention period the purge leaves no personal value of it in any table,
while everyone else's data stays as it was."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.support.explore import reader
from tests.support.readings import balance, book, make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")

# The two accounts deleted, and the distinctive values each one left behind.
ANN = {
    "email": "zephyrine.quill@example.org",
    "name": "Zephyrine Quillfeather",
    "status": "Glassbird worries about my career keep me up",
    "question": "Orchardmoon question for the reader",
    "review": "Amberlight words about the reading",
    "dispute": "Saltmarrow: the call dropped twice",
    "search": "velvetquery tarot",
    "held_status": "Brindlewick: call me on 555 123 4567 about my career",
    "held_review": "Mossgrove was lovely, text me on 555 987 6543",
    "report": "Cinderhollow: this profile reads like spam to me",
}
QUILL = {
    "email": "ignatius.moth@example.org",
    "name": "Ignatius Mothwing",
    "tagline": "Lamplighter readings",
    "bio": "Reading the cards in Thornbury since forever",
    "location": "Thornbury",
    "message": "Lanternsong offer, just for you",
    "option": "Mothwing candle call",
    "closed_message": "Duskwhistle offer for a status since closed",
    "pending_bio": "Gorsebramble readings, ring 555 246 8101",  # a held edit: pendingBio
}
FORBIDDEN = [
    ANN["email"],
    "Zephyrine",
    "Quillfeather",
    "Glassbird",
    "Orchardmoon",
    "Amberlight",
    "Saltmarrow",
    "velvetquery",
    "Brindlewick",
    "555 123 4567",
    "Mossgrove",
    "555 987 6543",
    "Cinderhollow",
    QUILL["email"],
    "Ignatius",
    "Mothwing",
    "Lamplighter",
    "Thornbury",
    "Lanternsong",
    "Duskwhistle",
    "Gorsebramble",
    "555 246 8101",
]
# Bob's, and the reader's who stays: they must all still be there.
BOB = {
    "email": "bartholomew.oak@example.org",
    "name": "Bartholomew Oakhaven",
    "status": "Copperfern question about my next job",
    "review": "Ironwillow insight from the reader",
}


def _rename(user_id: str, name: str, email: str) -> None:
    from chalicelib.models.users import User

    User(user_id=user_id).update(actions=[User.display_name.set(name), User.email.set(email)])


def _complete(client: str, reader_id: str, *, question: str | None = None) -> str:
    from chalicelib.services import readings

    reading = book(client, reader_id, question=question)
    readings.accept(reading.reading_id, reader_id, "reader")
    readings.start(reading.reading_id, reader_id, "reader")
    readings.complete(reading.reading_id, reader_id, "reader")
    return str(reading.reading_id)


def _put_media(user_id: str) -> str:
    from chalicelib.config import get_settings
    from chalicelib.integrations import s3

    key = f"media/{user_id}/profile_image/01JMEDIAXXXXXXXXXXXXXXXXXX/256.webp"
    s3.put(get_settings().media_bucket_name, key, b"RIFF0000WEBPVP8 ", content_type="image/webp")
    return key


@pytest.fixture()
def world(api: Any, drain: Any, make_user: Any) -> dict[str, Any]:
    """Ann (a client) and Quill (a reader), both about to leave; Bob (a client) and Rdr (a
    reader) who stay, and an admin. They have met: readings between them, reviews, a dispute,
    statuses announced to the readers and a suggestion, favorites, exports, analytics."""
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.readings import Reading
    from chalicelib.models.users import User
    from chalicelib.services import compliance, readings, statuses
    from chalicelib.services.explore import store
    from chalicelib.services.moderation import reports as moderation_reports

    make_user("adm", role="admin", display_name="Ada Admin")
    options = [
        {
            "id": "opt_quill",
            "type": "phone_call",
            "name": QUILL["option"],
            "description": "",
            "duration": 30,
            "price": 60,
            "isActive": True,
        }
    ]
    reader("rdr", tools=("tarot",), abilities=("clairvoyant",), online=True, bio="Rdr reads the cards plainly.")
    reader(
        "quill",
        tools=("tarot",),
        abilities=("clairvoyant",),
        online=True,
        display_name=QUILL["name"],
        tagline=QUILL["tagline"],
        bio=QUILL["bio"],
        location=QUILL["location"],
        reading_options=options,
    )
    _rename("quill", QUILL["name"], QUILL["email"])
    for client, person in (("ann", ANN), ("bob", BOB)):
        make_client(client, 500)
        _rename(client, person["name"], person["email"])
        api.put("/me/preferences", as_user=client, json_body={"theme": "dark", "timezone": "Europe/Lisbon"})
    store.rebuild()

    bob_closed = statuses.create(
        User.get("bob"), content="Bob's earlier question, closed", mood=None, category="career"
    )
    statuses.suggest(
        "quill",
        bob_closed.status_id,
        title="An earlier career spread",
        description="We look at the old job.",
        suggested_type="phone_call",
        option_id=None,
        duration=30,
        suggested_price=None,
        message=QUILL["closed_message"],
        scheduled_at=None,
    )
    statuses.close("bob", bob_closed.status_id)
    ann_status = statuses.create(User.get("ann"), content=ANN["status"], mood=None, category="career")
    held_status = statuses.create(User.get("ann"), content=ANN["held_status"], mood=None, category="career")
    assert held_status.moderation == "held"  # a queue item quotes it
    bob_status = statuses.create(User.get("bob"), content=BOB["status"], mood=None, category="career")
    statuses.suggest(
        "quill",
        bob_status.status_id,
        title="A career spread",
        description="We look at the job.",
        suggested_type="phone_call",
        option_id=None,
        duration=30,
        suggested_price=None,
        message=QUILL["message"],
        scheduled_at=None,
    )
    statuses.suggest(
        "rdr",
        ann_status.status_id,
        title="A plain career spread",
        description="Cards and a plan.",
        suggested_type="phone_call",
        option_id=None,
        duration=30,
        suggested_price=None,
        message=None,
        scheduled_at=None,
    )

    ann_with_rdr = _complete("ann", "rdr", question=ANN["question"])
    readings.review(ann_with_rdr, "ann", "client", rating=4, comment=ANN["review"])
    readings.open_dispute(ann_with_rdr, "ann", "client", reason=ANN["dispute"])
    ann_requests_quill = book("ann", "quill", question=ANN["question"]).reading_id
    ann_held_review = _complete("ann", "rdr", question=ANN["question"])
    readings.review(ann_held_review, "ann", "client", rating=2, comment=ANN["held_review"])
    assert Reading.get(ann_held_review).review["moderation"] == "held"
    moderation_reports.report(
        "ann", "client", content_type="profile", content_id="rdr", reason="spam", note=ANN["report"]
    )
    bob_with_quill = _complete("bob", "quill", question="A question of Bob's")
    readings.review(bob_with_quill, "bob", "client", rating=5, comment=BOB["review"])
    bob_accepted_by_quill = book("bob", "quill").reading_id
    readings.accept(bob_accepted_by_quill, "quill", "reader")

    for favorite in ("rdr", "quill"):
        api.put(f"/me/favorites/{favorite}", as_user="ann")
    compliance.record_consents("ann", {"marketing": True})
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    api.post(
        "/events",
        as_user="ann",
        json_body={
            "sessionId": "session-ann-0000000001",
            "events": [
                {
                    "type": "search",
                    "eventId": "evt-ann-search-1",
                    "occurredAt": at,
                    "query": ANN["search"],
                    "results": 2,
                }
            ],
        },
    )
    api.post("/me/data-export", as_user="ann")
    for user_id in ("ann", "quill"):
        key = _put_media(user_id)
        User(user_id=user_id).update(actions=[User.image_url.set(key)])
    ReaderProfile(reader_id="quill", version=0).update(
        actions=[ReaderProfile.profile_image.set(_put_media("quill"))], add_version_condition=False
    )
    held = api.patch("/reader/profile", as_user="quill", json_body={"bio": QUILL["pending_bio"]})
    assert held.status_code == 200 and ReaderProfile.get("quill").pending_bio == QUILL["pending_bio"], held.body
    drain()
    return {
        "ann_requests_quill": ann_requests_quill,
        "bob_accepted_by_quill": bob_accepted_by_quill,
        "ann_with_rdr": ann_with_rdr,
        "bob_with_quill": bob_with_quill,
        "bob_status": bob_status.status_id,
    }


def _items(table: str) -> list[dict[str, Any]]:
    """Every item of a table (a Scan is fine in a test), as plain values."""
    from boto3.dynamodb.types import TypeDeserializer

    from chalicelib.integrations import aws

    deserializer = TypeDeserializer()
    client = aws.client("dynamodb")
    found, start = [], None
    while True:
        page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        found += [{k: deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


def _text(item: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, set | frozenset):
            return sorted(plain(v) for v in value)
        if isinstance(value, bytes):
            return value.decode(errors="replace")
        return value

    return json.dumps(item, default=plain, ensure_ascii=False).lower()


def _every_table() -> list[str]:
    from chalicelib.models.registry import ALL_MODELS

    return sorted({model.Meta.table_name for model in ALL_MODELS})


def _alive(item: dict[str, Any], at: datetime) -> bool:
    """DynamoDB's TTL deletes an item past its ``expiresAt`` (moto does not): such items are gone."""
    expires = item.get("expiresAt")
    return not isinstance(expires, Decimal | int) or int(expires) > at.timestamp()


def _personal_values(at: datetime) -> dict[str, list[str]]:
    """Walk every table of the registry: where each personal value of Ann and Quill is (items
    past their TTL at ``at`` left out), as ``{table: ["<value> in <item>", ...]}``."""
    found: dict[str, list[str]] = {}
    for table in _every_table():
        for item in _items(table):
            if not _alive(item, at):
                continue
            text = _text(item)
            found.setdefault(table, []).extend(
                f"{value!r} in {text[:300]}" for value in FORBIDDEN if value.lower() in text
            )
    return {table: hits for table, hits in found.items() if hits}


def test_after_the_deletion_and_the_purge_no_personal_value_remains_in_any_table(world, api, drain):
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.services import consent_history, ledger_check, privacy

    later = datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1)
    before = _personal_values(later)
    assert [entry["consent"] for entry in consent_history.all_of("ann")] == ["marketing"]
    # The world put them everywhere the purge must reach: their own items and others' copies.
    assert {
        "users",
        "readers",
        "readings",
        "reviews",
        "statuses",
        "moderation",
        "notifications",
        "ledger-lines",
        "ledger-entries",
        "analytics",
    } <= {table.removeprefix(f"{get_settings().resource_prefix}-") for table in before}

    assert api.delete("/me", as_user="ann").status_code == 202
    assert api.delete("/me", as_user="quill").status_code == 202
    drain()
    assert privacy.purge_due(now=later) == {"purged": 2, "failed": 0, "left": 0}
    drain()

    leftovers = _personal_values(later)
    assert not leftovers, "\n".join(f"{table}: {hit}" for table, hits in leftovers.items() for hit in hits)
    assert consent_history.all_of("ann") == []  # the consents' history goes with the account

    bucket = get_settings().media_bucket_name
    for prefix in ("media/ann/", "media/quill/", "exports/ann/"):
        assert aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("KeyCount") == 0, prefix
    assert ledger_check.run().ok


def test_the_others_data_is_intact_after_the_purge(world, api, drain):
    from chalicelib.config import get_settings
    from chalicelib.models.ledger import LedgerLine
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.readings import Review
    from chalicelib.models.statuses import Status
    from chalicelib.models.users import User
    from chalicelib.services import privacy

    bob_lines = sorted((line.sk, dict(line.changes.as_dict())) for line in LedgerLine.query("bob"))
    api.delete("/me", as_user="ann")
    api.delete("/me", as_user="quill")
    drain()
    privacy.purge_due(now=datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1))

    bob = User.get("bob")
    assert (bob.email, bob.display_name, bob.status) == (BOB["email"], BOB["name"], "active")
    assert Status.get(world["bob_status"]).content == BOB["status"]
    [bobs_review] = [r for r in Review.query("quill") if r.client_id == "bob"]
    assert (bobs_review.comment, bobs_review.rating) == (BOB["review"], 5)
    rdr = ReaderProfile.get("rdr")
    assert (rdr.display_name, rdr.bio, rdr.status) == ("Rdr Reader", "Rdr reads the cards plainly.", "approved")
    # Bob's ledger: the same lines with the same amounts (Quill's refund of the accepted reading
    # came before the purge), only the reader's name left the booking memos.
    after = sorted((line.sk, dict(line.changes.as_dict())) for line in LedgerLine.query("bob"))
    assert [sk for sk, _ in after][: len(bob_lines)] == [sk for sk, _ in bob_lines]
    assert all(changes == dict(after)[sk] for sk, changes in bob_lines)


def test_the_tombstones_keep_ids_balances_and_the_ledger(world, api, drain):
    from chalicelib.config import get_settings
    from chalicelib.models.ledger import LedgerLine
    from chalicelib.models.privacy import Erasure
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.readings import Reading
    from chalicelib.models.users import User
    from chalicelib.services import privacy

    api.delete("/me", as_user="ann")
    drain()
    before = balance("ann")
    lines = LedgerLine.query("ann")
    count = len(list(lines))
    moment = datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1)
    privacy.purge_due(now=moment)

    ann = User.get("ann")
    assert (ann.status, ann.role, ann.email, ann.display_name, ann.image_url, ann.preferences) == (
        "deleted",
        "client",
        None,
        None,
        None,
        None,
    )
    assert balance("ann") == before and len(list(LedgerLine.query("ann"))) == count
    reading = Reading.get(world["ann_with_rdr"])
    assert reading.client_id == "ann" and reading.question is None
    assert reading.review["rating"] == 4 and reading.review["comment"] == ""
    assert reading.dispute["reason"] == "" and reading.status == "disputed"
    erasure = Erasure.get("ann", "erasure")
    assert erasure.purged_at is not None and erasure.purge_due is None
    assert privacy.purge_due(now=moment + timedelta(days=1)) == {"purged": 0, "failed": 0, "left": 0}
    assert ReaderProfile.get("rdr").recent_reviews[0]["clientName"] == "Former client"


def test_delete_me_refuses_the_token_from_the_next_request_and_is_audited(api, make_user):
    from chalicelib.services import audit

    make_client("ann", 0)
    deleted = api.delete("/me", as_user="ann")

    assert deleted.status_code == 202, deleted.body
    body = deleted.json_body
    assert (body["id"], body["status"]) == ("ann", "deleted")
    assert datetime.fromisoformat(body["purgeAfter"]) - datetime.fromisoformat(body["deletedAt"]) == timedelta(days=30)
    for method, path in (("GET", "/me"), ("POST", "/me/data-export"), ("DELETE", "/me"), ("GET", "/notifications")):
        refused = api.request(method, path, as_user="ann")
        assert (refused.status_code, refused.json_body["error"]["code"]) == (401, "account_deleted"), path
    [record] = [r for r in audit.history("user", "ann") if r.action == "user.delete"]
    assert (record.actor_id, record.after["status"]) == ("ann", "deleted") and record.request_id


def test_an_admin_cannot_delete_their_own_account(api, make_user):
    make_user("adm", role="admin")

    refused = api.delete("/me", as_user="adm")

    assert (refused.status_code, refused.json_body["error"]["code"]) == (422, "admin_account")
    assert api.get("/me", as_user="adm").status_code == 200


def test_a_deleted_reader_leaves_explore_and_cannot_be_booked(api, drain):
    from chalicelib.models.readers import ReaderProfile

    make_reader("rdr", online=True)
    make_client("ann", 200)
    assert api.get("/readers/rdr").status_code == 200

    assert api.delete("/me", as_user="rdr").status_code == 202

    assert api.get("/readers/rdr").status_code == 404
    profile = ReaderProfile.get("rdr")
    assert (profile.status, profile.is_online, profile.online_flag) == ("deleted", False, None)
    quote = api.post(
        "/readings/quote", as_user="ann", json_body={"readerId": "rdr", "optionType": "phone_call", "duration": 30}
    )
    assert quote.status_code == 404, quote.body


def test_readings_in_flight_are_cancelled_and_their_credits_move_through_the_ledger(api, drain):
    from chalicelib.services import ledger_check, readings
    from tests.support.readings import status_of

    make_reader("rdr")
    make_reader("sol")
    make_client("ann", 500)
    make_client("bob", 500)
    requested = book("ann", "rdr").reading_id
    accepted = book("ann", "sol").reading_id
    readings.accept(accepted, "sol", "reader")
    bobs_request = book("bob", "rdr").reading_id
    bobs_accepted = book("bob", "rdr", option_type="video_message").reading_id
    readings.accept(bobs_accepted, "rdr", "reader")

    api.delete("/me", as_user="ann")
    api.delete("/me", as_user="rdr")
    drain()

    assert (status_of(requested), status_of(accepted)) == ("cancelled", "cancelled")
    assert (status_of(bobs_request), status_of(bobs_accepted)) == ("declined", "cancelled")
    assert balance("ann")[:2] == (500, 0) and balance("bob")[:2] == (500, 0)
    assert balance("sol")[2] == 0
    assert ledger_check.run().ok


def test_a_later_clerk_user_deleted_changes_nothing_and_a_clerk_deletion_is_purged_too(api, drain):
    from chalicelib.config import get_settings
    from chalicelib.models.privacy import Erasure
    from chalicelib.models.users import User
    from chalicelib.services import clerk_sync, privacy

    make_client("ann", 0)
    make_client("bob", 100)  # "Bob Client"
    make_reader("rdr")
    book("bob", "rdr")
    api.delete("/me", as_user="ann")
    drain()
    first = Erasure.get("ann", "erasure")

    assert clerk_sync.delete_user("ann", now=datetime.now(UTC)) is False
    assert Erasure.get("ann", "erasure").deleted_at == first.deleted_at

    assert clerk_sync.delete_user("bob", now=datetime.now(UTC)) is True
    drain()
    bobs = Erasure.get("bob", "erasure")
    assert (bobs.source, bobs.purge_due) == ("clerk", "due")
    later = datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1)
    assert privacy.purge_due(now=later)["purged"] == 2
    assert User.get("bob").status == "deleted"
    # Clerk's deletion removed Bob's name from his item at once; the erasure kept it for the
    # purge, which took it out of the reader's notifications, then dropped it.
    notes = api.get("/notifications", as_user="rdr").json_body["data"]
    [request] = [note for note in notes if note["type"] == "reading_request"]
    assert request["message"].startswith("A former client requested")
    assert not [note for note in notes if "Bob" in note["title"] + note["message"]]
    assert Erasure.get("bob", "erasure").names is None


def test_nothing_is_purged_before_the_retention_period_ends(api, drain):
    from chalicelib.config import get_settings
    from chalicelib.models.users import User
    from chalicelib.services import privacy

    make_client("ann", 0)
    api.delete("/me", as_user="ann")
    drain()

    soon = datetime.now(UTC) + timedelta(days=get_settings().account_retention_days - 1)
    assert privacy.purge_due(now=soon) == {"purged": 0, "failed": 0, "left": 0}
    assert User.get("ann").email == "ann@example.com"


def test_a_purge_that_keeps_failing_is_postponed_and_does_not_stall_the_others(api, drain, monkeypatch):
    from chalicelib.config import get_settings
    from chalicelib.models.base import iso
    from chalicelib.models.privacy import Erasure
    from chalicelib.models.users import User
    from chalicelib.services import privacy
    from chalicelib.services.privacy import erasure

    purging = importlib.import_module("chalicelib.services.privacy.purge")  # the package exports its purge()

    make_client("ann", 0)
    make_client("bob", 0)
    api.delete("/me", as_user="ann")  # Ann's purge comes due first, and always fails
    api.delete("/me", as_user="bob")
    drain()
    original_purge, original_due = purging.purge, erasure.due

    def failing(user_id: str, **kwargs: Any) -> bool:
        if user_id == "ann":
            raise RuntimeError("a purge that always fails")
        return original_purge(user_id, **kwargs)

    monkeypatch.setattr(purging, "purge", failing)
    monkeypatch.setattr(erasure, "due", lambda now: original_due(now, limit=1))  # one a run
    later = datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1)

    assert privacy.purge_due(now=later) == {"purged": 0, "failed": 1, "left": 0}
    ann = Erasure.get("ann", "erasure")
    assert (ann.attempts, ann.purge_due, ann.purge_at) == (1, "due", iso(later + timedelta(hours=1)))
    assert privacy.purge_due(now=later) == {"purged": 1, "failed": 0, "left": 0}  # Bob's turn
    assert User.get("bob").email is None
    assert privacy.purge_due(now=later + timedelta(hours=1)) == {"purged": 0, "failed": 1, "left": 0}
    assert Erasure.get("ann", "erasure").purge_at == iso(later + timedelta(hours=3))  # then 2 hours

    monkeypatch.setattr(purging, "purge", original_purge)
    assert privacy.purge_due(now=later + timedelta(hours=3)) == {"purged": 1, "failed": 0, "left": 0}
    assert User.get("ann").email is None


def test_a_deleted_readers_suggestion_on_a_closed_status_is_scrubbed(api, drain):
    from chalicelib.config import get_settings
    from chalicelib.models.statuses import Status
    from chalicelib.models.users import User
    from chalicelib.services import privacy, statuses

    make_reader("rdr")
    make_client("bob", 0)
    status = statuses.create(User.get("bob"), content="A question about my career path", mood=None, category="career")
    statuses.suggest(
        "rdr",
        status.status_id,
        title="A career spread",
        description="We look at the job.",
        suggested_type="phone_call",
        option_id=None,
        duration=30,
        suggested_price=None,
        message="Duskwhistle offer, just for you",
        scheduled_at=None,
    )
    statuses.close("bob", status.status_id)
    api.delete("/me", as_user="rdr")
    drain()
    privacy.purge_due(now=datetime.now(UTC) + timedelta(days=get_settings().account_retention_days, hours=1))

    [suggestion] = Status.get(status.status_id).suggestion_list()
    assert (suggestion["readerId"], suggestion["readerName"]) == ("rdr", "")
    assert "message" not in suggestion and "readerImage" not in suggestion
    assert Status.get(status.status_id).state == "closed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zephyrine requested a phone reading.", "A former client requested a phone reading."),
        ("Your phone reading with Zephyrine is complete.", "Your phone reading with a former client is complete."),
        ("Zephyrines and Zephyrine's cards.", "Zephyrines and a former client's cards."),
        ("An admin resolved the dispute Zephyrine filed.", "An admin resolved the dispute a former client filed."),
    ],
)
def test_a_name_leaves_other_peoples_text_in_words_they_can_still_read(text: str, expected: str) -> None:
    from chalicelib.domain.privacy import FORMER_CLIENT, without_names

    assert without_names(text, ["Zephyrine", "Z"], FORMER_CLIENT) == expected
