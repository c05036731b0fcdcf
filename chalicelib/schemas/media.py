"""Media uploads: the request for a presigned POST and what the browser needs to send it."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import ApiModel, InputModel

Purpose = Literal["profile_image", "background_image", "video_message"]
ContentType = Literal["image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm", "video/quicktime"]


class UploadRequest(InputModel):
    """Images (profile_image, background_image): image/jpeg, image/png, image/webp, up to 5 MB.
    Video messages (readers only): video/mp4, video/webm, video/quicktime, up to 500 MB."""

    model_config = ConfigDict(**InputModel.model_config, json_schema_extra={
        "examples": [{"purpose": "profile_image", "contentType": "image/png", "contentLength": 48213}]})

    purpose: Purpose
    content_type: ContentType = Field(description="the file's type; S3 refuses the upload under any other")
    content_length: int = Field(ge=1, le=500 * 1024 * 1024, description="the file's size in bytes")
    reading_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                   description="video_message only: the reading it answers")


class UploadOut(ApiModel):
    """A presigned upload: POST the file to url with the fields, before expiresAt."""
    upload_id: str
    key: str = Field(description="where the file will be: media/<userId>/<purpose>/<uploadId>.<ext>")
    url: str = Field(description="POST a multipart/form-data form here")
    fields: dict[str, str] = Field(description="send every one of these form fields, then the file as 'file' (last)")
    expires_at: str = Field(description="the form is refused after this instant (UTC)")
    max_bytes: int = Field(description="the largest file S3 accepts for this purpose")
