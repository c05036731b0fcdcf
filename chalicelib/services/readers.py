"""Reader profiles: the reader's own profile and availability, and the documents every profile
view shares (the public card, in ``reader_cards``, builds on them). Reading options are
replaced in ``reader_options`` (their text is screened).

Writes to an approved profile are conditional updates (``status == approved``) that
replace whole values (attributes, availability), so they need no read first and never
conflict with heartbeats; each commits with its ``reader.card_changed`` event.

``PATCH /reader/profile`` raises ``profileVersion`` (the profile's ETag, ``version`` on the
wire; services/versions.py). With ``If-Match`` it applies to that version only (409
``version_mismatch``). Without it, it applies the fields it sends to the profile as stored,
in one update: a concurrent edit of other fields is kept (the catalog's re-apply, without
the re-read), and of two edits of the same field the later one wins, as in sequence.

Catalog names of attributes are copied onto the profile when attributes are written, so the
public card reads no catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chalicelib.domain import option_moderation
from chalicelib.domain.moderation import HELD, HIDDEN, marked, state_document, state_of
from chalicelib.domain.readers import WEEKDAYS, Attributes, Availability, ReadingOption, completion_rate
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chalicelib.errors import field_errors as envelope_fields
from chalicelib.ids import new_id
from chalicelib.media_urls import public_url, public_variants, variant_key_parts
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.readers import MODERATED_FIELDS, PENDING_FIELDS, ReaderProfile
from chalicelib.models.users import User
from chalicelib.services import catalog, catalog_defaults, media, moderation, outbox, pricing, versions
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

APPROVED = "approved"
CARD_CHANGED = "reader.card_changed"  # emitted with every change of what a public card shows
# Profile attribute key -> the catalog's attribute kind.
ATTRIBUTE_KINDS = {"tools": "tools", "abilities": "abilities", "style": "styles"}
_KIND_NOUN = {"tools": "tool", "abilities": "ability", "styles": "style"}


# --- shared helpers (also used by reader_applications) ------------------------------------------


def field_error(path: str, message: str, kind: str = "value_error") -> dict[str, str]:
    return {"path": path, "message": message, "type": kind}


def invalid(errors: list[dict[str, str]]) -> ValidationFailed:
    return ValidationFailed("The request is not valid.", details={"fields": errors})


def validation_fields(exc: ValidationError) -> list[dict[str, str]]:
    """pydantic errors in the shape of the error envelope's ``details.fields``."""
    return envelope_fields(exc.errors(include_url=False))


def blind(reader_id: str) -> ReaderProfile:
    """An instance for an update that does not depend on a read. ``version=0`` makes
    PynamoDB *increment* the stored version (rather than reset it to 1); callers pass
    ``add_version_condition=False`` and state their own condition."""
    return ReaderProfile(reader_id=reader_id, version=0)


def active_catalog() -> dict[str, Any]:
    """One catalog Query: active attribute names by kind, and the active reading types."""
    loaded = catalog.load()
    return {
        "attributes": {kind: {entry["id"]: entry.get("name", entry["id"]) for entry in entries}
                       for kind, entries in loaded["attributes"].items()},
        "reading_types": {entry["id"] for entry in loaded["readingTypes"]},
    }


def attribute_errors(attributes: Attributes, active: dict[str, Any],
                     path: str = "attributes") -> tuple[dict[str, str], list[dict[str, str]]]:
    """Every id must be an active catalog attribute of its kind: ({id: name}, field errors)."""
    names: dict[str, str] = {}
    errors = []
    for key, kind in ATTRIBUTE_KINDS.items():
        value = getattr(attributes, key)
        ids = [] if value is None else [value] if isinstance(value, str) else list(value)
        known = active["attributes"].get(kind, {})
        for index, attribute_id in enumerate(ids):
            where = f"{path}.{key}" if key == "style" else f"{path}.{key}.{index}"
            if attribute_id in known:
                names[attribute_id] = known[attribute_id]
            else:
                message = f"{attribute_id!r} is not an active {_KIND_NOUN[kind]} in the catalog."
                errors.append(field_error(where, message, "not_in_catalog"))
    return names, errors


def check_attributes(attributes: Attributes, active: dict[str, Any], path: str = "attributes") -> dict[str, str]:
    """{id: name} of the attributes, or a 400 naming each id the catalog does not offer."""
    names, errors = attribute_errors(attributes, active, path)
    if errors:
        raise invalid(errors)
    return names


def reading_type_errors(types: Iterable[str], active: dict[str, Any],
                        path: str = "readingOptions") -> list[dict[str, str]]:
    """``types``: the reading type of each option, in order."""
    return [field_error(f"{path}.{index}.type", f"{reading_type!r} readings are not offered at the moment.",
                        "not_in_catalog")
            for index, reading_type in enumerate(types) if reading_type not in active["reading_types"]]


def check_reading_types(options: Iterable[ReadingOption], active: dict[str, Any]) -> None:
    errors = reading_type_errors([option.type for option in options], active)
    if errors:
        raise invalid(errors)


_IMAGE_PURPOSE = {"profileImage": "profile_image", "backgroundImage": "background_image"}


def _image_error(user_id: str, path: str, value: str) -> dict[str, str] | None:
    if not value.startswith("media/"):
        return None  # an https URL (the schema allows nothing else)
    if not value.startswith(f"media/{user_id}/"):
        return field_error(path, f"A media key must start with media/{user_id}/.", "foreign_media_key")
    parts = variant_key_parts(value)
    purpose = _IMAGE_PURPOSE.get(path.rsplit(".", 1)[-1], "profile_image")
    if parts is None:
        return field_error(path, f"Only a processed image can be set: use one of the variant keys of the upload "
                                 f"(media/{user_id}/{purpose}/<uploadId>/<size>.webp), not the uploaded file.",
                           "unprocessed_media_key")
    if parts["purpose"] != purpose:
        return field_error(path, f"This image was uploaded as a {parts['purpose']}, not a {purpose}.",
                           "wrong_media_purpose")
    if not media.stored(value):
        return field_error(path, "This image does not exist: its upload was rejected or is not processed yet.",
                           "media_not_found")
    return None


def check_images(user_id: str, values: dict[str, str | None]) -> None:
    """A media key must be a processed variant of the caller's own upload of that purpose
    (``media/<userId>/<purpose>/<uploadId>/<size>.webp``) that exists (one HeadObject each):
    a raw upload, or an upload the media job rejected (deleted), can never be set."""
    errors = [error for path, value in values.items()
              if value is not None and (error := _image_error(user_id, path, value)) is not None]
    if errors:
        raise invalid(errors)


def attributes_document(attributes: Attributes) -> dict[str, Any]:
    document: dict[str, Any] = {"tools": list(attributes.tools), "abilities": list(attributes.abilities)}
    if attributes.style is not None:
        document["style"] = attributes.style
    return document


def options_document(options: list[ReadingOption]) -> list[dict[str, Any]]:
    return [{"id": option.id or f"opt_{new_id()}", "type": option.type, "name": option.name,
             "description": option.description, "duration": option.duration, "price": option.price,
             "isActive": option.is_active} for option in options]


def availability_document(availability: Availability) -> dict[str, Any]:
    schedule = {day: [{"start": slot.start, "end": slot.end} for slot in availability.schedule[day]]
                for day in WEEKDAYS if availability.schedule.get(day)}
    document: dict[str, Any] = {"instantBooking": availability.instant_booking, "schedule": schedule}
    if availability.timezone is not None:
        document["timezone"] = availability.timezone
    return document


_DEFAULT_NAMES = {catalog_defaults.slug(name): name for names in catalog_defaults.ATTRIBUTES.values() for name in names}


def _fallback_name(attribute_id: str) -> str:
    """For profiles written without copied names (e.g. seeded ones): the default catalog's
    name, else the slug made readable. No catalog read."""
    return _DEFAULT_NAMES.get(attribute_id) or attribute_id.replace("-", " ").title()


def _variants(stored: Any) -> dict[str, str] | None:
    """{size in px: absolute URL} of the processed image variants (the media job writes their keys)."""
    return public_variants({size: key for size, key in (plain(stored) or {}).items() if size.isdigit()})


def profile_document(profile: ReaderProfile) -> dict[str, Any]:
    """The fields every profile view shares, camelCase, with defaults filled in."""
    attributes = plain(profile.attributes) or {}
    ids = [*attributes.get("tools", []), *attributes.get("abilities", []),
           *([attributes["style"]] if attributes.get("style") else [])]
    stored_names = plain(profile.attribute_names) or {}
    availability = plain(profile.availability) or {}
    schedule = availability.get("schedule") or {}
    return {
        "id": profile.reader_id,
        "userId": profile.reader_id,
        "status": profile.status,
        "displayName": profile.display_name,
        "tagline": profile.tagline,
        "bio": profile.bio,
        "location": profile.location,
        "languages": list(plain(profile.languages) or []),
        "experience": profile.experience,
        "profileImage": public_url(profile.profile_image),
        "backgroundImage": public_url(profile.background_image),
        "profileImageVariants": _variants(profile.profile_image_variants),
        "backgroundImageVariants": _variants(profile.background_image_variants),
        "attributes": {"tools": list(attributes.get("tools", [])), "abilities": list(attributes.get("abilities", [])),
                       "style": attributes.get("style")},
        # Profiles written before names were copied (e.g. seeded ones) fall back to the slug.
        "attributeNames": {attribute_id: stored_names.get(attribute_id) or _fallback_name(attribute_id)
                           for attribute_id in ids},
        # Public: an option's text moderation holds or hid is left out (own views: own_reading_options).
        "readingOptions": [_option_defaults(option) for stored in plain(profile.reading_options) or []
                           if (option := option_moderation.public_option(stored)) is not None],
        "availability": {"timezone": availability.get("timezone"),
                         "instantBooking": bool(availability.get("instantBooking", False)),
                         "schedule": {day: list(schedule.get(day, [])) for day in WEEKDAYS}},
        "createdAt": profile.created_at,
        "updatedAt": profile.updated_at,
    }


def _option_defaults(option: dict[str, Any]) -> dict[str, Any]:
    return {**option, "description": option.get("description", ""), "isActive": bool(option.get("isActive", True))}


def own_reading_options(profile: ReaderProfile) -> list[dict[str, Any]]:
    """The reader's own view of their options: each text's newest version (a held edit, not the
    approved text the public still sees), with ``moderation`` where it is held or hidden."""
    return [_option_defaults(option_moderation.own_option(stored)) for stored in plain(profile.reading_options) or []]


def listed_options(options: list[dict[str, Any]], *, public: bool) -> list[dict[str, Any]]:
    """Each option with ``prices``: the total the quote charges per duration a client can
    choose (the catalog's active time spans, cached per container), and ``basePrice``, the
    price the reader set for ``duration`` minutes. On the public card ``price`` is the
    headline listed total, for ``priceDuration`` minutes; on the reader's own views it stays
    the price the reader set (what ``PUT /reader/reading-options`` takes)."""
    spans = catalog.time_spans()
    listed = []
    for option in options:
        prices = pricing.listed_prices(option, spans)
        entry = {**option, "basePrice": option["price"], "prices": prices}
        top = pricing.headline(option, prices) if public else None
        if top is not None:
            entry.update(price=top["total"], priceDuration=top["duration"])
        listed.append(entry)
    return listed


def rating_average(profile: ReaderProfile) -> float | None:
    """The average shown: None (no data, not 0) before the first counted review. The stored
    ``ratingAverage`` counter stays 0 until then."""
    if not int(profile.rating_count or 0) or profile.rating_average is None:
        return None
    return float(profile.rating_average)


def card_stats(profile: ReaderProfile) -> dict[str, Any]:
    """The public statistics: the live counters the reader_stats consumers keep; averageRating
    and completionRate are None without data (no review / no completed reading)."""
    return {"totalReadings": int(profile.total_readings or 0), "averageRating": rating_average(profile),
            "completionRate": completion_rate(int(profile.accepted_count or 0), int(profile.completed_count or 0))}


def own_profile_document(profile: ReaderProfile) -> dict[str, Any]:
    """The reader's own view: a text field moderation holds (or rejected) shows the reader's
    pending text, with its state in ``moderation``; the public still sees the approved one."""
    document = profile_document(profile)
    pending = {name: text for name, attribute in PENDING_FIELDS.items()
               if (text := getattr(profile, attribute)) is not None}
    return {
        **document,
        **pending,
        "readingOptions": listed_options(own_reading_options(profile), public=False),
        "isOnline": bool(profile.is_online),
        "lastSeenAt": profile.last_seen_at,
        "ratingAverage": rating_average(profile),
        "ratingCount": int(profile.rating_count or 0),
        "totalReadings": int(profile.total_readings or 0),
        "badges": list(plain(profile.badges) or []),
        "isApproved": profile.status == APPROVED,
        "lastActive": profile.last_seen_at,
        "createdDate": profile.created_at,
        "stats": {**card_stats(profile), "totalEarnings": _earnings(profile.reader_id)},
        "reviews": list(plain(profile.recent_reviews) or []),
        "moderation": moderated_fields(profile) or None,
        "version": versions.of(profile.profile_version),
    }


def moderated_fields(profile: ReaderProfile) -> dict[str, dict[str, str]]:
    """{wire field: its moderation state document} of the text fields whose newest text (the
    pending one, if any) is held or hidden: the author's own view."""
    found = {name: state_document(getattr(profile, attribute)) for name, attribute in MODERATED_FIELDS.items()}
    return {name: document for name, document in found.items() if document is not None}


def masked_fields(profile: ReaderProfile) -> set[str]:
    """The wire names of the text fields the public card leaves out: held or hidden, with no
    pending text (a pending text's state is its own; the field shows the last approved text)."""
    return {name for name, attribute in MODERATED_FIELDS.items()
            if state_of(getattr(profile, attribute)) is not None and getattr(profile, PENDING_FIELDS[name]) is None}


def _earnings(reader_id: str) -> int:
    """The reader's earnings balance (one projected GetItem of their user item)."""
    try:
        user = User.get(reader_id, attributes_to_get=["userId", "creditsEarnings"])
    except User.DoesNotExist:
        return 0
    return int(user.credits_earnings or 0)


# --- the reader's own profile -------------------------------------------------------------------


def get_profile(reader_id: str) -> ReaderProfile:
    try:
        return ReaderProfile.get(reader_id, consistent_read=True)
    except ReaderProfile.DoesNotExist as exc:
        raise NotFound("reader profile", code="reader_profile_not_found") from exc


def _update_approved(reader_id: str, actions: list[Any], *, reason: str, verdict: moderation.Verdict | None = None,
                     texts: dict[str, str | None] | None = None, current: ReaderProfile | None = None,
                     version: int | None = None, marks_read: dict[str, str | None] | None = None) -> ReaderProfile:
    """One transaction: the update of an approved profile, its ``reader.card_changed`` event
    (``reason``: what changed) and, for new text (``texts``: {wire name: text}, screened into
    ``verdict``; ``current``: the profile they were worked out from), the queue item and each
    field's text (``text_actions``); returns the profile as stored.
    ``version``: only a profile at that ``profileVersion`` is changed (else 409). ``marks_read``:
    the moderation attributes (name -> value) the change was worked out from; a moderator's
    decision since (it does not raise the version) is a 409 ``moderation_changed``."""
    condition = ReaderProfile.status == APPROVED
    if version is not None:
        condition &= versions.matches(ReaderProfile.profile_version, version)
    for name, value in (marks_read or {}).items():
        column = getattr(ReaderProfile, name)
        condition &= column.does_not_exist() if value is None else column == value

    def work(tx: Transaction) -> None:
        marks = text_actions(tx, verdict, reader_id, texts or {}, current)
        tx.update(blind(reader_id), actions=[*actions, *marks], condition=condition,
                  add_version_condition=False, label="profile")
        outbox.emit(tx, CARD_CHANGED, readerId=reader_id, reason=reason)

    try:
        atomically(work, retry_on=moderation.conflicted)
    except ConditionsFailed as failed:
        if moderation.conflicted(failed):
            raise Conflict("Your profile is being reviewed right now; try again in a moment.",
                           code="concurrent_change") from failed
        if marks_read and _marks_moved(reader_id, marks_read):
            raise Conflict("A moderator reviewed your profile while you edited it: read it again before "
                           "changing it.", code="moderation_changed") from failed
        raise not_active(reader_id, version) from failed
    return get_profile(reader_id)


def _marks_moved(reader_id: str, marks_read: dict[str, str | None]) -> bool:
    try:
        current = ReaderProfile.get(reader_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return False
    return current.status == APPROVED and any(getattr(current, k) != v for k, v in marks_read.items())


def moderation_marks(
    tx: Transaction, verdict: moderation.Verdict | None, reader_id: str
) -> tuple[str | None, list[Any]]:
    """Queue what ``verdict`` flagged (in ``tx``) and return the queue item's id (None: nothing
    flagged) and the update actions of the screened text fields' moderation attributes: held
    until a moderator approves, else cleared (new text replaces what a moderator held or hid of
    the old). Reading options' fields are the caller's (``domain.option_moderation.merged``)."""
    if verdict is None:
        return None, []
    item_id = verdict.record(tx, reader_id)
    marks = []
    for name in verdict.fields:
        if name not in MODERATED_FIELDS:
            continue
        column = getattr(ReaderProfile, MODERATED_FIELDS[name])
        marks.append(column.set(marked(HELD, str(item_id))) if name in verdict.held_fields else column.remove())
    return item_id, marks


def text_actions(tx: Transaction, verdict: moderation.Verdict | None, reader_id: str,
                 texts: dict[str, str | None], current: ReaderProfile | None) -> list[Any]:
    """Queue what ``verdict`` flagged (in ``tx``) and return the update actions of the text
    fields of an approved profile. A held text waits in the field's pending attribute (held until
    a moderator approves it) and the public keeps the last approved text; if the field's stored
    text was itself held or hidden, nobody had approved it: it goes. A cleared text replaces the
    field's text at once, dropping a pending one and its mark. A field in ``texts`` that was not
    screened (the hidden text sent again) is left as it is."""
    if verdict is None:
        return []
    item_id = verdict.record(tx, reader_id)
    actions: list[Any] = []
    for name in verdict.fields:
        column = getattr(ReaderProfile, _ATTRIBUTE_OF[name])
        pending = getattr(ReaderProfile, PENDING_FIELDS[name])
        mark = getattr(ReaderProfile, MODERATED_FIELDS[name])
        text = texts.get(name)
        if name in verdict.held_fields:
            actions += [pending.set(text), mark.set(marked(HELD, str(item_id)))]
            if (current is not None and state_of(getattr(current, MODERATED_FIELDS[name])) is not None
                    and getattr(current, PENDING_FIELDS[name]) is None):
                actions.append(column.remove())
        else:
            actions += [column.remove() if text is None else column.set(text), pending.remove(), mark.remove()]
    return actions


def not_active(reader_id: str, version: int | None = None) -> Exception:
    """Why a write conditioned on an approved profile (at ``version``) did not apply."""
    try:
        current = ReaderProfile.get(reader_id, consistent_read=True)
    except ReaderProfile.DoesNotExist:
        return NotFound("reader profile", code="reader_profile_not_found")
    if current.status == APPROVED and version is not None:
        return versions.mismatch("profile", versions.of(current.profile_version), version)
    return Forbidden(f"Your reader profile is {current.status}, not approved.", code="reader_profile_not_active",
                     details={"status": current.status})


# The profile's public text: model attribute -> wire name (what the moderation screen reads).
TEXT_FIELDS = _TEXT_FIELDS = {"display_name": "displayName", "tagline": "tagline", "bio": "bio", "location": "location"}
_ATTRIBUTE_OF = {name: attr for attr, name in _TEXT_FIELDS.items()}


def update_profile(reader_id: str, changes: dict[str, Any], *, expected_version: int | None = None,
                   now: datetime | None = None) -> ReaderProfile:
    """``changes``: {field: new value (None: clear it)} of the fields the reader sent;
    ``attributes`` is an ``Attributes``, complete. ``expected_version`` (If-Match): only a
    profile at that version is changed (409 ``version_mismatch``, nothing written)."""
    check_images(reader_id, {name: changes[attr] for attr, name in
                             (("profile_image", "profileImage"), ("background_image", "backgroundImage"))
                             if attr in changes})
    actions: list[Any] = [ReaderProfile.updated_at.set(iso(now or utcnow())),
                          versions.bump(ReaderProfile.profile_version)]
    for attr in ("languages", "profile_image", "background_image"):  # the text fields: text_actions
        if attr in changes:
            value = changes[attr]
            column = getattr(ReaderProfile, attr)
            actions.append(column.remove() if value is None else column.set(value))
    attributes: Attributes | None = changes.get("attributes")
    if attributes is not None:
        names = check_attributes(attributes, active_catalog())
        actions += [ReaderProfile.attributes.set(attributes_document(attributes)),
                    ReaderProfile.attribute_names.set(names)]
    texts = {name: changes[attr] for attr, name in _TEXT_FIELDS.items() if attr in changes}
    marks_read: dict[str, str | None] = {}
    current: ReaderProfile | None = None
    if texts:  # the same text a moderator hid (the pending one, if any), sent again, stays hidden
        current = get_profile(reader_id)
        marks_read = {MODERATED_FIELDS[name]: getattr(current, MODERATED_FIELDS[name]) for name in texts}
        texts = {name: text for name, text in texts.items()
                 if not (state_of(getattr(current, MODERATED_FIELDS[name])) == HIDDEN
                         and text == _newest_text(current, name))}
    verdict = moderation.screen("profile", texts, author_id=reader_id, role="reader") if texts else None
    return _update_approved(reader_id, actions, reason="profile", verdict=verdict, texts=texts, current=current,
                            version=expected_version, marks_read=marks_read)


def _newest_text(profile: ReaderProfile, name: str) -> str | None:
    """The field's newest text: the pending one, else the stored one."""
    pending = getattr(profile, PENDING_FIELDS[name])
    return pending if pending is not None else getattr(profile, _ATTRIBUTE_OF[name])


def replace_availability(reader_id: str, availability: Availability, *,
                         now: datetime | None = None) -> ReaderProfile:
    return _update_approved(reader_id, [ReaderProfile.availability.set(availability_document(availability)),
                                        ReaderProfile.updated_at.set(iso(now or utcnow()))], reason="availability")
