"""Media uploads: a presigned S3 POST for one file under the caller's own prefix.

The browser sends the file straight to S3 (the API never carries it); S3 enforces the
policy (key, type, size, expiry). The media job (chalicelib/jobs/media.py) then checks
what actually arrived and makes the image variants.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import RequestContext, route
from chalicelib.auth import SIGNED_IN
from chalicelib.schemas.media import UploadOut, UploadRequest
from chalicelib.services import media

media_api = Blueprint(__name__)


@route(media_api, "/media/uploads", "POST", access=SIGNED_IN, body=UploadRequest, response=UploadOut, status=201,
       tags=["media"], rate_limit="media_uploads",
       summary="A presigned upload for a profile/background image or a video message")
def create_upload(ctx: RequestContext) -> UploadOut:
    """Answers the URL and form fields of an S3 POST valid for 10 minutes, for exactly one
    object under the caller's prefix, of the declared type and at most the purpose's size."""
    request: UploadRequest = ctx.body
    upload = media.new_upload(ctx.user.user_id, role=ctx.user.role, purpose=request.purpose,
                              content_type=request.content_type, content_length=request.content_length,
                              reading_id=request.reading_id)
    return UploadOut(upload_id=upload.upload_id, key=upload.key, url=upload.url, fields=upload.fields,
                     expires_at=upload.expires_at, max_bytes=upload.max_bytes)
