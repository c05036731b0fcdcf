"""Contact details in public text: phone numbers, emails, messaging handles and links.

A reader who puts a phone number in a bio (or a client in a review, a status, a suggestion's
message) takes the conversation off the platform. ``find(text)`` returns every piece of
contact information it sees, each with its kind and the text that matched, in the forms
people use to slip past a filter:

* phone numbers: international (``+44 20 7946 0958``, ``0044 ...``), national
  (``(555) 123-4567``, ``555.123.4567``, ``07946 095858``), spaced or dashed digit by digit
  (``5 5 5 1 2 3 4 5 6 7``), digits spelled out (``five five five one two three ...``),
  mixed, a letter O among digits, full-width digits;
* emails: ``name@example.com`` and ``name at gmail dot com``, ``name [at] gmail [dot] com``,
  ``name(at)gmail(dot)com``;
* messaging handles: ``@handle``; WhatsApp, Telegram, Instagram, Snapchat, Kik, Signal,
  Viber, WeChat, Line, Skype, Discord, Facebook/Messenger and TikTok named with a handle or a
  "me" (``WhatsApp me``, ``telegram: moonlady``, ``add me on snap``);
* links: ``http(s)://...``, ``www....``, bare domains (``moonlady.com``) and spelled ones
  (``moonlady dot com``).

What must not count as a phone number: prices and amounts (``30 minutes for 25 credits``,
``$1,299.99``, ``10,000 readings``), dates (``2024-05-12``, ``12/05/2024``, ``12.05.2024``),
times (``10:30``), year ranges (``1998-2024``) and round numbers (``1 000 000``). Dates, times
and ranges are blanked before the digit runs are read; a run counts as a phone number with 7 to
15 digits. No I/O: tests/unit/test_moderation_detection.py lists the tricky cases both ways.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PHONE, EMAIL, MESSAGING, LINK = "phone", "email", "messaging", "link"
KINDS = (PHONE, EMAIL, MESSAGING, LINK)
# How each kind reads in a sentence ("it looks like it contains a phone number").
NOUNS = {PHONE: "a phone number", EMAIL: "an email address", MESSAGING: "a messaging handle", LINK: "a link"}

PHONE_DIGITS_MIN, PHONE_DIGITS_MAX = 7, 15  # E.164 allows 15; local numbers start at 7


@dataclass(frozen=True)
class Hit:
    kind: str
    match: str  # the text as written (after Unicode normalisation)


# --- normalisation ----------------------------------------------------------------------------

_DIGIT_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_DIGIT_WORD = re.compile(r"\b(" + "|".join(_DIGIT_WORDS) + r")\b", re.IGNORECASE)
# A letter O (or o) standing in for a zero, between digits or digit separators.
_LETTER_O = re.compile(r"(?<=[\d\s\-.])[oO](?=[\s\-.]?\d)|(?<=\d)[oO](?=[\s\-.]|$)")


def normalize(text: str) -> str:
    """Full-width and other compatibility forms to plain ones (NFKC), zero-width characters
    removed: full-width ``555`` is 555 and ``5<zero-width space>5`` is 55."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\u200b-\u200f\u2060\ufeff\u00ad]", "", folded)


# --- phone numbers ----------------------------------------------------------------------------

_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?:19|20)\d\d"
_NOT_DIGIT_BEFORE, _NOT_DIGIT_AFTER = r"(?<![\d+])", r"(?!\d)"
_NOT_NUMBERS = re.compile(
    _NOT_DIGIT_BEFORE
    + "(?:"
    + rf"{_YEAR}[-/.]{_MONTH}[-/.]{_DAY}"  # 2024-05-12, 2024/5/12
    + rf"|{_DAY}[-/.]{_MONTH}[-/.](?:{_YEAR}|\d\d)"  # 12/05/2024, 12.05.24 (day first)
    + rf"|{_MONTH}[-/.]{_DAY}[-/.](?:{_YEAR}|\d\d)"  # 05/12/2024 (month first)
    + r"|\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?"  # 10:30, 10:30:15, 9:00 pm
    + rf"|{_YEAR}\s?[-\u2013\u2014/]\s?(?:{_YEAR}|\d\d)"  # 1998-2024, 2019/20
    + r")"
    + _NOT_DIGIT_AFTER,
    re.IGNORECASE,
)
# A run of digits joined by phone separators: spaces, dashes, dots, slashes, brackets; a
# leading + or (. Commas never join (amounts: 10,000), nor letters (30 minutes for 25 credits).
_DIGIT_RUN = re.compile(r"(?<![\w+])(?:\+|\(\s*)?\d(?:[ \t\-.()/\u2013\u2014]{0,3}\d)+\)?")
_ROUND_NUMBER = re.compile(r"^\d{1,3}(?:([ .])\d{3})(?:\1\d{3})*$")  # 1 000 000, 1.000.000
_DECIMAL = re.compile(r"^\d+\.\d{1,2}$")  # 4.99, 1299.99 (a price, not a number with a dot)


def _phone_candidates(text: str) -> list[str]:
    blanked = _NOT_NUMBERS.sub(" ; ", text)
    spelled = _DIGIT_WORD.sub(lambda m: _DIGIT_WORDS[m.group(1).lower()], blanked)
    spelled = _LETTER_O.sub("0", spelled)
    found = []
    for match in _DIGIT_RUN.finditer(spelled):
        run = match.group(0).strip()
        digits = re.sub(r"\D", "", run)
        if not PHONE_DIGITS_MIN <= len(digits) <= PHONE_DIGITS_MAX:
            continue
        if (_ROUND_NUMBER.match(run) and digits.endswith("000")) or _DECIMAL.match(run):
            continue
        found.append(run)
    return found


# --- emails -------------------------------------------------------------------------------------

_TLDS = (
    "com|net|org|io|co|me|info|biz|app|dev|xyz|online|site|shop|store|live|life|email|"
    "us|uk|ca|au|nz|ie|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|br|mx|ar|in|za|ru|jp|cn|tv|ly|gg|link"
)
# Linear time on any text: a pattern that opens with a run (a name, a label) starts only where
# such a run starts (a lookbehind), and a repeated group never holds a run that can give back
# characters (possessive ``++``/``*+``, or an atomic group): no start or split is tried twice.
# tests/unit/test_moderation_detection.py checks both properties on every pattern here.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)*\.[a-z]{2,24}\b", re.IGNORECASE)
_SPELLED_AT = r"(?:\s*[\(\[\{<]\s*at\s*[\)\]\}>]\s*|\s+at\s+)"
_SPELLED_DOT = r"(?:\s*+[\(\[\{<]\s*+dot\s*+[\)\]\}>]\s*+|\s++dot\s++|\.)"
_SPACED_DOT = r"\s*+\.\s*+"
# The name of a spelled email: from the first word character of a run of name characters (the
# leading dots or dashes are matched but are not part of the hit, group ``hit``).
_NAME = r"(?<![\w.+-])[.+-]*+(?P<hit>\w[\w.+-]*+"
# "name @ gmail . com" (an @ with spaces), and "name at gmail dot com": a spelled "at" needs a
# spelled dot or a dot without spaces ("her at home. Com-passion" is a sentence).
_SPACED_EMAIL = re.compile(
    rf"{_NAME}\s*@\s*[\w-]++(?:{_SPACED_DOT}[\w-]++)*?{_SPACED_DOT}(?:{_TLDS})(?![\w-]))", re.IGNORECASE
)
_SPELLED_EMAIL = re.compile(
    rf"{_NAME}{_SPELLED_AT}[\w-]++(?:{_SPELLED_DOT}[\w-]++)*?{_SPELLED_DOT}(?:{_TLDS})(?![\w-]))", re.IGNORECASE
)

# --- links --------------------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_LABEL = r"[a-z0-9]++(?:-++[a-z0-9]++)*+"  # a domain label: letters and digits, dashes inside


def _from_label_run(not_after: str) -> str:
    """Where a domain may start, tried once per run of label characters (``[a-z0-9-]``): at
    its first letter or digit that does not follow ``not_after``; when the run follows one,
    after its first dashes ("x_moon-lady.com" names lady.com). What it skips is not in the hit."""
    return rf"(?:(?<![{not_after}-])-*+|(?<=[{not_after}])(?<![a-z0-9-])[a-z0-9]*+-++)"


# The labels and the TLD are one atomic group, so the "not before an @" check does not re-split them.
_DOMAIN = re.compile(
    _from_label_run(r"@\w.") + rf"(?P<hit>(?>(?:{_LABEL}\.)+(?:{_TLDS})\b)(?:/[^\s]*+)?(?![.\w]*+@))",
    re.IGNORECASE,
)
_SPELLED_DOMAIN = re.compile(
    _from_label_run(r"\w") + rf"(?P<hit>[a-z0-9][a-z0-9-]*+"
    rf"(?:\s*[\(\[\{{<]\s*dot\s*[\)\]\}}>]\s*|\s+dot\s+)(?:{_TLDS})\b)",
    re.IGNORECASE,
)

# --- messaging handles ------------------------------------------------------------------------

# Apps whose name means nothing else, and short or common words that name one too (which
# count only with a label, a colon and a handle, or a handle-like token: "bottom line: trust
# yourself" and "a signal from the universe" are not contact details).
_STRONG_APPS = (
    r"(?:whats\s?app|whatsap|telegram|insta(?:gram)?|snapchat|kik|viber|we\s?chat|skype|discord|"
    r"messenger|facebook|tik\s?tok)"
)
_APPS = rf"(?:{_STRONG_APPS}|wa|tg|ig|snap|signal|line|fb|threads|twitter)"
_LABEL = r"(?:\s*(?:id|name|user\s?name|handle|account|number|no\.?|#))"
_APP_COLON = re.compile(rf"\b{_STRONG_APPS}\b{_LABEL}?\s*[:=]\s*@?[\w.]{{3,}}", re.IGNORECASE)
_APP_LABELLED = re.compile(rf"\b{_APPS}\b{_LABEL}\s*(?:is|[:=]|-)\s*@?[\w.]{{3,}}", re.IGNORECASE)
_APP_HANDLELIKE = re.compile(
    rf"\b{_APPS}\b{_LABEL}?\s*[:=\-]?\s*(?=[\w.]{{3,}})(?=[\w.]*[a-z])[\w.]*[\d_][\w.]*", re.IGNORECASE
)
_MY_APP = re.compile(rf"\bmy\s+{_STRONG_APPS}\b{_LABEL}?\s*(?:is|[:=]|-)\s*@?[\w.]{{3,}}", re.IGNORECASE)
_APP_ME = re.compile(rf"\b{_STRONG_APPS}\s+(?:me|us)\b", re.IGNORECASE)
_ON_APP = re.compile(
    r"\b(?:add|find|follow|message|msg|dm|pm|text|contact|reach|call|ping|hit|write|chat\s+with|talk\s+to)\s+"
    rf"(?:me|us)(?:\s+up)?\s+(?:on|at|via|through|in|over)\s+(?:my\s+)?{_APPS}\b",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w.@])@[a-z0-9_](?:[a-z0-9_.]{1,29})\b", re.IGNORECASE)


def find(text: str) -> list[Hit]:
    """Every contact detail in ``text``, emails before the links and handles inside them."""
    rest = normalize(text)
    hits: list[Hit] = []

    def take(kind: str, pattern: re.Pattern[str]) -> None:
        nonlocal rest
        group = "hit" if "hit" in pattern.groupindex else 0  # the hit, without what led up to it
        pieces, end = [], 0
        for match in pattern.finditer(rest):
            hits.append(Hit(kind, match.group(group).strip()))
            pieces += [rest[end : match.start(group)], " ; "]  # what matched is not read again
            end = match.end(group)
        rest = "".join(pieces) + rest[end:]

    take(EMAIL, _EMAIL)
    take(EMAIL, _SPACED_EMAIL)
    take(EMAIL, _SPELLED_EMAIL)
    take(LINK, _URL)
    take(MESSAGING, _ON_APP)
    take(MESSAGING, _APP_COLON)
    take(MESSAGING, _APP_LABELLED)
    take(MESSAGING, _MY_APP)
    take(MESSAGING, _APP_HANDLELIKE)
    take(MESSAGING, _APP_ME)
    take(LINK, _DOMAIN)
    take(LINK, _SPELLED_DOMAIN)
    take(MESSAGING, _HANDLE)
    hits += [Hit(PHONE, run) for run in _phone_candidates(rest)]
    return hits


def kinds(hits: list[Hit]) -> list[str]:
    """The kinds found, in ``KINDS`` order, each once."""
    present = {hit.kind for hit in hits}
    return [kind for kind in KINDS if kind in present]


def describe(found: list[str]) -> str:
    """``["phone", "link"]`` -> "a phone number and a link"."""
    nouns = [NOUNS[kind] for kind in found]
    if len(nouns) <= 1:
        return "".join(nouns)
    return ", ".join(nouns[:-1]) + " and " + nouns[-1]
