"""Reader profiles: the reader's own profile, options, availability and online status; the public card."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import Reply, RequestContext, route
from chalicelib.auth import PUBLIC_OR_SIGNED_IN, READER
from chalicelib.http_conditions import etag, if_match
from chalicelib.models.readers import ReaderProfile
from chalicelib.schemas.reader_views import AvailabilityOut, OnlineOut, ReaderCard, ReaderProfileOut, ReadingOptionsOut
from chalicelib.schemas.readers import AvailabilityPut, OnlineIn, ReaderProfilePatch, ReadingOptionsPut
from chalicelib.services import presence, reader_cards, reader_options, readers
from chalicelib.services.recommend import interactions

readers_api = Blueprint(__name__)


@route(readers_api, "/readers/{readerId}", "GET", access=PUBLIC_OR_SIGNED_IN, response=ReaderCard, errors=(404,),
       cache_seconds=60, tags=["readers"], rate_limit="public_reads", summary="A reader's public profile card")
def get_reader_card(ctx: RequestContext, readerId: str) -> ReaderCard:
    """Approved, active readers only (anyone else is 404). A reader whose profile is private
    has no public card (they see it at GET /reader/profile); a readers_only card is shown to
    signed-in readers and admins only (404 to anyone else). Active reading options only;
    online status and last activity only if the reader's privacy settings show them. The
    bearer token is optional; an answer to a signed-in caller is ``private, no-store``."""
    card = ReaderCard.model_validate(reader_cards.public_card(readerId, viewer_role=_viewer_role(ctx)))
    if ctx.principal is not None:  # a signed-in caller's view feeds their recommendations; never fails
        interactions.record_view(ctx.principal.user_id, readerId)
    return card


def _viewer_role(ctx: RequestContext) -> str | None:
    """The caller's role for what they may see; a suspended account sees what anyone sees."""
    principal = ctx.principal
    return principal.role if principal is not None and principal.status == "active" else None


@route(readers_api, "/reader/profile", "GET", access=READER, response=ReaderProfileOut, errors=(404,),
       tags=["reader profile"], summary="The caller's own reader profile")
def get_profile(ctx: RequestContext) -> Reply:
    """The ``ETag`` is the profile's ``version``: send it as ``If-Match`` with PATCH."""
    return _tagged(readers.get_profile(ctx.user.user_id))


def _tagged(profile: ReaderProfile) -> Reply:
    document = ReaderProfileOut.model_validate(readers.own_profile_document(profile))
    return Reply(document, headers={"ETag": etag(document.version)})


@route(readers_api, "/reader/profile", "PATCH", access=READER, body=ReaderProfilePatch, response=ReaderProfileOut,
       errors=(400, 404, 409), tags=["reader profile"], summary="Edit the caller's reader profile")
def patch_profile(ctx: RequestContext) -> Reply:
    """Images are https URLs or media keys under ``media/<yourUserId>/``. Attributes are
    replaced as a whole: 1-3 tools, 1-3 abilities, one style, all active in the catalog.
    Only the fields sent change. ``If-Match: "<version>"`` (the ETag of GET) edits that
    version only: a stale one is a 409 version_mismatch (``details.currentVersion``) and
    nothing changes. Without it, the fields sent are applied to the profile as stored (an
    edit of other fields made meanwhile is kept)."""
    profile = readers.update_profile(ctx.user.user_id, ctx.body.changes(), expected_version=if_match(ctx))
    return _tagged(profile)


@route(readers_api, "/reader/reading-options", "PUT", access=READER, body=ReadingOptionsPut,
       response=ReadingOptionsOut, errors=(404, 409, 422), tags=["reader profile"],
       summary="Replace the caller's reading options")
def put_reading_options(ctx: RequestContext) -> ReadingOptionsOut:
    """At most 12 options, one per type and duration; duration 5..180 minutes; price
    1..10000 credits. An option without an id gets a new one. Each option's name and
    description pass the moderation screen like the profile's text: refused text is a 422
    ``content_rejected`` (``readingOptions.<index>.<name|description>``); held text (contact
    details, say) is shown here with ``moderation`` while the public card keeps the option's
    last approved text (a new option whose name is held is not on the card and cannot be
    booked) until a moderator approves it."""
    body: ReadingOptionsPut = ctx.body
    profile = reader_options.replace(ctx.user.user_id, [option.to_domain() for option in body.reading_options])
    options = readers.listed_options(readers.own_reading_options(profile), public=False)
    return ReadingOptionsOut.model_validate({"readingOptions": options})


@route(readers_api, "/reader/availability", "PUT", access=READER, body=AvailabilityPut, response=AvailabilityOut,
       errors=(404,), tags=["reader profile"],
       summary="Replace the caller's weekly schedule, timezone and instant booking")
def put_availability(ctx: RequestContext) -> AvailabilityOut:
    """Slots are local to the IANA timezone; start < end; 24:00 may end a day; slots of a day
    may touch but not overlap; a slot crossing midnight is two slots."""
    profile = readers.replace_availability(ctx.user.user_id, ctx.body.to_domain())
    return AvailabilityOut.model_validate(readers.profile_document(profile)["availability"])


@route(readers_api, "/reader/online", "PUT", access=READER, body=OnlineIn, response=OnlineOut, errors=(404, 409),
       tags=["reader profile"], summary="Go online or offline; repeat while online as a heartbeat")
def put_online(ctx: RequestContext) -> OnlineOut:
    """Send about once a minute while online; a reader without a heartbeat for
    READER_PRESENCE_TIMEOUT_SECONDS (default 300) is set offline by the presence job. Only a
    change emits ``reader.online_changed``."""
    body: OnlineIn = ctx.body
    state = presence.set_online(ctx.user.user_id, body.online)
    return OnlineOut(is_online=state.is_online, last_seen_at=state.last_seen_at, changed=state.changed)
