"""``PUT /reader/reading-options``: replace an approved reader's reading options, their public
text (each option's name and description) screened like the profile's other public text.

The texts that differ from each option's newest text pass ``moderation.screen`` (content type
``profile``, fields ``readingOptions.<optionId>.<name|description>``): an ``auto_reject`` rule
is a 422 naming ``readingOptions.<index>.<text>`` and nothing is stored; contact details and
``escalate`` rules hold the text (``domain.option_moderation``: the last approved text stays
public, the new one waits as ``pending<Text>`` until a moderator approves; a new option whose
name is held stays off the card and cannot be booked), queued on the profile's item; ``flag``
rules queue it while it stays public.

One transaction: the queue item, the options list and ``reader.card_changed``, conditional on
the profile being approved and its options being the list the change was worked out from (a
moderator's decision or another edit meanwhile: read and work it out again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import option_moderation
from chalicelib.domain.readers import ReadingOption
from chalicelib.errors import Conflict
from chalicelib.models.base import iso, plain, utcnow
from chalicelib.models.readers import ReaderProfile
from chalicelib.services import moderation, outbox
from chalicelib.services.readers import (
    APPROVED,
    active_catalog,
    blind,
    check_reading_types,
    get_profile,
    not_active,
    options_document,
)
from chalicelib.services.tx import ConditionsFailed, Transaction, atomically

PROFILE = "profile"
CARD_CHANGED = "reader.card_changed"


def replace(reader_id: str, options: list[ReadingOption], *, now: datetime | None = None) -> ReaderProfile:
    """Replace the reader's options (see the module); returns the profile as stored."""
    if options:
        check_reading_types(options, active_catalog())
    documents = options_document(options)  # a new option gets its id here, once
    at = iso(now or utcnow())

    def work(tx: Transaction) -> None:
        current = get_profile(reader_id)
        if current.status != APPROVED:
            raise not_active(reader_id)
        stored = plain(current.reading_options)
        before = {str(option.get("id")): option for option in stored or []}
        texts = option_moderation.changed_texts(documents, before)
        verdict = None
        if texts:
            paths = option_moderation.request_paths(documents)
            verdict = moderation.screen("profile", texts, author_id=reader_id, role="reader", paths=paths)
        item_id = verdict.record(tx, reader_id) if verdict is not None else None
        merged = option_moderation.merged(
            documents,
            before,
            screened=verdict.fields if verdict is not None else (),
            held=verdict.held_fields if verdict is not None else (),
            item_id=item_id,
        )
        unchanged: Any = (
            ReaderProfile.reading_options.does_not_exist()
            if stored is None
            else ReaderProfile.reading_options == stored
        )
        tx.update(
            blind(reader_id),
            actions=[ReaderProfile.reading_options.set(merged), ReaderProfile.updated_at.set(at)],
            condition=(ReaderProfile.status == APPROVED) & unchanged,
            add_version_condition=False,
            label=PROFILE,
        )
        outbox.emit(tx, CARD_CHANGED, readerId=reader_id, reason="reading_options")

    def changed_meanwhile(failed: ConditionsFailed) -> bool:
        return moderation.conflicted(failed) or PROFILE in failed

    try:
        atomically(work, retry_on=changed_meanwhile)
    except ConditionsFailed as failed:
        raise Conflict(
            "Your reading options kept changing while you saved them; read them again and try again.",
            code="concurrent_change",
        ) from failed
    return get_profile(reader_id)
