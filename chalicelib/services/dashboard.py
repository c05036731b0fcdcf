"""``GET /dashboard``: what the caller's home page shows, by role, in one call.

Every part comes from the service that owns it (statuses, readings, the ledger's balance,
recommendations, earnings, quality, applications, disputes, platform metrics); this module
only picks the few items a dashboard shows and counts queues without reading them.

DynamoDB calls per role, the request's authentication (1 GetItem of the caller) included;
tests/api/test_dashboard.py asserts them exactly for a small setup, ``make bench`` prints them:

- **client**: at most 9. The first page of ``GET /statuses/mine`` (1 Query) and the
  catalog's status categories when one is active (0-1: cached per container); upcoming
  (accepted tab) and recent (archived tab) readings (1 Query each); the parties of both
  lists together (0-2 BatchGetItems: users, reader profiles); recommendations (the client's
  interactions, 1 Query; the online overlay, 0-1, cached seconds; the explore snapshot is in
  memory). The balance is the user item authentication read: no call.
- **reader**: at most 13, plus what the earnings summary pages through for this month (one
  more Query per MB of the month's earnings lines or of the accepted tab, one more
  BatchGetItem per 100 payouts): the profile (1 GetItem: rating, reviews, badges, timezone);
  the earnings summary (1 GetItem, 1 Query, 0-1 BatchGetItem, 1 Query); pending requests
  (1 Query, and 0-1 count Query when more wait than are shown); today's schedule (1 Query of
  the accepted tab, up to ``SCHEDULE_PAGE`` readings); the parties of both lists (0-2
  BatchGetItems); the open warnings (1 Query); the last quality evaluation (1 GetItem).
- **admin**: at most 13 while each queue's count fits one 1 MB page: the oldest pending
  applications and open disputes (1 Query each, and 0-1 count Query each when more wait than
  are shown); the disputes' parties (0-2 BatchGetItems); the moderation queue's count (1
  ``Select=COUNT`` Query per open state of the ``byQueue`` index: pending, escalated); today's
  platform figures (4 Queries, one per shard, through the metrics store's client).

Counts (``Queue``): a page of the oldest few that is not full is the whole queue, so its
length is the count. Otherwise a ``Select=COUNT`` Query on the queue's index with
``Limit`` = what is left to count past ``COUNT_CAP``; DynamoDB stops a page at 1 MB of index
data (counted items are still read), so it is repeated while a page ends early: about
1 + ``COUNT_CAP`` x item size / 1 MB times (2-4 for 1,000 readings or profiles of a few KB:
both indexes project whole items). Past the cap the answer is ``COUNT_CAP`` with
``more_than`` (shown as "1000+"). Exact counts of unbounded queues would need a counter moved
with every item that enters or leaves; a dashboard needs "how much work is waiting", which
the cap answers at a bounded cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pynamodb.constants import COUNT
from pynamodb.exceptions import DoesNotExist

from chalicelib.domain.moderation import OPEN_STATUSES
from chalicelib.models.base import plain, utcnow
from chalicelib.models.moderation import ModerationItem
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading
from chalicelib.models.statuses import Status
from chalicelib.models.users import User
from chalicelib.pagination import PageResult
from chalicelib.services import earnings, ledger, readings, statuses
from chalicelib.services import reader_applications as applications
from chalicelib.services.metrics import platform, quality
from chalicelib.services.metrics import reader as reader_metrics
from chalicelib.services.metrics.periods import local_date
from chalicelib.services.readings.common import parse
from chalicelib.services.recommend import service as recommend

SHOWN = 3  # items shown per list: the rest is one click away (the list's own route)
STATUSES_PAGE = 10  # the first page of the client's statuses; at most 3 of any page are active
RECOMMENDED = 3
SCHEDULE_PAGE = 100  # accepted readings read to find today's (a reader rarely has more booked)
COUNT_CAP = 1_000
NOT_EVALUATED = "not_evaluated"  # a reader's quality status before the quality job has evaluated them
LIVE_TYPES = ("phone_call", "live_video")


@dataclass(frozen=True)
class Queue:
    """The oldest (or newest) few items of a queue and how many wait in all."""

    items: list[Any]
    count: int
    more_than: bool  # counting stopped at the cap: there are more than ``count``


@dataclass(frozen=True)
class ClientDashboard:
    active_statuses: list[Status]
    upcoming: list[Reading]
    more_upcoming: bool
    recent: list[Reading]
    more_recent: bool
    parties: readings.Parties
    balance: ledger.Balance
    recommendations: recommend.Recommendations


@dataclass(frozen=True)
class ReaderDashboard:
    timezone: str
    today: date
    pending: Queue
    schedule: list[Reading]
    schedule_complete: bool  # false: more accepted readings than were read; some of today's may be missing
    parties: readings.Parties
    earnings: earnings.Summary
    rating_average: float | None  # None before the first review
    rating_count: int
    badges: list[str]
    warnings: list[quality.Warning]
    quality_status: str  # NOT_EVALUATED until the quality job's first evaluation of the reader
    quality_since: str | None


@dataclass(frozen=True)
class AdminDashboard:
    applications: Queue
    disputes: Queue
    dispute_parties: readings.Parties
    moderation_queue: int  # items waiting for a decision (pending or escalated), up to the cap per state
    moderation_queue_more_than: bool  # counting stopped at the cap: there are more
    platform: platform.Report


# --- counting ------------------------------------------------------------------------------------


def count_at_most(model: type[Any], hash_key: str, index_name: str, *, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(items under ``hash_key`` in the index, up to ``cap``; whether there are more):
    ``Select=COUNT`` Queries, each asking for what is left to count past the cap."""
    counted, start = 0, None
    while True:
        raw = model._get_connection().query(hash_key, index_name=index_name, select=COUNT,
                                            limit=cap + 1 - counted, exclusive_start_key=start)
        counted += int(raw.get("Count", 0))
        start = raw.get("LastEvaluatedKey")
        if counted > cap:
            return cap, True
        if not start:
            return counted, False


def _queue(page: PageResult[Any], count: Callable[[], tuple[int, bool]]) -> Queue:
    if page.next_cursor is None:  # the first page is the whole queue
        return Queue(items=list(page.items), count=len(page.items), more_than=False)
    total, more = count()
    return Queue(items=list(page.items), count=max(total, len(page.items)), more_than=more)


# --- client --------------------------------------------------------------------------------------


def client_dashboard(user: User, role: str, *, now: datetime | None = None) -> ClientDashboard:
    """``user``: the caller's item as the request's authentication read it (the balance)."""
    moment = now or utcnow()
    mine = statuses.mine(user.user_id, limit=STATUSES_PAGE, cursor=None)
    upcoming = readings.list_for(user.user_id, role, "client", "accepted", limit=SHOWN, cursor=None)
    recent = readings.list_for(user.user_id, role, "client", "archived", limit=SHOWN, cursor=None)
    shown = [*upcoming.items, *recent.items]
    return ClientDashboard(
        active_statuses=[status for status in mine.items if status.is_active],
        upcoming=list(upcoming.items), more_upcoming=upcoming.next_cursor is not None,
        recent=list(recent.items), more_recent=recent.next_cursor is not None,
        parties=readings.party_summaries(shown), balance=ledger.balance_of(user),
        recommendations=recommend.recommend(user.user_id, role=role, limit=RECOMMENDED, now=moment))


# --- reader --------------------------------------------------------------------------------------

_PROFILE_FIELDS = ["readerId", "ratingAverage", "ratingCount", "badges", "availability"]


def _profile(reader_id: str) -> ReaderProfile | None:
    try:
        return ReaderProfile.get(reader_id, attributes_to_get=_PROFILE_FIELDS)
    except ReaderProfile.DoesNotExist:
        return None


def starts_on(reading: Reading, day: date, timezone: str) -> bool:
    """A live reading (call or live video) that starts on ``day`` in ``timezone``; an
    immediate one, accepted and waiting for both to join (or in progress), starts now."""
    if (plain(reading.reading_option) or {}).get("type") not in LIVE_TYPES:
        return False  # a video message has a delivery deadline, not a start
    start = parse(reading.scheduled_start)
    return start is None or local_date(start, timezone) == day


def _last_evaluation(reader_id: str) -> quality.Snapshot | None:
    """The quality job's last evaluation of the reader (what the admins' list shows)."""
    try:
        return quality.Snapshot.get(reader_metrics.pk(reader_id), "quality")
    except DoesNotExist:
        return None


def reader_dashboard(user: User, *, now: datetime | None = None) -> ReaderDashboard:
    moment = now or utcnow()
    reader_id = user.user_id
    profile = _profile(reader_id)
    availability = plain(profile.availability) if profile is not None and profile.availability is not None else {}
    timezone, _ = earnings.zone_of(availability.get("timezone") if isinstance(availability, dict) else None)
    today = local_date(moment, timezone)
    summary = earnings.summary(reader_id, now=moment)
    requested = readings.list_for(reader_id, "reader", "reader", "requested", limit=SHOWN, cursor=None)
    pending = _queue(requested, lambda: count_at_most(Reading, f"{reader_id}#requested", "byReaderTab"))
    accepted = readings.list_for(reader_id, "reader", "reader", "accepted", limit=SCHEDULE_PAGE, cursor=None)
    schedule = sorted((r for r in accepted.items if starts_on(r, today, timezone)),
                      key=lambda r: (r.scheduled_start or "", r.created_at))
    warnings = sorted((w for w in quality.warnings_of(reader_id).values() if w.state in quality.ACTIVE),
                      key=lambda w: w.opened_at or "", reverse=True)
    evaluation = _last_evaluation(reader_id)
    return ReaderDashboard(
        timezone=timezone, today=today, pending=pending, schedule=schedule,
        schedule_complete=accepted.next_cursor is None,
        parties=readings.party_summaries([*pending.items, *schedule]), earnings=summary,
        rating_average=(float(profile.rating_average) if profile is not None and profile.rating_count
                        and profile.rating_average is not None else None),
        rating_count=int(profile.rating_count or 0) if profile is not None else 0,
        badges=list(plain(profile.badges) or []) if profile is not None else [],
        warnings=warnings, quality_status=evaluation.status if evaluation is not None and evaluation.status
        else NOT_EVALUATED,
        quality_since=evaluation.since if evaluation is not None else None)


# --- admin ---------------------------------------------------------------------------------------


def admin_dashboard(*, now: datetime | None = None) -> AdminDashboard:
    moment = now or utcnow()
    pending = _queue(applications.list_by_status("pending", limit=SHOWN, cursor=None),
                     lambda: count_at_most(ReaderProfile, "pending", "byStatus"))
    disputes = _queue(readings.list_disputes(limit=SHOWN, cursor=None),
                      lambda: count_at_most(Reading, "open", "openDisputes"))
    moderation = [count_at_most(ModerationItem, status, "byQueue") for status in OPEN_STATUSES]
    return AdminDashboard(applications=pending, disputes=disputes,
                          dispute_parties=readings.party_summaries(disputes.items),
                          moderation_queue=sum(count for count, _ in moderation),
                          moderation_queue_more_than=any(more for _, more in moderation),
                          platform=platform.report("day", now=moment))
