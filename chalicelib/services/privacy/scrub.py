"""The purge's rewrites of items that stay: a deleted account's words and names leave them.

* **Readings** stay (they are the other party's history and the ledger's references). As the
  client: the question, the review's comment and the dispute's reason are emptied (the rating
  and the outcome stay); as the reader: their name leaves the option's name as booked; as
  either party: the live meeting and a delivered video's key go.
* **Reviews the client wrote** keep their rating; the comment goes from the review, its copy
  in the reader's card and the reading (the name is already "Former client": review_names.py).
* **Suggestions a deleted reader made** (on every status its suggestion traces name, and
  those remembered when they were withdrawn) lose the reader's name, image and message.
* **The moderation queue**: the items about the account's content (``byAuthor``) lose their
  excerpts and matches; its reports (``byReporter``) lose their notes on the items and are
  deleted. Ids stay (opaque, like the ledger's): the queue's decisions still say what about whom.
* **Other users' notifications** that name the account: for every reading, status or
  application of the account, its counterparts' inboxes (the other party, the readers who
  suggested, the readers a status was announced to, the admins) are Queried for the rows
  about it (``relatedId``), and the names become "a former client" / "a former reader"
  (a status's quoted excerpt is removed). What the row says otherwise stays.
* **Ledger memos**: a booking's memo names its reader ("Phone reading with Luna Marquez"):
  for a deleted reader, the journal entry's and the client's line's memo say "a former
  reader". The deleted account's own lines keep amounts, kinds and references and lose their
  memo. The account id stays on every entry and line: after the purge it names an account
  with no personal data left (our ids are opaque), so the ledger still sums and verifies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.operand import Path

from chalicelib.domain.privacy import FORMER_CLIENT, FORMER_READER, without_names, without_quotes
from chalicelib.models.base import plain
from chalicelib.models.ledger import LedgerEntry, LedgerLine
from chalicelib.models.moderation import ContentReport, ModerationItem, item_key
from chalicelib.models.notifications import Notification
from chalicelib.models.privacy import SUGGESTED_PREFIX, SuggestionTrace
from chalicelib.models.readers import ReaderProfile
from chalicelib.models.readings import Reading, Review, hidden_reviews_key
from chalicelib.models.statuses import Status
from chalicelib.services import review_names
from chalicelib.services.readings import common
from chalicelib.services.tx import Transaction, atomically

IN_OPERANDS_MAX = 100  # DynamoDB's limit on an IN list
ATTEMPTS = 4


@dataclass(frozen=True)
class Names:
    """How the account was named: as a client (its first name, its display name), as a
    reader (the public display name), and its statuses' quoted excerpts."""

    client: tuple[str, ...] = ()
    reader: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()

    def anonymise(self, text: str | None) -> str | None:
        if not text:
            return text
        text = without_quotes(text, self.quotes)
        text = without_names(text, self.reader, FORMER_READER)
        return without_names(text, self.client, FORMER_CLIENT)


@dataclass
class Related:
    """Who may hold notifications about the account, and about which of its things."""

    by_recipient: dict[str, set[str]] = field(default_factory=dict)

    def add(self, recipients: Iterable[str], related_id: str) -> None:
        for recipient in recipients:
            if recipient:
                self.by_recipient.setdefault(recipient, set()).add(related_id)


def _retrying(update: Callable[[], None]) -> None:
    """An update conditioned on the state it read (a version, an element's id): read and try
    again when something moved meanwhile; a conditional failure after that is left alone."""
    for _ in range(ATTEMPTS):
        try:
            update()
            return
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise


# --- readings and reviews ---------------------------------------------------------------------


def reading_texts(reading_id: str, user_id: str, names: Names) -> bool:
    """Empty what the account wrote on one reading (as the reader: its name in the option's
    name as booked) and drop its session and video key."""
    changed = False

    def update() -> None:
        nonlocal changed
        reading = common.existing(reading_id)
        if reading is None:
            return
        actions: list[Any] = []
        if reading.client_id == user_id:
            if reading.question:
                actions.append(Reading.question.remove())
            review = plain(reading.review) if reading.review is not None else None
            if review and review.get("comment"):
                actions.append(Reading.review.set({**review, "comment": ""}))
            dispute = plain(reading.dispute) if reading.dispute is not None else None
            if dispute and dispute.get("reason"):
                actions.append(Reading.dispute.set({**dispute, "reason": ""}))
        option = plain(reading.reading_option) or {}
        if reading.reader_id == user_id and option.get("name"):
            renamed = names.anonymise(str(option["name"]))
            if renamed != option["name"]:
                actions.append(Reading.reading_option.set({**option, "name": renamed}))
        if reading.meeting is not None and reading.status not in ("accepted", "in_progress"):
            actions.append(Reading.meeting.remove())
        delivery = plain(reading.delivery) if reading.delivery is not None else None
        if delivery and ("videoKey" in delivery or "attendees" in delivery):
            actions.append(
                Reading.delivery.set({k: v for k, v in delivery.items() if k not in ("videoKey", "attendees")})
            )
        if actions:
            reading.update(actions=actions)  # conditional on the version read
            changed = True

    _retrying(update)
    return changed


def review_comment(reading: Reading) -> bool:
    """The client's review of ``reading``: its comment emptied on the review item and on the
    reader's card (the name is "Former client" since the deletion)."""
    review = plain(reading.review) if reading.review is not None else None
    if not review or "createdAt" not in review:
        return False
    # A held or hidden review lives under ``hidden_reviews_key``, a public one under the reader:
    # both are tried (moderation may move it between the two while the purge runs).
    for owner in (reading.reader_id, hidden_reviews_key(reading.reader_id)):
        with contextlib.suppress(UpdateError):  # not under this key: nothing to scrub here
            Review(reader_id=owner, sk=f"{review['createdAt']}#{reading.reading_id}").update(
                actions=[Review.comment.set(""), Review.client_name.set(review_names.FORMER_CLIENT)],
                condition=Review.sk.exists(),
            )

    def work(tx: Transaction) -> None:
        try:
            profile = ReaderProfile.get(reading.reader_id, consistent_read=True)
        except ReaderProfile.DoesNotExist:
            return
        recent = plain(profile.recent_reviews) or []
        if not any(
            entry.get("id") == reading.reading_id
            and (entry.get("comment") or entry.get("clientName") != review_names.FORMER_CLIENT)
            for entry in recent
        ):
            return
        scrubbed = [
            {**entry, "comment": "", "clientName": review_names.FORMER_CLIENT}
            if entry.get("id") == reading.reading_id
            else entry
            for entry in recent
        ]
        count = (
            ReaderProfile.rating_count == profile.rating_count
            if profile.rating_count is not None
            else ReaderProfile.rating_count.does_not_exist()
        )
        tx.update(profile, actions=[ReaderProfile.recent_reviews.set(scrubbed)], condition=count, label="profile")

    atomically(work, retry_on=lambda failed: "profile" in failed)
    return True


# --- suggestions --------------------------------------------------------------------------------


def suggestions(reader_id: str, status_ids: Iterable[str]) -> int:
    """The deleted reader's suggestions on these statuses: no name, image or message."""
    scrubbed = 0
    for status_id in sorted(status_ids):

        def update(status_id: str = status_id) -> None:
            nonlocal scrubbed
            try:
                status = Status.get(status_id, consistent_read=True)
            except Status.DoesNotExist:
                return
            for index, entry in enumerate(status.suggestion_list()):
                if entry.get("readerId") != reader_id or not ({"readerName", "readerImage", "message"} & set(entry)):
                    continue
                item = Path(Status.suggestions)[index]
                status.update(
                    actions=[item["readerName"].set(""), item["readerImage"].remove(), item["message"].remove()],
                    condition=item["id"] == entry["id"],
                )
                scrubbed += 1

        _retrying(update)
    return scrubbed


def suggested_on(reader_id: str) -> set[str]:
    """Every status the reader ever suggested a reading for (the traces written with each
    suggestion: closed, accepted and expired statuses too)."""
    return {
        trace.status_id for trace in SuggestionTrace.query(reader_id, SuggestionTrace.sk.startswith(SUGGESTED_PREFIX))
    }


def forget_suggestion_traces(reader_id: str) -> int:
    removed = 0
    with SuggestionTrace.batch_write() as batch:
        for trace in SuggestionTrace.query(reader_id, SuggestionTrace.sk.startswith(SUGGESTED_PREFIX)):
            batch.delete(trace)
            removed += 1
    return removed


# --- the moderation queue ----------------------------------------------------------------------


def moderation_items(author_id: str) -> int:
    """The queue items about the account's content (``byAuthor``) lose the quoted text: their
    excerpts and what the screen matched (a phone number...). The ids, fields, reasons and
    decisions stay: the queue's record of what was decided."""
    scrubbed = 0
    for key in ModerationItem.by_author.query(author_id):

        def update(pk: str = key.pk) -> None:
            nonlocal scrubbed
            try:
                item = ModerationItem.get(pk, "item", consistent_read=True)
            except ModerationItem.DoesNotExist:
                return
            findings = plain(item.findings) or []
            actions: list[Any] = []
            if plain(item.excerpts):
                actions.append(ModerationItem.excerpts.set({}))
            if any("match" in finding for finding in findings):
                kept = [{k: v for k, v in finding.items() if k != "match"} for finding in findings]
                actions.append(ModerationItem.findings.set(kept))
            if actions:
                item.update(actions=actions)  # conditional on the version read
                scrubbed += 1

        _retrying(update)
    return scrubbed


def moderation_reports(reporter_id: str) -> int:
    """The account's reports (``byReporter``): their notes leave the queue items that copied
    them, and the report items are deleted (the item's count and reasons stay)."""
    removed = 0
    for key in ContentReport.by_reporter.query(reporter_id):
        try:
            report = ContentReport.get(key.pk, key.sk, consistent_read=True)
        except ContentReport.DoesNotExist:
            continue

        def update(item_id: str = report.item_id) -> None:
            try:
                item = ModerationItem.get(item_key(item_id), "item", consistent_read=True)
            except ModerationItem.DoesNotExist:
                return
            reports = plain(item.reports) or []
            if not any(entry.get("reporterId") == reporter_id and "note" in entry for entry in reports):
                return
            kept = [
                {k: v for k, v in entry.items() if k != "note"} if entry.get("reporterId") == reporter_id else entry
                for entry in reports
            ]
            item.update(actions=[ModerationItem.reports.set(kept)])

        _retrying(update)
        report.delete()
        removed += 1
    return removed


# --- other users' notifications -----------------------------------------------------------------


def notifications(user_id: str, related: Related, names: Names) -> int:
    """Rewrite the rows of other users' inboxes that are about the account's things."""
    rewritten = 0
    for recipient, ids in sorted(related.by_recipient.items()):
        if recipient == user_id:
            continue  # the account's own inbox is deleted
        wanted = sorted(ids)
        for start in range(0, len(wanted), IN_OPERANDS_MAX):
            chunk = wanted[start : start + IN_OPERANDS_MAX]
            for row in Notification.query(recipient, filter_condition=Notification.related_id.is_in(*chunk)):
                title, message = names.anonymise(row.title), names.anonymise(row.message)
                if (title, message) == (row.title, row.message):
                    continue
                with contextlib.suppress(UpdateError):  # expired meanwhile
                    row.update(
                        actions=[Notification.title.set(title or ""), Notification.message.set(message or "")],
                        condition=Notification.sk.exists(),
                    )
                    rewritten += 1
    return rewritten


# --- the ledger ----------------------------------------------------------------------------------


def booking_memos(readings_as_reader: Iterable[Reading], names: Names) -> int:
    """A deleted reader's name in the memo of each booking's hold: the journal entry and the
    client's line."""
    rewritten = 0
    for reading in readings_as_reader:
        try:
            entry = LedgerEntry.get(f"hold:{reading.reading_id}", consistent_read=True)
        except LedgerEntry.DoesNotExist:
            continue
        if not entry.memo:
            continue
        memo = names.anonymise(entry.memo) or ""
        if memo == entry.memo:
            continue
        entry.update(actions=[LedgerEntry.memo.set(memo)])
        with contextlib.suppress(UpdateError):
            LedgerLine(owner=reading.client_id, sk=f"{entry.created_at}#{entry.entry_id}").update(
                actions=[LedgerLine.memo.set(memo)], condition=LedgerLine.owner.exists()
            )
        rewritten += 1
    return rewritten


def own_ledger_memos(user_id: str) -> int:
    """The account's own ledger lines lose their free text (amounts, kinds and references stay)."""
    removed = 0
    for line in LedgerLine.query(user_id, filter_condition=LedgerLine.memo.exists()):
        line.update(actions=[LedgerLine.memo.remove()])
        removed += 1
    return removed


def readings_of(user_id: str, tabs: Iterable[str]) -> tuple[list[Reading], list[Reading]]:
    """The account's readings as the client and as the reader, in every tab named."""
    as_client: dict[str, Reading] = {}
    as_reader: dict[str, Reading] = {}
    for tab in tabs:
        for reading in Reading.by_client_tab.query(f"{user_id}#{tab}"):
            if reading.client_id == user_id:
                as_client[reading.reading_id] = reading
        for reading in Reading.by_reader_tab.query(f"{user_id}#{tab}"):
            if reading.reader_id == user_id:
                as_reader[reading.reading_id] = reading
    return list(as_client.values()), list(as_reader.values())
