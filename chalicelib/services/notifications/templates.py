"""Email templates: one per NotificationType, each a subject, an HTML body and a text body.

The product's ``NotificationTemplate`` (subject, body, typed ``variables`` with
``required``/``defaultValue``) made concrete. Placeholders are ``{{name}}``; every one a
template uses must be a declared variable, checked when the templates are loaded (this
module's import), so a typo fails the deploy's first import rather than a user's email.

Rendering checks each value against its declared type (string, number, date, boolean),
fills defaults, refuses a missing required one, formats numbers and dates for reading, and
HTML-escapes every value placed in the HTML part (never in the subject or text part, which
are plain text). Every email has the same layout around its body: the call to action, the
reason the user gets it, and the unsubscribe link (``unsubscribeUrl``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.notifications import NOTIFICATION_TYPES

VARIABLE_TYPES = ("string", "number", "date", "boolean")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_UNSET = object()


class TemplateError(ValueError):
    """A template that cannot load, or values that do not fit its variables."""


@dataclass(frozen=True)
class Variable:
    name: str
    type: str = "string"
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class EmailTemplate:
    type: str
    subject: str
    html: str  # the body's HTML fragment; the layout wraps it
    text: str
    variables: tuple[Variable, ...] = ()

    def variable(self, name: str) -> Variable | None:
        return next((v for v in self.variables if v.name == name), None)


@dataclass(frozen=True)
class RenderedEmail:
    type: str
    subject: str
    html: str
    text: str


# What every email gets (the worker fills them from the delivery, the user and the links).
COMMON = (
    Variable("title"),
    Variable("message"),
    Variable("recipientName", default="there", required=False),
    Variable("actionUrl"),
    Variable("actionLabel", required=False, default="Open Auralumic"),
    Variable("sentAt", type="date"),
    Variable("unsubscribeUrl"),
    Variable("preferencesUrl"),
)

LAYOUT_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}</title></head>
<body style="margin:0;padding:0;background:#f6f4fb;font-family:Helvetica,Arial,sans-serif;color:#2a2340">
<div style="max-width:560px;margin:0 auto;padding:24px">
<p style="font-size:20px;font-weight:bold;color:#5b3fb8;margin:0 0 16px">Auralumic</p>
<div style="background:#ffffff;border-radius:8px;padding:24px">
<p>Hello {{recipientName}},</p>
{{body}}
<p style="margin:24px 0"><a href="{{actionUrl}}" style="background:#5b3fb8;color:#ffffff;padding:10px 18px;
border-radius:6px;text-decoration:none">{{actionLabel}}</a></p>
</div>
<p style="font-size:12px;color:#6b6485">Sent {{sentAt}}. {{reason}}
<a href="{{preferencesUrl}}">Choose which emails you get</a> or
<a href="{{unsubscribeUrl}}">unsubscribe from these emails</a>.</p>
</div></body></html>
"""

LAYOUT_TEXT = """Hello {{recipientName}},

{{body}}

{{actionLabel}}: {{actionUrl}}

--
Sent {{sentAt}}. {{reason}}
Choose which emails you get: {{preferencesUrl}}
Unsubscribe from these emails: {{unsubscribeUrl}}
"""

# The layout's own slots, filled by the renderer rather than by the caller's values.
_LAYOUT_SLOTS = frozenset({"body", "reason"})


@dataclass(frozen=True)
class _Spec:
    """One type's wording: the subject, the body (HTML and text), the button, and the
    reason line ("You get this email because ..."), plus any variables of its own."""

    subject: str
    body_html: str
    body_text: str
    action_label: str
    topic: str  # what these emails are about, as a plural noun: "new reading requests"
    variables: tuple[Variable, ...] = ()

    @property
    def reason(self) -> str:
        return f"You get this email because email is on for {self.topic} in your notification settings."


def _simple(action_label: str, topic: str, *, lead: str = "") -> _Spec:
    """The subject is the notification's title (fan-out's headline, "New reading request"),
    the body its title and message, after the type's lead sentence if it has one."""
    intro_html = f"<p>{lead}</p>\n" if lead else ""
    intro_text = f"{lead}\n\n" if lead else ""
    return _Spec(subject="{{title}}",
                 body_html=intro_html + "<p><strong>{{title}}</strong></p>\n<p>{{message}}</p>",
                 body_text=intro_text + "{{title}}\n\n{{message}}",
                 action_label=action_label, topic=topic)


SPECS: dict[str, _Spec] = {
    "reading_request": _simple("Review the request", "new reading requests"),
    "reading_accepted": _simple("View your reading", "accepted readings"),
    "reading_declined": _simple("Find another reader", "declined reading requests",
                                lead="Any credits held for this request have been returned to you."),
    "reading_completed": _simple("View your reading", "completed readings"),
    "suggested_reading": _simple("See the suggestion", "reading suggestions for your statuses"),
    "status_response": _simple("See the status", "what happens to the statuses you answered"),
    "application_approved": _simple("Set up your profile", "updates on your reader application"),
    "application_declined": _simple("Read the details", "updates on your reader application"),
    "credits_purchased": _simple("See your balance", "credit purchases"),
    "dispute_filed": _simple("Review the dispute", "disputes"),
    "reading_reminder": _simple("View your reading", "reading reminders"),
    "reading_cancelled": _simple("View your readings", "cancelled readings"),
    "application_submitted": _simple("Review the application", "new reader applications"),
    "media_processed": _simple("View your media", "processed uploads"),
    "media_rejected": _simple("Upload another file", "rejected uploads"),
    "badge_awarded": _simple("See your badges", "badges you earn"),
    "earnings_received": _simple("See your earnings", "earnings"),
    "system_alert": _simple("Open the admin console", "system alerts"),
    "review_received": _simple("Read the review", "reviews of your readings"),
    "dispute_resolved": _simple("View the reading", "dispute outcomes"),
    "status_posted": _simple("Suggest a reading", "new client statuses matching your specialties"),
    "quality_warning": _simple("See your quality page", "quality warnings about your readings"),
    "content_moderated": _simple("See it", "moderators' decisions about what you wrote"),
    "payout_sent": _simple("See your payouts", "payouts sent to your bank"),
    "payout_failed": _simple("See your payouts", "payouts that could not be completed",
                             lead="The credits of this payout are back in your earnings available for payout."),
    "payouts_held": _simple("See your earnings", "holds on your payouts",
                            lead="Your earnings stay in your account while your payouts are on hold."),
    "payouts_released": _simple("See your earnings", "holds on your payouts"),
    "data_export_ready": _simple("Download your data", "your data exports",
                                 lead="For your security the file is not attached: sign in and download it "
                                      "from the page below before it expires."),
}


def _check_value(variable: Variable, value: Any) -> None:
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, datetime) or (isinstance(value, str) and _parse_date(value) is not None),
    }[variable.type]
    if not ok:
        raise TemplateError(f"Variable {variable.name} must be a {variable.type}, got {value!r}.")


def _parse_date(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _format(variable: Variable, value: Any) -> str:
    if variable.type == "boolean":
        return "yes" if value else "no"
    if variable.type == "number":
        if isinstance(value, int) or float(value).is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}"
    if variable.type == "date":
        moment = value if isinstance(value, datetime) else _parse_date(value)
        assert moment is not None  # checked by _check_value
        moment = moment.astimezone(UTC)
        return f"{moment:%A}, {moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"
    return str(value)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def load(definitions: Mapping[str, _Spec] | Iterable[EmailTemplate]) -> dict[str, EmailTemplate]:
    """Build and check the templates: every placeholder declared, every variable typed, every
    default of its type, and (for the full set) one template per notification type."""
    if isinstance(definitions, Mapping):
        built = [_build(type_, spec) for type_, spec in definitions.items()]
    else:
        built = list(definitions)
    templates: dict[str, EmailTemplate] = {}
    for template in built:
        if template.type in templates:
            raise TemplateError(f"Notification type {template.type} has two email templates.")
        names = [v.name for v in template.variables]
        if len(names) != len(set(names)):
            raise TemplateError(f"Template {template.type} declares a variable twice.")
        for variable in template.variables:
            if variable.type not in VARIABLE_TYPES:
                raise TemplateError(f"Template {template.type}: variable {variable.name} has the unknown type "
                                    f"{variable.type!r} (one of {', '.join(VARIABLE_TYPES)}).")
            if variable.default is not None:
                _check_value(variable, variable.default)
        for part, text in (("subject", template.subject), ("html", template.html), ("text", template.text)):
            undeclared = sorted(placeholders(text) - set(names) - (_LAYOUT_SLOTS if part != "subject" else set()))
            if undeclared:
                raise TemplateError(f"Template {template.type} ({part}) uses undeclared variables: "
                                    f"{', '.join(undeclared)}.")
        templates[template.type] = template
    return templates


def _build(type_: str, spec: _Spec) -> EmailTemplate:
    if type_ not in NOTIFICATION_TYPES:
        raise TemplateError(f"Template for the unknown notification type {type_!r}.")
    common = tuple(Variable(v.name, v.type, False, spec.action_label) if v.name == "actionLabel" else v
                   for v in COMMON)
    html_text = LAYOUT_HTML.replace("{{body}}", spec.body_html).replace("{{reason}}", html.escape(spec.reason))
    text = LAYOUT_TEXT.replace("{{body}}", spec.body_text).replace("{{reason}}", spec.reason)
    return EmailTemplate(type=type_, subject=spec.subject, html=html_text, text=text,
                         variables=common + spec.variables)


def render(template: EmailTemplate, values: Mapping[str, Any]) -> RenderedEmail:
    """Fill the template; values it does not declare are ignored, a missing required one or a
    value of the wrong type is a TemplateError."""
    formatted: dict[str, str] = {}
    for variable in template.variables:
        value = values.get(variable.name, _UNSET)
        if value is _UNSET or value is None:
            if variable.required:
                raise TemplateError(f"Template {template.type} needs the variable {variable.name}.")
            value = variable.default
        if value is None:
            formatted[variable.name] = ""
            continue
        _check_value(variable, value)
        formatted[variable.name] = _format(variable, value)

    def fill(text: str, escape: bool) -> str:
        return PLACEHOLDER.sub(lambda m: html.escape(formatted[m.group(1)]) if escape else formatted[m.group(1)],
                               text)

    subject = " ".join(fill(template.subject, escape=False).split())  # one line: no header injection
    return RenderedEmail(type=template.type, subject=subject, html=fill(template.html, escape=True),
                         text=fill(template.text, escape=False))


def topic(type_: str) -> str:
    """What one type's emails are about ("new reading requests"), for the unsubscribe page."""
    spec = SPECS.get(type_)
    return spec.topic if spec is not None else type_.replace("_", " ")


def missing_types(templates: Mapping[str, EmailTemplate]) -> list[str]:
    return [t for t in NOTIFICATION_TYPES if t not in templates]


TEMPLATES = load(SPECS)
if missing_types(TEMPLATES):  # a new NotificationType needs its email before anything imports this
    raise TemplateError(f"No email template for: {', '.join(missing_types(TEMPLATES))}.")
