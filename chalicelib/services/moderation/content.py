"""The content moderation acts on: finding it for a report, and changing what the public sees
of it for a decision. Every public read filters on the states written here:

* a status: ``moderation`` (held | hidden) and its feed key moved out of its category's
  partition (``moderated_feed_key``), so the readers' feed Query never meets it; readers'
  ``GET /statuses/{id}`` refuses it;
* a suggestion: ``moderation`` on its map in the status; its client no longer sees it;
* a review: moved to the reader's ``hidden#`` partition of the reviews table (out of
  ``GET /readers/{id}/reviews``), out of the rating and of the card's recent reviews, and
  marked on the reading's copy (the reader sees the rating without the comment);
* a profile: ``<field>Moderation`` = ``<state>:<itemId>`` per text field; the public card
  masks such a field and is withheld when the display name is; ``reader.card_changed`` marks
  the explore snapshot stale in the same transaction (the next per-minute build drops the text).
  An approved profile's held edit waits in ``pending<Field>`` (the mark is then the pending
  text's: the public keeps the last approved text); approving moves it into the field, a
  reject leaves it pending and hidden (the reader still sees it, a later approve publishes it).
  A reading option's name and description (fields ``readingOptions.<optionId>.<text>``) work
  the same on the option's map in ``readingOptions`` (``domain.option_moderation``), found by
  the option's id (an option since removed is left alone).

``apply(tx, item, state)`` writes the state (None: public again) conditional on what it read
(label ``content``: the caller retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.operand import Path

from chalicelib.domain import option_moderation
from chalicelib.domain.moderation import HIDDEN, PUBLIC_FIELDS, item_of, marked, state_of
from chalicelib.domain.readers import may_see
from chalicelib.errors import BusinessRuleViolation, NotFound
from chalicelib.models.base import plain
from chalicelib.models.moderation import ModerationItem
from chalicelib.models.readers import MODERATED_FIELDS, PENDING_FIELDS, ReaderProfile
from chalicelib.models.readings import Reading, Review, hidden_reviews_key
from chalicelib.models.statuses import Status, feed_key
from chalicelib.models.users import User
from chalicelib.services import outbox
from chalicelib.services.tx import Transaction

RECENT_REVIEWS = 5  # as services/readings/reviews.py keeps on the card
CONTENT = "content"
CARD_CHANGED = "reader.card_changed"


@dataclass(frozen=True)
class Located:
    """A piece of public content as a report needs it."""

    content_type: str
    content_id: str
    author_id: str
    texts: dict[str, str]
    parent_id: str | None = None


def _missing(content_type: str) -> NotFound:
    return NotFound(content_type, code="content_not_found")


# --- finding what a user reports ----------------------------------------------------------------


def locate(content_type: str, content_id: str, parent_id: str | None, *, viewer_id: str, viewer_role: str) -> Located:
    """The content, if it is public and ``viewer`` can see it (else 404: a report never learns
    about content its reporter cannot read); 422 ``own_content`` for the viewer's own."""
    found = _LOCATORS[content_type](content_id, parent_id, viewer_id, viewer_role)
    if found is None:
        raise _missing(content_type)
    if found.author_id == viewer_id:
        raise BusinessRuleViolation("You cannot report your own content.", code="own_content")
    return found


def _status(content_id: str, parent_id: str | None, viewer_id: str, role: str) -> Located | None:
    status = _get_status(content_id)
    if status is None or status.moderation is not None:
        return None
    may_see_it = (
        role == "admin"
        or status.user_id == viewer_id
        or (
            role == "reader"
            and (status.is_active or any(s.get("readerId") == viewer_id for s in status.suggestion_list()))
        )
    )
    if not may_see_it:
        return None
    return Located("status", content_id, status.user_id, {"content": status.content, "mood": status.mood or ""})


def _suggestion(content_id: str, parent_id: str | None, viewer_id: str, role: str) -> Located | None:
    status = _get_status(parent_id) if parent_id else None
    if status is None:
        return None
    found = next((s for s in status.suggestion_list() if s.get("id") == content_id), None)
    if found is None or found.get("state") == "withdrawn" or found.get("moderation"):
        return None
    if role != "admin" and viewer_id not in (status.user_id, found.get("readerId")):
        return None  # a suggestion is shown to its status's client only
    texts = {name: str(found.get(name) or "") for name in PUBLIC_FIELDS["suggestion"]}
    return Located("suggestion", content_id, str(found["readerId"]), texts, parent_id=status.status_id)


def _review(content_id: str, parent_id: str | None, viewer_id: str, role: str) -> Located | None:
    reading = _get_reading(content_id)
    review = plain(reading.review) if reading is not None else None
    if reading is None or not review or review.get("moderation"):
        return None
    return Located(
        "review",
        content_id,
        reading.client_id,
        {"comment": str(review.get("comment") or "")},
        parent_id=reading.reader_id,
    )


def _profile(content_id: str, parent_id: str | None, viewer_id: str, role: str) -> Located | None:
    try:
        profile = ReaderProfile.get(content_id)
        user = User.get(content_id, attributes_to_get=["userId", "role", "status", "preferences"])
    except (ReaderProfile.DoesNotExist, User.DoesNotExist):
        return None
    privacy = (plain(user.preferences) or {}).get("privacy") or {}
    if (
        profile.status != "approved"
        or user.status != "active"
        or user.role != "reader"
        or not may_see(privacy.get("profileVisibility") or "public", role)
    ):
        return None
    if state_of(profile.display_name_moderation) is not None and profile.pending_display_name is None:
        return None  # its card is withheld
    texts = {name: str(getattr(profile, _TEXT[name]) or "") for name in PUBLIC_FIELDS["profile"]}
    return Located("profile", content_id, content_id, texts)


_LOCATORS = {"status": _status, "suggestion": _suggestion, "review": _review, "profile": _profile}
_TEXT = {"displayName": "display_name", "tagline": "tagline", "bio": "bio", "location": "location"}


def _get_status(status_id: str) -> Status | None:
    try:
        return Status.get(status_id, consistent_read=True)
    except Status.DoesNotExist:
        return None


def _get_reading(reading_id: str) -> Reading | None:
    try:
        return Reading.get(reading_id, consistent_read=True)
    except Reading.DoesNotExist:
        return None


# --- what a decision changes ----------------------------------------------------------------------


def apply(tx: Transaction, item: ModerationItem, state: str | None) -> bool:
    """Make the item's content ``state`` (held | hidden | None: public); False when the content
    is gone (nothing to change)."""
    return _APPLIERS[item.content_type](tx, item, state)


def _apply_status(tx: Transaction, item: ModerationItem, state: str | None) -> bool:
    status = _get_status(item.content_id)
    if status is None:
        return False
    if status.moderation == state:
        return True
    actions: list[Any] = [Status.moderation.remove() if state is None else Status.moderation.set(state)]
    if status.is_active:
        actions.append(Status.feed_category.set(feed_key(status.category, state)))
    tx.update(
        status,
        actions=actions,
        label=CONTENT,
        condition=(Status.state == status.state) & (Status.category == status.category),
    )
    return True


def _apply_suggestion(tx: Transaction, item: ModerationItem, state: str | None) -> bool:
    status = _get_status(item.parent_id) if item.parent_id else None
    if status is None:
        return False
    found = next(((i, s) for i, s in enumerate(status.suggestion_list()) if s.get("id") == item.content_id), None)
    if found is None:
        return False
    index, suggestion = found
    if suggestion.get("moderation") == state:
        return True
    entry = Path(Status.suggestions)[index]
    tx.update(
        status,
        actions=[entry["moderation"].remove() if state is None else entry["moderation"].set(state)],
        condition=entry["id"] == item.content_id,
        label=CONTENT,
    )
    return True


def _apply_review(tx: Transaction, item: ModerationItem, state: str | None) -> bool:
    reading = _get_reading(item.content_id)
    review = plain(reading.review) if reading is not None else None
    if reading is None or not review:
        return False
    was = review.get("moderation")
    if was == state:
        return True
    sk = f"{review['createdAt']}#{reading.reading_id}"
    source = hidden_reviews_key(reading.reader_id) if was else reading.reader_id
    try:
        stored = Review.get(source, sk, consistent_read=True)
    except Review.DoesNotExist:
        return False
    review_state = Reading.review["moderation"]  # type: ignore[index]
    tx.update(
        reading,
        actions=[review_state.remove() if state is None else review_state.set(state)],
        condition=Reading.review.exists(),
        add_version_condition=False,
        label=CONTENT,
    )
    if bool(was) == bool(state):  # held <-> hidden: it stays out of public view
        tx.update(stored, actions=[Review.moderation.set(str(state))], condition=Review.sk.exists(), label=CONTENT)
        return True
    moved = Review(
        **{
            **stored.attribute_values,
            "reader_id": reading.reader_id if state is None else hidden_reviews_key(reading.reader_id),
            "moderation": state,
        }
    )
    tx.delete(stored, condition=Review.sk.exists(), label=CONTENT)
    tx.save(moved, condition=Review.sk.does_not_exist(), label=CONTENT)
    _rate(tx, reading.reader_id, stored, public=state is None)
    outbox.emit(tx, CARD_CHANGED, readerId=reading.reader_id, reason="moderation")
    return True


def _rate(tx: Transaction, reader_id: str, review: Review, *, public: bool) -> None:
    """The reader's rating and recent reviews with ``review`` counted in (public) or out."""
    try:
        profile = ReaderProfile.get(reader_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return
    count, average, rating = int(profile.rating_count or 0), float(profile.rating_average or 0), int(review.rating)
    if public:
        new_count, total = count + 1, average * count + rating
    else:
        new_count, total = max(count - 1, 0), average * count - rating
    new_average = round(total / new_count, 4) if new_count else 0
    newest = [
        r
        for r in Review.query(reader_id, scan_index_forward=False, limit=RECENT_REVIEWS + 1)
        if r.reading_id != review.reading_id
    ]
    if public:
        newest.append(review)
    newest.sort(key=lambda r: r.sk, reverse=True)
    recent = [
        {
            "id": r.reading_id,
            "rating": int(r.rating),
            "comment": r.comment,
            "clientName": r.client_name,
            "createdAt": r.created_at,
        }
        for r in newest[:RECENT_REVIEWS]
    ]
    counted = (
        ReaderProfile.rating_count == profile.rating_count
        if profile.rating_count is not None
        else ReaderProfile.rating_count.does_not_exist()
    )
    tx.update(
        profile,
        actions=[
            ReaderProfile.rating_count.set(new_count),
            ReaderProfile.rating_average.set(new_average),
            ReaderProfile.recent_reviews.set(recent),
        ],
        condition=counted,
        label="profile",
    )


def _apply_profile(tx: Transaction, item: ModerationItem, state: str | None) -> bool:
    try:
        profile = ReaderProfile.get(item.content_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return False
    actions: list[Any] = []
    condition: Any = ReaderProfile.reader_id.exists()
    options = plain(profile.reading_options) or []
    for name in sorted(item.fields or PUBLIC_FIELDS["profile"]):
        change = _option_change(options, name, item, state)
        if change is not None:
            actions += change[0]
            condition &= change[1]
            continue
        column = getattr(ReaderProfile, MODERATED_FIELDS[name], None) if name in MODERATED_FIELDS else None
        if column is None:
            continue
        value = getattr(profile, MODERATED_FIELDS[name])
        if state is None and item_of(value) == item.item_id:
            actions.append(column.remove())  # only what this item held or hid
            pending_column = getattr(ReaderProfile, PENDING_FIELDS[name])
            pending = getattr(profile, PENDING_FIELDS[name])
            if pending is not None:  # the held edit becomes the field's public text
                actions += [getattr(ReaderProfile, _TEXT[name]).set(pending), pending_column.remove()]
                condition &= pending_column == pending  # a held edit joining this item meanwhile: again
        elif (
            state is not None and (state == HIDDEN or state_of(value) is None) and value != marked(state, item.item_id)
        ):
            actions.append(column.set(marked(state, item.item_id)))
        else:
            continue
        condition &= column == value if value is not None else column.does_not_exist()
    if not actions:
        return True
    # Blind (no version condition: a heartbeat never makes a decision retry), conditional on
    # the moderation values read; ``version=0`` makes PynamoDB increment the stored version.
    tx.update(
        ReaderProfile(reader_id=item.content_id, version=0),
        actions=actions,
        condition=condition,
        add_version_condition=False,
        label=CONTENT,
    )
    outbox.emit(tx, CARD_CHANGED, readerId=item.content_id, reason="moderation")
    return True


def _option_change(options: list[dict[str, Any]], name: str, item: ModerationItem, state: str | None) -> Any:
    """(actions, condition) of a decision on a reading option's text, as ``_apply_profile`` does
    for a profile field; None for another field, an option since removed, or nothing to change."""
    parsed = option_moderation.parse_field(name)
    if parsed is None:
        return None
    option_id, text = parsed
    index = next((i for i, option in enumerate(options) if option.get("id") == option_id), None)
    if index is None:
        return None
    option = options[index]
    entry = Path(ReaderProfile.reading_options)[index]
    mark, pending_key = entry[option_moderation.MARK[text]], option_moderation.PENDING[text]
    value = option.get(option_moderation.MARK[text])
    condition = (entry["id"] == option_id) & (mark == value if value is not None else mark.does_not_exist())
    if state is None and item_of(value) == item.item_id:
        actions: list[Any] = [mark.remove()]  # only what this item held or hid
        pending = option.get(pending_key)
        if pending is not None:  # the held edit becomes the option's public text
            actions += [entry[text].set(pending), entry[pending_key].remove()]
            condition &= entry[pending_key] == pending
        return actions, condition
    if state is not None and (state == HIDDEN or state_of(value) is None) and value != marked(state, item.item_id):
        return [mark.set(marked(state, item.item_id))], condition
    return None


_APPLIERS = {
    "status": _apply_status,
    "suggestion": _apply_suggestion,
    "review": _apply_review,
    "profile": _apply_profile,
}
