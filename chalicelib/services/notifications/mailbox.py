"""The local mail viewer's store: a copy of every email sent, where the viewer can list them.

Why a copy, and not moto's SES: moto keeps sent messages in its server's memory, readable
in-process through its backend but over HTTP only through ``/moto-api/``, whose shape is
moto's internals and not a contract. A JSON copy per email in the media bucket, under
``local-mail/``, reads the same in the tests (moto in-process) and on ``make run`` (moto's
server), with the S3 calls the app already makes. Written only when
``settings.mail_viewer`` is on (the local stage and the tests), never in the cloud.

Keys sort newest first: ``local-mail/<10^13 - sent ms, 13 digits>-<id>.json``.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from chalicelib.config import get_settings
from chalicelib.integrations import aws, s3

PREFIX = "local-mail/"
_ID = re.compile(r"^[0-9]{13}-[0-9a-f]{32}$")
_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class KeptEmail:
    mail_id: str
    to: str
    subject: str
    type: str
    sent_at: str  # ISO-8601 UTC
    user_id: str
    event_id: str
    ses_message_id: str
    html: str
    text: str
    headers: dict[str, str]


def keep(*, to: str, subject: str, type_: str, sent_at: datetime, user_id: str, event_id: str,
         ses_message_id: str, html: str, text: str, headers: dict[str, str]) -> KeptEmail:
    millis = int(sent_at.timestamp() * 1000)
    mail_id = f"{10**13 - millis:013d}-{uuid.uuid4().hex}"
    kept = KeptEmail(mail_id=mail_id, to=to, subject=subject, type=type_,
                     sent_at=sent_at.isoformat().replace("+00:00", "Z"), user_id=user_id, event_id=event_id,
                     ses_message_id=ses_message_id, html=html, text=text, headers=headers)
    s3.put(get_settings().media_bucket_name, f"{PREFIX}{mail_id}.json", json.dumps(asdict(kept)).encode(),
           content_type="application/json")
    return kept


def recent(limit: int = 50) -> list[KeptEmail]:
    """The newest ``limit`` emails, newest first (one ListObjectsV2, one GetObject each)."""
    bucket = get_settings().media_bucket_name
    listed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=PREFIX, MaxKeys=limit)
    found = (get(item["Key"][len(PREFIX):-len(".json")]) for item in listed.get("Contents", []))
    return [email for email in found if email is not None]


def get(mail_id: str) -> KeptEmail | None:
    if not _ID.match(mail_id):
        return None
    stored = s3.read(get_settings().media_bucket_name, f"{PREFIX}{mail_id}.json", limit=_MAX_BYTES)
    if stored is None:
        return None
    return KeptEmail(**json.loads(stored.data))
