"""Reviews: a client reviews a completed reading once, within the review window; the
review, the reading's copy of it and the reader's rating move together.

A review is immutable for its client: the product defines no edit or delete of one (its
Review has no version or deletedAt), so there is no PATCH or DELETE of it and a second POST
is a 409 ``already_reviewed``. Only moderation takes one out of public reads (hidden: out of
``GET /readers/{id}/reviews``, the rating and the card; services/moderation/content.py)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.readings import COMMENT_MAX, RATING_MAX, RATING_MIN, REVIEW_WINDOW
from chalicelib.errors import BusinessRuleViolation, Conflict, Forbidden
from chalicelib.models.base import iso, plain
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, Review, hidden_reviews_key
from chalicelib.models.users import User
from chalicelib.pagination import PageResult, query_page
from chalicelib.services import moderation, outbox
from chalicelib.services.readings import common
from chalicelib.services.readings.booking import approved_reader
from chalicelib.services.readings.common import field_error
from chalicelib.services.readings.table import STATUS_PHRASE, sentence
from chalicelib.services.tx import ConditionsFailed, Contention, Transaction, atomically

REVIEWABLE = ("completed", "disputed", "refunded")
RECENT_REVIEWS = 5  # how many of the newest reviews the public card shows
_ALREADY = "This reading already has your review."


def review(reading_id: str, user_id: str, role: str, *, rating: int, comment: str,
           now: datetime | None = None) -> Reading:
    if not RATING_MIN <= rating <= RATING_MAX:
        raise field_error("rating", f"Must be a whole number from {RATING_MIN} to {RATING_MAX}.")
    if len(comment) > COMMENT_MAX:
        raise field_error("comment", f"Must be at most {COMMENT_MAX} characters.")
    first = common.get(reading_id)
    if common.actor_of(first, user_id, role) != "client":
        raise Forbidden("Only the client can review a reading.", code="forbidden_transition",
                        details={"action": "review"})
    moment = common.now_or(now)
    at = iso(moment)
    client_name = _first_name(User.get(user_id).display_name)
    verdict = moderation.screen("review", {"comment": comment}, author_id=user_id, role=role)
    held = verdict.state  # a held review waits out of the reader's list and rating until a moderator approves it

    def work(tx: Transaction) -> None:
        # Read in each attempt: the reader's rating (a concurrent review of another of
        # their readings moves it) and the reading (a concurrent review of this one).
        reading = common.get(reading_id)
        completed = common.parse(reading.completed_at)
        if reading.status not in REVIEWABLE or completed is None:
            raise Conflict(sentence(f"{STATUS_PHRASE[reading.status]} cannot be reviewed; only a completed "
                                    "one can."), code="invalid_transition",
                           details={"status": reading.status, "action": "review"})
        if reading.review is not None:
            raise Conflict(_ALREADY, code="already_reviewed")
        if moment - completed > REVIEW_WINDOW:
            raise BusinessRuleViolation(f"Reviews are open for {REVIEW_WINDOW.days} days after the reading.",
                                        code="review_window_closed")
        document = {"id": reading_id, "rating": rating, "comment": comment, "createdAt": at}
        if held:
            document["moderation"] = held
        tx.update(reading, actions=[Reading.review.set(document), Reading.updated_at.set(at)],
                  condition=Reading.review.does_not_exist(), label="reading")
        if not held:
            profile = ReaderProfile.get(reading.reader_id, consistent_read=True)
            count = int(profile.rating_count or 0)
            average = float(profile.rating_average or 0)
            new_average = round((average * count + rating) / (count + 1), 4)
            # The public card's newest reviews move with the rating (same condition, same item).
            recent = [{"id": reading_id, "rating": rating, "comment": comment, "clientName": client_name,
                       "createdAt": at}, *(plain(profile.recent_reviews) or [])][:RECENT_REVIEWS]
            tx.update(profile, actions=[ReaderProfile.rating_count.set(count + 1),
                                        ReaderProfile.rating_average.set(new_average),
                                        ReaderProfile.recent_reviews.set(recent)],
                      condition=ReaderProfile.rating_count == count if profile.rating_count is not None
                      else ReaderProfile.rating_count.does_not_exist(), label="profile")
        tx.save(Review(reader_id=hidden_reviews_key(reading.reader_id) if held else reading.reader_id,
                       sk=f"{at}#{reading_id}", reading_id=reading_id, client_id=user_id, client_name=client_name,
                       rating=rating, comment=comment, topic=reading.topic, reading_type=common.reading_type(reading),
                       created_at=at, moderation=held), condition=Review.sk.does_not_exist(), label="review")
        verdict.record(tx, reading_id, parent_id=reading.reader_id, now=moment)
        outbox.emit(tx, "review.created", readingId=reading_id, readerId=reading.reader_id, clientId=user_id,
                    rating=rating)

    try:
        atomically(work, retry_on=lambda failed: "profile" in failed or "reading" in failed
                   or moderation.conflicted(failed),
                   busy="The reader's rating is changing often right now; try again in a moment.")
    except ConditionsFailed as failed:
        if "review" in failed:
            raise Conflict(_ALREADY, code="already_reviewed") from failed
        raise Contention("The reader's rating is changing often right now; try again in a moment.") from failed
    return common.get(reading_id)


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None


def reviews_of(reader_id: str, *, limit: int, cursor: str | None) -> PageResult[Review]:
    profile = approved_reader(reader_id)
    page = query_page(lambda size, start: Review.query(reader_id, scan_index_forward=False, limit=size,
                                                      last_evaluated_key=start),
                      limit=limit, cursor=cursor, scope=f"GET /readers/{reader_id}/reviews")
    # Each review increments the rating count in its own transaction: the count is the total.
    page.total = int(profile.rating_count or 0)
    return page
