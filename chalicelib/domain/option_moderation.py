"""Moderation of a reader's reading options' public text (each option's ``name`` and
``description``), as plain values: the same rules as the profile's text fields
(``services/readers.text_actions``), kept on each option's map in the profile's
``readingOptions`` list, since options are replaced as a whole list.

Per text (``name``, ``description``), an option map may carry:

* ``<text>Moderation``: ``held:<itemId>`` or ``hidden:<itemId>`` (``domain.moderation.marked``);
* ``pending<Text>``: an edit moderation holds, while the option's own ``<text>`` keeps the last
  approved text public (the mark then describes the pending text). Approving moves it into
  ``<text>``; a reject leaves it pending and hidden.

A text with a mark and no pending text was never approved: the public does not see it (a
``description`` shows empty; an option whose ``name`` is not public is left out of the card and
cannot be booked). The reader's own views show the newest text of each (the pending one, if
any) with its state.

A screened field is named ``readingOptions.<optionId>.<text>`` on the queue item (an option
keeps its id across edits; its index does not). An edit screens only the texts that differ from
the option's newest text: the same text sent again keeps what it had (held, hidden or public).
No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.domain.moderation import HELD, marked, state_document, state_of

TEXTS = ("name", "description")
MARK = {"name": "nameModeration", "description": "descriptionModeration"}
PENDING = {"name": "pendingName", "description": "pendingDescription"}
INTERNAL = frozenset((*MARK.values(), *PENDING.values()))
PREFIX = "readingOptions."


def field_name(option_id: str, text: str) -> str:
    return f"{PREFIX}{option_id}.{text}"


def parse_field(name: str) -> tuple[str, str] | None:
    """(option id, text) of a queue item's field naming an option's text; None for any other field."""
    if not name.startswith(PREFIX):
        return None
    option_id, _, text = name[len(PREFIX) :].rpartition(".")
    return (option_id, text) if option_id and text in TEXTS else None


def request_paths(options: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """{field name: where the text sits in the request} (``readingOptions.<index>.<text>``), for
    the error a refused text gets."""
    return {
        field_name(str(option["id"]), text): f"readingOptions.{index}.{text}"
        for index, option in enumerate(options)
        for text in TEXTS
    }


def newest(option: Mapping[str, Any], text: str) -> str:
    """The option's newest ``text``: the pending one, else its own."""
    pending = option.get(PENDING[text])
    return str(pending if pending is not None else option.get(text) or "")


def masked(option: Mapping[str, Any], text: str) -> bool:
    """The option's own ``text`` is held or hidden (nobody approved it): not public."""
    return state_of(option.get(MARK[text])) is not None and option.get(PENDING[text]) is None


def _bare(option: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in option.items() if key not in INTERNAL}


def public_option(option: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the public sees of an option; None when its name is not public."""
    if masked(option, "name"):
        return None
    shown = _bare(option)
    if masked(option, "description"):
        shown["description"] = ""
    return shown


def own_option(option: Mapping[str, Any]) -> dict[str, Any]:
    """The reader's own view: the newest texts, with ``moderation`` ({text: {state, message}})
    for each one moderation holds or hides."""
    shown = {**_bare(option), **{text: newest(option, text) for text in TEXTS}}
    states = {text: state_document(option.get(MARK[text])) for text in TEXTS}
    moderation = {text: state for text, state in states.items() if state is not None}
    if moderation:
        shown["moderation"] = moderation
    return shown


def bookable(option: Mapping[str, Any]) -> bool:
    return not masked(option, "name")


def changed_texts(options: Iterable[Mapping[str, Any]], before: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """{field name: text} of the new ``options`` whose text differs from the newest text of the
    option with the same id in ``before`` ({id: stored option}); every text of a new option."""
    found = {}
    for option in options:
        old = before.get(str(option["id"]))
        for text in TEXTS:
            value = str(option.get(text) or "")
            if old is None or value != newest(old, text):
                found[field_name(str(option["id"]), text)] = value
    return found


def merged(
    options: Iterable[Mapping[str, Any]],
    before: Mapping[str, Mapping[str, Any]],
    *,
    screened: Iterable[str],
    held: Iterable[str],
    item_id: str | None,
    keep_approved: bool = True,
) -> list[dict[str, Any]]:
    """The options to store: ``options`` (the new list, ids given) with each text's moderation
    worked out. A text not ``screened`` (unchanged) keeps what the old option had; a cleared
    one is public at once; a ``held`` one is marked ``held:<item_id>`` and, when
    ``keep_approved`` and the old option had an approved text, waits as the pending text while
    the approved one stays public."""
    screened, held = set(screened), set(held)
    stored = []
    for option in options:
        document = _bare(option)
        old = before.get(str(option["id"]))
        for text in TEXTS:
            name = field_name(str(option["id"]), text)
            value = str(option.get(text) or "")
            if name not in screened:
                if old is not None:
                    document[text] = old.get(text, value)
                    document.update({key: old[key] for key in (MARK[text], PENDING[text]) if key in old})
                continue
            if name not in held or item_id is None:
                document[text] = value
                continue
            document[MARK[text]] = marked(HELD, item_id)
            approved = old is not None and not masked(old, text) and old.get(text) is not None
            if keep_approved and approved and old is not None:
                document[text] = old.get(text)
                document[PENDING[text]] = value
            else:
                document[text] = value
        stored.append(document)
    return stored
