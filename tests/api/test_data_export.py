"""POST /me/data-export and GET /me/data-export/{exportId}: a job builds a JSON copy of
everything stored about the caller, and nothing of anyone else's; the caller is told when it
is ready and downloads it through a short-lived link signed on each GET."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.readings import book, make_client, make_reader

pytestmark = pytest.mark.usefixtures("default_catalog")

ANN = {
    "id": "ann",
    "email": "zephyrine.quill@example.org",
    "name": "Zephyrine Quillfeather",
    "status": "My glassbird orchard has stopped singing; what does it mean for my career?",
    "question": "Will the orchard of glassbirds bloom again?",
    "review": "Amberlight reading, truly kind words.",
    "search": "tarot for orchards",
}
BOB = {
    "id": "bob",
    "email": "bartholomew.oak@example.org",
    "name": "Bartholomew Oakhaven",
    "status": "Copperfern worries keep me awake at night, is my job safe?",
    "question": "Is the copperfern promotion coming?",
    "review": "Ironwillow insight, spot on.",
}


def _person(person: dict[str, str]) -> None:
    from chalicelib.models.users import User

    make_client(person["id"], 300)
    User(user_id=person["id"]).update(actions=[User.display_name.set(person["name"]), User.email.set(person["email"])])


def _completed_reading_with_review(client: str, question: str, comment: str) -> str:
    from chalicelib.services import readings

    reading = book(client, "rdr", question=question)
    readings.accept(reading.reading_id, "rdr", "reader")
    readings.start(reading.reading_id, "rdr", "reader")
    readings.complete(reading.reading_id, "rdr", "reader")
    readings.review(reading.reading_id, client, "client", rating=5, comment=comment)
    return str(reading.reading_id)


@pytest.fixture()
def world(api: Any, drain: Any) -> Any:
    """Two clients, Ann and Bob, each with preferences, a status, a reviewed reading with the
    same reader, a favorite, notifications and ledger lines; Ann also with consents and an
    analytics search."""
    from chalicelib.models.users import User
    from chalicelib.services import compliance, statuses

    make_reader("rdr")
    for person in (ANN, BOB):
        _person(person)
        api.put("/me/preferences", as_user=person["id"], json_body={"theme": "dark", "timezone": "Europe/Lisbon"})
        statuses.create(User.get(person["id"]), content=person["status"], mood=None, category="career")
        _completed_reading_with_review(person["id"], person["question"], person["review"])
        assert api.put("/me/favorites/rdr", as_user=person["id"]).status_code in (200, 201, 204)
    compliance.record_consents(ANN["id"], {"marketing": True, "analytics": False})
    compliance.record_consents(BOB["id"], {"thirdParty": True}, source="signup")  # not in Ann's history
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sent = api.post(
        "/events",
        as_user=ANN["id"],
        json_body={
            "sessionId": "session-ann-0000000001",
            "events": [
                {
                    "type": "search",
                    "eventId": "evt-ann-search-1",
                    "occurredAt": at,
                    "query": ANN["search"],
                    "results": 1,
                }
            ],
        },
    )
    assert sent.status_code in (200, 202), sent.body
    drain()
    return api


def _download(url: str) -> dict[str, Any]:
    """The object a presigned URL names, read with the S3 client (the URL's key and bucket)."""
    from chalicelib.integrations import s3

    parsed = urlparse(url)
    bucket = (
        parsed.netloc.split(".")[0]
        if ".s3." in parsed.netloc or parsed.netloc.endswith("amazonaws.com")
        else parsed.path.lstrip("/").split("/")[0]
    )
    key = (
        parsed.path.lstrip("/") if parsed.netloc.startswith(bucket + ".") else parsed.path.lstrip("/").split("/", 1)[1]
    )
    found = s3.read(bucket, key, limit=10_000_000)
    assert found is not None, url
    return json.loads(found.data)


def test_the_export_holds_the_callers_data_and_nothing_of_anyone_elses(world: Any, drain: Any) -> None:
    api = world
    asked = api.post("/me/data-export", as_user="ann")
    assert asked.status_code == 202, asked.body
    assert asked.json_body["status"] == "pending" and "downloadUrl" not in asked.json_body
    export_id = asked.json_body["id"]

    drain()
    got = api.get(f"/me/data-export/{export_id}", as_user="ann")
    assert got.status_code == 200, got.body
    body = got.json_body
    assert body["status"] == "ready" and body["sizeBytes"] > 0
    assert body["expiresAt"] > body["readyAt"]
    assert int(parse_qs(urlparse(body["downloadUrl"]).query)["X-Amz-Expires"][0]) <= 3600
    document = _download(body["downloadUrl"])
    text = json.dumps(document, ensure_ascii=False)

    assert document["userId"] == "ann"
    assert (document["account"]["email"], document["account"]["displayName"]) == (ANN["email"], ANN["name"])
    assert document["preferences"]["general"]["theme"] == "dark"
    [reading] = document["readings"]
    assert (reading["as"], reading["counterpartId"], reading["question"]) == ("client", "rdr", ANN["question"])
    assert reading["review"]["comment"] == ANN["review"] and reading["review"]["rating"] == 5
    [status] = document["statuses"]
    assert status["content"] == ANN["status"]
    assert document["notifications"], "Ann's own notifications"
    assert {line["kind"] for line in document["ledger"]} >= {"hold", "capture"}
    assert document["balances"]["available"] == 300 - reading["creditsCost"]
    assert [f["readerId"] for f in document["favorites"]] == ["rdr"]
    assert document["consents"]["consents"][0]["consent"] == "marketing"
    assert {c["consent"]: c["granted"] for c in document["consents"]["consents"]}["marketing"] is True
    history = sorted((c["consent"], c["granted"], c["source"]) for c in document["consents"]["consentHistory"])
    assert history == [("analytics", False, "settings"), ("marketing", True, "settings")]
    assert [e["props"]["query"] for e in document["analyticsEvents"]] == [ANN["search"]]
    assert any(h["action"] == "user.data_export_request" and h["by"] == "you" for h in document["accountHistory"])

    for value in (
        BOB["id"],
        BOB["email"],
        BOB["name"],
        "Bartholomew",
        "Oakhaven",
        BOB["status"],
        BOB["question"],
        BOB["review"],
        "Copperfern",
        "copperfern",
        "Ironwillow",
    ):
        assert value not in text, f"Bob's {value!r} is in Ann's export"
    # The reader appears as the other party's id, and only by the public name Ann's own
    # notifications and ledger lines showed her; never by their email.
    assert "rdr@example.com" not in text


def test_one_export_at_a_time_then_a_new_one(world: Any, drain: Any) -> None:
    api = world
    first = api.post("/me/data-export", as_user="ann").json_body
    again = api.post("/me/data-export", as_user="ann").json_body
    assert again["id"] == first["id"] and again["status"] == "pending"

    drain()
    later = api.post("/me/data-export", as_user="ann")
    assert later.status_code == 202 and later.json_body["id"] != first["id"]
    assert api.get(f"/me/data-export/{first['id']}", as_user="ann").json_body["status"] == "ready"


def test_someone_elses_export_is_a_404(world: Any, drain: Any) -> None:
    api = world
    export_id = api.post("/me/data-export", as_user="ann").json_body["id"]
    drain()

    for caller in ("bob", "rdr"):
        response = api.get(f"/me/data-export/{export_id}", as_user=caller)
        assert response.status_code == 404 and response.json_body["error"]["code"] == "export_not_found"
    assert api.get("/me/data-export/01JNOSUCHEXPORTXXXXXXXXXXX", as_user="ann").status_code == 404


def test_ready_is_told_in_the_app_and_by_email_with_a_link_to_the_export_page(world: Any, drain: Any) -> None:
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws

    api = world
    export_id = api.post("/me/data-export", as_user="ann").json_body["id"]
    sqs = aws.client("sqs")
    url = aws.queue_url(get_settings().email_queue_name)
    sqs.purge_queue(QueueUrl=url)
    drain()

    notes = [n for n in api.get("/notifications", as_user="ann").json_body["data"] if n["type"] == "data_export_ready"]
    assert [(n["title"], n["actionUrl"]) for n in notes] == [
        ("Your data export is ready", f"/profile/data-export/{export_id}")
    ]
    assert "until" in notes[0]["message"] and "http" not in notes[0]["message"]
    emails = [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert [e["type"] for e in emails if e.get("userId") == "ann"] == ["data_export_ready"]


def test_the_file_is_private_encrypted_and_the_request_audited(world: Any, drain: Any) -> None:
    from chalicelib.config import get_settings
    from chalicelib.integrations import aws
    from chalicelib.services import audit

    api = world
    export_id = api.post("/me/data-export", as_user="ann").json_body["id"]
    drain()

    head = aws.client("s3").head_object(Bucket=get_settings().media_bucket_name, Key=f"exports/ann/{export_id}.json")
    assert head["ServerSideEncryption"] == "AES256"
    actions = [(r.action, r.actor_id) for r in audit.history("user", "ann")]
    assert ("user.data_export_request", "ann") in actions and ("user.data_export_ready", "system") in actions


def test_past_its_availability_an_export_is_expired_with_no_link(world: Any, drain: Any) -> None:
    from chalicelib.services import privacy

    export_id = world.post("/me/data-export", as_user="ann").json_body["id"]
    drain()

    later = privacy.get_export("ann", export_id, now=datetime.now(UTC) + timedelta(days=7, minutes=1))
    assert (later.status, later.download_url) == ("expired", None)
    soon = privacy.get_export("ann", export_id, now=datetime.now(UTC) + timedelta(days=7) - timedelta(minutes=10))
    assert soon.status == "ready" and soon.download_url is not None
    assert soon.download_url_expires_at is not None and soon.download_url_expires_at <= str(soon.expires_at)


def test_an_export_the_job_never_finished_fails_and_another_may_be_asked(api: Any) -> None:
    from chalicelib.services import privacy

    make_client("ann", 0)
    start = datetime.now(UTC)
    first = privacy.request_export("ann", now=start)

    assert privacy.get_export("ann", first.id, now=start + timedelta(hours=2)).status == "failed"
    second = privacy.request_export("ann", now=start + timedelta(hours=2))
    assert second.id != first.id and second.status == "pending"


def test_the_buckets_lifecycle_deletes_exports_once_they_expire(aws: None) -> None:
    from chalicelib.config import get_settings
    from chalicelib.domain.privacy import EXPORT_AVAILABLE_DAYS
    from chalicelib.integrations import aws as clients
    from tools.resources import load_template

    rules = load_template()["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [(r["Prefix"], r["ExpirationInDays"], r["Status"]) for r in rules] == [
        ("exports/", EXPORT_AVAILABLE_DAYS, "Enabled")
    ]
    local = clients.client("s3").get_bucket_lifecycle_configuration(Bucket=get_settings().media_bucket_name)
    assert [(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in local["Rules"]] == [
        ("exports/", EXPORT_AVAILABLE_DAYS)
    ]


@pytest.fixture()
def paid_readers(world: Any, drain: Any) -> Any:
    """The reader of Ann's and Bob's readings (``rdr``) and another one (``rdr2``, two of Bob's
    readings), each with an enabled payout account, their earnings matured and a payout sent;
    an admin holds rdr2's payouts."""
    from chalicelib.integrations import payments
    from chalicelib.jobs.events import consumers
    from chalicelib.models.base import utcnow
    from chalicelib.services import readings
    from chalicelib.services.payouts import holds, maturity
    from tests.support.payouts import enable_payouts

    api = world
    consumers()  # payout.requested's consumer makes the transfer
    payments.gateway.cache_clear()
    make_reader("rdr2")
    for _ in range(2):
        reading = book(BOB["id"], "rdr2", question=BOB["question"])
        readings.accept(reading.reading_id, "rdr2", "reader")
        readings.start(reading.reading_id, "rdr2", "reader")
        readings.complete(reading.reading_id, "rdr2", "reader")
    for reader in ("rdr", "rdr2"):
        enable_payouts(reader)
    maturity.mature_due(now=utcnow() + timedelta(days=15))
    mine = api.post("/reader/payouts", as_user="rdr", json_body={"credits": 60})
    theirs = api.post("/reader/payouts", as_user="rdr2", json_body={})
    assert (mine.status_code, theirs.status_code) == (201, 201), (mine.body, theirs.body)
    holds.hold("rdr2", admin_id="adm_export", reason="Quartzmoth chargebacks under review.")
    drain()
    yield api, mine.json_body["id"], theirs.json_body["id"]
    payments.gateway.cache_clear()


def test_a_readers_export_holds_their_payouts_and_nobody_elses(paid_readers: Any, drain: Any) -> None:
    from chalicelib.models.users import User

    api, mine, theirs = paid_readers
    export_id = api.post("/me/data-export", as_user="rdr").json_body["id"]
    drain()
    document = _download(api.get(f"/me/data-export/{export_id}", as_user="rdr").json_body["downloadUrl"])
    text = json.dumps(document, ensure_ascii=False)

    stored = User.get("rdr", consistent_read=True)
    assert document["balances"]["payable"] == int(stored.credits_payable) > 0
    assert document["balances"]["earnings"] == 0 and document["balances"]["owed"] == 0
    [payout] = document["payouts"]
    assert (payout["payoutId"], payout["credits"], payout["status"]) == (mine, 60, "paid")
    assert payout["destination"] == "acct_local_rdr" and payout["transferId"].startswith("tr_")
    assert "readerId" not in payout
    account = document["payoutAccount"]
    assert (account["accountId"], account["status"], account["payoutsEnabled"]) == ("acct_local_rdr", "enabled", True)
    # Stripe's state as reported, nothing of ours or Stripe's kept internal (no event ids, links, secrets).
    assert set(account) <= {
        "accountId",
        "status",
        "detailsSubmitted",
        "payoutsEnabled",
        "requirementsDue",
        "disabledReason",
        "createdAt",
        "updatedAt",
    }
    assert document["payoutState"]["paidOutCredits"] == 60 and "held" not in document["payoutState"]
    for value in (theirs, "acct_local_rdr2", "rdr2", "Quartzmoth", "adm_export", "whsec_", "client_secret"):
        assert value not in text, f"{value!r} is in rdr's export"

    # A client has no payout data; a held reader sees the hold's reason, never the admin's id.
    export_id = api.post("/me/data-export", as_user="ann").json_body["id"]
    drain()
    ann = _download(api.get(f"/me/data-export/{export_id}", as_user="ann").json_body["downloadUrl"])
    assert (ann["payouts"], ann["payoutAccount"], ann["payoutState"], ann["balances"]["payable"]) == ([], None, None, 0)
    export_id = api.post("/me/data-export", as_user="rdr2").json_body["id"]
    drain()
    held = _download(api.get(f"/me/data-export/{export_id}", as_user="rdr2").json_body["downloadUrl"])
    assert [p["payoutId"] for p in held["payouts"]] == [theirs]
    assert held["payoutState"]["held"] is True and held["payoutState"]["holdReason"].startswith("Quartzmoth")
    assert "adm_export" not in json.dumps(held) and mine not in json.dumps(held)
