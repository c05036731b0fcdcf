"""Email templates: one per notification type, typed variables checked at load and at render,
values HTML-escaped in the HTML part only, the unsubscribe link in every email."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.notifications import NOTIFICATION_TYPES
from chalicelib.services.notifications import rules, templates
from chalicelib.services.notifications.templates import EmailTemplate, TemplateError, Variable

VALUES = {"title": "Your <b>Tarot</b> reading & more", "message": 'Luna said "soon" <script>x()</script>',
          "actionUrl": "https://app.example/readings/r1?a=1&b=2", "sentAt": "2026-03-03T14:05:00Z",
          "unsubscribeUrl": "https://api.example/notifications/unsubscribe?token=abc",
          "preferencesUrl": "https://app.example/settings/notifications"}


def test_every_notification_type_has_a_template_with_an_unsubscribe_link():
    assert set(templates.TEMPLATES) == set(NOTIFICATION_TYPES)
    for type_, template in templates.TEMPLATES.items():
        rendered = templates.render(template, VALUES)
        assert VALUES["unsubscribeUrl"].replace("&", "&amp;") in rendered.html, type_
        assert VALUES["unsubscribeUrl"] in rendered.text, type_
        assert rendered.subject and "\n" not in rendered.subject


def test_values_are_escaped_in_the_html_part_and_plain_in_the_text_and_subject():
    rendered = templates.render(templates.TEMPLATES["reading_accepted"], VALUES)

    assert "<script>" not in rendered.html and "&lt;script&gt;x()&lt;/script&gt;" in rendered.html
    assert "Luna said &quot;soon&quot;" in rendered.html
    assert 'href="https://app.example/readings/r1?a=1&amp;b=2"' in rendered.html
    assert 'Luna said "soon" <script>x()</script>' in rendered.text
    assert rendered.subject == "Your <b>Tarot</b> reading & more"
    assert "Sent Tuesday, 3 March 2026 at 14:05 UTC." in rendered.text


def _typed() -> EmailTemplate:
    return templates.load([EmailTemplate(
        type="credits_purchased", subject="{{credits}} credits", html="<p>{{credits}} {{at}} {{gift}} {{note}}</p>",
        text="{{credits}} {{at}} {{gift}} {{note}}",
        variables=(Variable("credits", "number"), Variable("at", "date"), Variable("gift", "boolean", False, False),
                   Variable("note", "string", False, "none")))])["credits_purchased"]


def test_typed_variables_are_formatted_and_defaults_fill_the_optional_ones():
    rendered = templates.render(_typed(), {"credits": 1200, "at": datetime(2026, 1, 2, 9, 30, tzinfo=UTC)})
    assert rendered.text == "1,200 Friday, 2 January 2026 at 09:30 UTC no none"
    assert templates.render(_typed(), {"credits": 2.5, "at": "2026-01-02T09:30:00Z", "gift": True}).text \
        == "2.50 Friday, 2 January 2026 at 09:30 UTC yes none"


@pytest.mark.parametrize("values,problem", [
    ({"at": "2026-01-02T09:30:00Z"}, "needs the variable credits"),
    ({"credits": "12", "at": "2026-01-02T09:30:00Z"}, "credits must be a number"),
    ({"credits": True, "at": "2026-01-02T09:30:00Z"}, "credits must be a number"),
    ({"credits": 1, "at": "next tuesday"}, "at must be a date"),
    ({"credits": 1, "at": "2026-01-02T09:30:00Z", "gift": "yes"}, "gift must be a boolean"),
])
def test_values_that_do_not_fit_their_declared_type_are_refused(values, problem):
    with pytest.raises(TemplateError, match=problem):
        templates.render(_typed(), values)


def test_a_template_that_uses_an_undeclared_variable_fails_to_load():
    with pytest.raises(TemplateError, match="undeclared variables: amount"):
        templates.load([EmailTemplate(type="credits_purchased", subject="{{amount}} credits", html="<p>hi</p>",
                                      text="hi", variables=(Variable("credits", "number"),))])


@pytest.mark.parametrize("variable,problem", [
    (Variable("credits", "money"), "unknown type 'money'"),
    (Variable("credits", "number", False, "ten"), "credits must be a number"),
])
def test_a_badly_declared_variable_fails_to_load(variable, problem):
    with pytest.raises(TemplateError, match=problem):
        templates.load([EmailTemplate(type="credits_purchased", subject="{{credits}}", html="", text="",
                                      variables=(variable,))])


class _Names:
    def client(self, user_id):
        return "Maria" if user_id else None

    def reader(self, reader_id):
        return "Luna Starling" if reader_id else None


_EVENT_DATA = {"readingId": "r1", "clientId": "u_client", "readerId": "u_reader", "userId": "u_client",
               "user_id": "u_client", "application_id": "u_client", "type": "phone_call", "credits": 40, "paid": 32,
               "refunded": 40, "outcome": "full_refund", "rating": 5, "minutesBefore": 15, "purpose": "profile_image",
               "uploadId": "up1", "sessionId": "cs_1", "invoiceId": "in_1", "badgeName": "Rising Star",
               "by": "reader", "submission": 1, "statusId": "sts_1", "category": "love", "title": "A spread",
               "readerIds": ["u_reader2"], "reason": "expired"}


@pytest.mark.parametrize("event_type", sorted(rules.RULES))
def test_the_subject_is_the_notification_title_once_not_a_label_added_to_it(event_type):
    """Fan-out's title is the email's whole subject ("Reading accepted"), never doubled with a
    type label ("Your reading was accepted: Reading accepted")."""
    event = rules.Event("evt_1", event_type, "2026-03-03T14:05:00Z", dict(_EVENT_DATA))
    notes = [target.note for target in rules.targets(event, _Names())]
    assert notes
    for note in notes:
        rendered = templates.render(templates.TEMPLATES[note.type], {**VALUES, "title": note.title,
                                                                     "message": note.message})
        assert rendered.subject == note.title
        assert rendered.subject[0].isupper() and ":" not in rendered.subject and not rendered.subject.endswith(".")
        assert rendered.text.count(note.title) == 1  # once in the body, under the greeting
