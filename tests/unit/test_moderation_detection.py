"""Contact details in public text, and the rules' conditions: what is caught and, as much, what
is not (a price or a date held from the public as a phone number is a reader who cannot
publish their profile)."""

from __future__ import annotations

import pytest

from chalicelib.domain import contact_details as contact
from chalicelib.domain import moderation as rules
from chalicelib.domain.moderation import Rule

CAUGHT = [
    # phone numbers, as people write them and as they disguise them
    ("Call me on 555 123 4567 for a private reading.", "phone"),
    ("My number: (555) 123-4567", "phone"),
    ("555.123.4567", "phone"),
    ("5551234567", "phone"),
    ("+1 (555) 123-4567", "phone"),
    ("+44 20 7946 0958", "phone"),
    ("0044 20 7946 0958", "phone"),
    ("ring 07946 095858 after six", "phone"),
    ("5 5 5 - 1 2 3 - 4 5 6 7", "phone"),
    ("5-5-5-1-2-3-4-5-6-7", "phone"),
    ("five five five one two three four five six seven", "phone"),
    ("Five Five Five 123 4567", "phone"),
    ("555 one two three 4567", "phone"),
    ("555 12O 4567", "phone"),
    ("\uff15\uff15\uff15 \uff11\uff12\uff13 \uff14\uff15\uff16\uff17", "phone"),  # full-width digits
    ("5\u200b5\u200b5\u200b1\u200b2\u200b3\u200b4\u200b5\u200b6\u200b7", "phone"),  # zero-width spaces
    ("text 555-1234", "phone"),
    ("+33 6 12 34 56 78", "phone"),
    ("612 345 678", "phone"),
    # emails
    ("Write to luna.star@gmail.com", "email"),
    ("luna at gmail dot com", "email"),
    ("luna [at] gmail [dot] com", "email"),
    ("luna(at)gmail(dot)com", "email"),
    ("luna @ gmail . com", "email"),
    ("LUNA AT YAHOO DOT CO DOT UK", "email"),
    # messaging handles
    ("WhatsApp me and we can talk more", "messaging"),
    ("telegram: moonlady", "messaging"),
    ("Telegram @moonlady", "messaging"),
    ("add me on snap", "messaging"),
    ("find me on Instagram", "messaging"),
    ("my kik is moonlady", "messaging"),
    ("signal id: moonlady", "messaging"),
    ("ig moonlady_88", "messaging"),
    ("follow @luna_reads", "messaging"),
    ("my telegram handle is moonlady", "messaging"),
    ("message me via whats app", "messaging"),
    # links
    ("See https://lunareads.example/book", "link"),
    ("www.lunareads.com", "link"),
    ("lunareads.com has my prices", "link"),
    ("visit lunareads dot com", "link"),
    ("wa.me/5551234567", "link"),
    ("t.me/moonlady", "link"),
]

NOT_CAUGHT = [
    "30 minutes for 25 credits",
    "A 60 minute reading costs 120 credits, 90 minutes 170.",
    "I have done over 10,000 readings since 2009.",
    "$1,299.99 is not what I charge.",
    "Rated 4.9 by 1,234 clients",
    "Born 12/05/1985, reading since 2003.",
    "Available 2024-05-12 from 10:30 to 18:00.",
    "On 05.12.2024 at 9:00 pm",
    "Reading tarot from 1998-2024 and counting.",
    "1 000 000 thanks to my clients",
    "Sessions of 15, 30, 45 or 60 minutes.",
    "I can do one or two readings a day, three on weekends.",
    "Bottom line: trust yourself.",
    "A signal from the universe is strong today.",
    "The line between past and future is thin.",
    "Look at the cards, dot by dot, line by line.",
    "I use tarot, runes and the I-Ching.",
    "Chapter 3, verse 16.",
    "Top 10 psychic, 5 stars, 100% honest.",
    "Room 101 at 7pm",
    "e.g. love, career, i.e. life path, etc.",
    "I met her at home. Com-passion is what I offer.",
    "I read Instagram stories about astrology, it is fun.",
    "Snap decisions are rarely wise.",
    "My email is private; ask through the platform.",
    "Mr. Smith and Dr. Jones",
    "20 years of experience, 3 children, 2 cats",
]


@pytest.mark.parametrize(("text", "kind"), CAUGHT, ids=[t for t, _ in CAUGHT])
def test_contact_details_are_caught(text, kind):
    found = contact.find(text)

    assert kind in contact.kinds(found), found


@pytest.mark.parametrize("text", NOT_CAUGHT)
def test_prices_dates_and_plain_words_are_not_contact_details(text):
    assert contact.find(text) == []


def test_an_email_is_one_email_not_a_link_and_a_handle_too():
    assert contact.kinds(contact.find("luna.star@gmail.com")) == ["email"]


def test_the_kinds_found_read_as_a_sentence():
    assert contact.describe(["phone", "email", "link"]) == "a phone number, an email address and a link"
    assert contact.describe(["messaging"]) == "a messaging handle"


# --- the rules' conditions ---------------------------------------------------------------------


def _rule(**overrides) -> Rule:
    fields = {
        "id": "r1",
        "name": "Banned words",
        "content_type": "any",
        "keywords": (),
        "length_min": None,
        "length_max": None,
        "user_roles": (),
        "action": "flag",
        "flagged_reason": "inappropriate",
        "active": True,
    }
    return Rule(**{**fields, **overrides})


def test_keywords_match_whole_words_whatever_the_case_and_accents():
    rule = _rule(keywords=("curse", "evil eye"))

    assert rules.matched_keywords(rule, "I can lift any CURSE you carry") == ["curse"]
    assert rules.matched_keywords(rule, "the Evil   Eye is real") == ["evil eye"]
    assert rules.matched_keywords(rule, "no curses here, only cursed luck") == []
    assert rules.matched_keywords(_rule(keywords=("cafe",)), "meet me at the Café") == ["cafe"]


def test_a_rule_matches_only_when_every_condition_it_has_does():
    short_from_clients = _rule(length_max=10, user_roles=("client",))

    assert rules.matches(short_from_clients, "Too short", "client")
    assert not rules.matches(short_from_clients, "Too short", "reader")
    assert not rules.matches(short_from_clients, "Long enough to pass", "client")
    assert rules.matches(_rule(length_min=5), "12345", "reader")
    assert not rules.matches(_rule(length_min=5), "1234", "reader")


def test_auto_approve_wins_over_contact_details_and_reject_over_flag():
    approve = _rule(id="a", user_roles=("admin",), action="auto_approve")
    reject = _rule(id="r", keywords=("scam",), action="auto_reject")
    flag = _rule(id="f", keywords=("scam",), action="flag")

    by_admin = rules.assess({"content": "call 555 123 4567 about the scam"}, [approve, reject, flag], "admin")
    by_client = rules.assess({"content": "call 555 123 4567 about the scam"}, [approve, reject, flag], "client")

    assert by_admin.rejections == {} and not by_admin.flagged
    assert list(by_client.rejections) == ["content"]
    assert "scam" in by_client.rejections["content"]


def test_contact_details_hold_the_text_at_high_priority():
    found = rules.assess({"bio": "Text me: 555 123 4567", "tagline": "Honest readings"}, [], "reader")

    assert found.flagged and found.held_fields == ("bio",)
    assert (found.priority, found.reason, found.status) == ("high", "spam", "pending")


def test_a_plain_flag_stays_visible_and_an_escalation_is_held():
    flag = _rule(keywords=("refund",), action="flag")
    escalate = _rule(id="e", keywords=("threat",), action="escalate", flagged_reason="harassment")

    flagged = rules.assess({"content": "I want a refund"}, [flag, escalate], "client")
    escalated = rules.assess({"content": "this is a threat"}, [flag, escalate], "client")

    assert flagged.flagged and flagged.held_fields == () and flagged.priority == "medium"
    assert escalated.held_fields == ("content",)
    assert (escalated.status, escalated.priority, escalated.reason) == ("escalated", "urgent", "harassment")


@pytest.mark.parametrize(
    ("reports", "reason", "expected"),
    [
        (1, "spam", "low"),
        (1, "harassment", "high"),
        (2, "spam", "medium"),
        (3, "other", "high"),
        (5, "spam", "urgent"),
        (1, "inappropriate", "medium"),
    ],
)
def test_more_reports_raise_the_priority(reports, reason, expected):
    assert rules.report_priority(reports, reason, current=None) == expected


def test_a_report_never_lowers_a_priority():
    assert rules.report_priority(1, "spam", current="high") == "high"


# --- linear time ---------------------------------------------------------------------------------

_RUN_PATTERNS = ["_EMAIL", "_SPACED_EMAIL", "_SPELLED_EMAIL", "_DOMAIN", "_SPELLED_DOMAIN"]


def _unbounded(node: tuple) -> bool:
    import re._constants as c

    op, arg = node
    return op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and arg[1] == c.MAXREPEAT


def _children(node: tuple) -> list:
    import re._constants as c

    op, arg = node
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return list(arg[2])
    if op == c.SUBPATTERN:
        return list(arg[3])
    if op in (c.ATOMIC_GROUP,):
        return []  # what an atomic group matched is never re-split
    if op in (c.ASSERT, c.ASSERT_NOT):
        return list(arg[1])
    if op == c.BRANCH:
        return [item for branch in arg[1] for item in branch]
    return []


def _nested_backtracking(nodes: list, inside_repeat: bool = False) -> list[str]:
    """Unbounded repeats that can give characters back (not possessive, not atomic) inside
    another unbounded repeat: the shape whose splits multiply."""
    import re._constants as c

    found = []
    for node in nodes:
        if inside_repeat and _unbounded(node) and node[0] != c.POSSESSIVE_REPEAT:
            found.append(str(node)[:80])
        found += _nested_backtracking(
            _children(node), inside_repeat or (_unbounded(node) and node[0] != c.POSSESSIVE_REPEAT)
        )
    return found


def _starts_at_a_run_start(nodes: list) -> bool:
    """The pattern opens with a lookbehind (in every branch), so a run of name or label
    characters is tried once, from its start, not from each of its characters."""
    import re._constants as c

    op, arg = nodes[0]
    if op in (c.ASSERT, c.ASSERT_NOT):
        return bool(arg[0] == -1)  # a lookbehind
    if op == c.SUBPATTERN:
        return _starts_at_a_run_start(list(arg[3]))
    if op == c.BRANCH:
        return all(_starts_at_a_run_start(list(branch)) for branch in arg[1])
    return False


@pytest.mark.parametrize("name", _RUN_PATTERNS)
def test_the_email_and_link_patterns_cannot_backtrack_quadratically(name):
    """What made ``find("a-" * 2000)`` take seconds: each character of a long run started a
    match that read the run to its end, and repeated groups re-split what they had read.
    Structural, not timed: every start is anchored by a lookbehind, and no repeat inside a
    repeat gives characters back."""
    import re._parser

    parsed = list(re._parser.parse(getattr(contact, name).pattern, re.IGNORECASE))
    assert _starts_at_a_run_start(parsed), name
    assert _nested_backtracking(parsed) == [], name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a-" * 5000, []),
        ("a." * 5000, []),
        ("1-" * 5000, []),
        ("a @ " * 2500, []),
        ("a at " * 2000, []),
        ("a dot " * 2000, []),
        ("-" * 9990 + "moon.com", ["link"]),
        ("a.com." * 1666 + "@", []),
        ("x" * 9990 + "@gmail.com", ["email"]),
    ],
)
def test_ten_thousand_characters_of_adversarial_text_are_screened(text, expected):
    assert contact.kinds(contact.find(text)) == expected
