"""``GET /dashboard`` for ``make bench``: DynamoDB calls and latency per role. Importing this
module adds its scenarios to ``bench.scenarios.SCENARIOS`` (bench/run.py imports it).

The world (``world``), built through the services for each scenario: the bench reader
(``bench.scenarios.approved_reader``: 120 reviews, a badge, Lisbon) with an open quality
warning; a client with 2 active statuses and 1 closed, and 24 immediate phone readings with
that reader: 6 accepted (upcoming for the client, today's schedule for the reader), 8
declined (recent), 6 still requested (more than the 3 shown: the reader's count Query runs),
4 completed then disputed by the client (open disputes, more than shown: counted); 25
pending reader applications (counted); the explore snapshot built, so recommendations read
it from memory as a warm container does.

Targets (services/dashboard.py): client <= 9, reader <= 13 (+ a Query per MB of the month's
earnings lines), admin <= 13; the caller's GetItem (authentication) included.
"""

from __future__ import annotations

from datetime import timedelta

from bench.scenarios import BENCH_CLIENT, BENCH_READER, SCENARIOS, Harness, Scenario, readings_world

ADMIN = "user_bench_dashboard_admin"
APPLICANT = "user_bench_applicant_{:02d}"
APPLICANTS = 25
ACCEPTED, DECLINED, REQUESTED, DISPUTED = 6, 8, 6, 4


def _open_warning(reader_id: str, at: str) -> None:
    """An open cancellation warning, as the quality job opens it."""
    from chalicelib.domain import quality as rules
    from chalicelib.services.metrics import quality

    kind = rules.CANCELLATION
    quality.Warning(pk=f"reader#{reader_id}", sk=f"warning#{kind}", warning_id=quality.warning_id(kind, 1),
                    kind=kind, state=quality.OPEN, value=0.25, threshold=rules.WARN[kind], title=rules.TITLE[kind],
                    message=rules.advice(kind, 0.25, rules.WARN[kind]), opened_at=at, episode=1).save()


def world(harness: Harness, scenario: Scenario) -> None:
    from chalicelib.models.base import iso, utcnow
    from chalicelib.models.readers import ReaderProfile
    from chalicelib.models.users import User
    from chalicelib.services import readings, statuses
    from chalicelib.services.explore import store

    readings_world(harness, scenario)
    now = utcnow()
    User(user_id=ADMIN, role="admin", status="active", display_name="Bench Admin", created_at=iso(now),
         updated_at=iso(now)).save()
    client = User.get(BENCH_CLIENT)
    for n, category in enumerate(("love", "career", "career")):
        status = statuses.create(User.get(BENCH_CLIENT), content=f"A question about my path, number {n + 1}.",
                                 mood=None, category=category)
        if n == 2:
            statuses.close(BENCH_CLIENT, status.status_id)

    def request(n: int) -> str:
        reading, _ = readings.request(client, reader_id=BENCH_READER, option_type="phone_call", option_id=None,
                                      duration=30, scheduled_at=None, topic_id="career-work",
                                      question="Should I take the new role?", idempotency_key=f"bench-dashboard-{n}",
                                      now=now)
        return reading.reading_id

    n = 0
    for _ in range(DISPUTED):
        reading_id = request(n)
        readings.accept(reading_id, BENCH_READER, "reader", now=now)
        readings.start(reading_id, BENCH_READER, "reader", now=now + timedelta(minutes=1))
        readings.complete(reading_id, BENCH_CLIENT, "client", now=now + timedelta(minutes=31))
        readings.open_dispute(reading_id, BENCH_CLIENT, "client", reason="The call dropped halfway.",
                              now=now + timedelta(minutes=40))
        n += 1
    for _ in range(DECLINED):
        readings.decline(request(n), BENCH_READER, "reader", reason="I am fully booked today, sorry.", now=now)
        n += 1
    for _ in range(ACCEPTED):
        readings.accept(request(n), BENCH_READER, "reader", now=now)
        n += 1
    for _ in range(REQUESTED):
        request(n)
        n += 1
    for k in range(APPLICANTS):
        at = iso(now - timedelta(hours=APPLICANTS - k))
        ReaderProfile(reader_id=APPLICANT.format(k), status="pending", display_name=f"Applicant {k}",
                      bio="I have read cards for friends for years. " * 5, created_at=at, updated_at=at,
                      submitted_at=at).save()
    _open_warning(BENCH_READER, iso(now))
    store.rebuild()


SCENARIOS.extend([
    Scenario("GET /dashboard (client: 2 active statuses, 24 readings)", "GET", "/dashboard", as_user=BENCH_CLIENT,
             setup=world, target="<= 9 (auth included)", dynamodb_target=9),
    Scenario("GET /dashboard (reader: 6 requests, 6 accepted, 120 reviews)", "GET", "/dashboard",
             as_user=BENCH_READER, setup=world, target="<= 13 (auth included)", dynamodb_target=13),
    Scenario("GET /dashboard (admin: 25 applications, 4 disputes)", "GET", "/dashboard", as_user=ADMIN,
             setup=world, target="<= 13 (auth included)", dynamodb_target=13),
])
