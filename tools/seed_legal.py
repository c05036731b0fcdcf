"""The demo's legal documents (terms of service, privacy policy, cookie policy, community
guidelines), published by the demo admin, and the demo users' acceptance of the terms and the
privacy policy, so the demo clients can book from the first minute.

Idempotent: a type that already has a version in force is left as it is, and a user who
has nothing pending accepts nothing. Import only after the environment is configured (see
tools/seed.py)."""

from __future__ import annotations

from datetime import date, datetime

VERSION = "2025-11-01"
EFFECTIVE = date(2025, 11, 1)

DOCUMENTS: dict[str, tuple[str, str]] = {
    "terms_of_service": (
        "Terms of Service",
        """# Terms of Service

Welcome to Auralumic. By creating an account or booking a reading you agree to these terms.

## Who may use Auralumic
You must be 18 or older. You are responsible for your account and for keeping your sign-in secure.

## Readings
Readings are offered by independent readers for guidance and entertainment. They are not medical,
legal, financial or psychological advice. A reader may decline a request; a declined or expired
request releases the credits held for it.

## Credits and refunds
Credits are bought in packages or with a subscription and are spent on readings. Credits held for a
reading that does not take place are returned to you. You may dispute a completed reading within 7
days; an admin reviews every dispute.

## Conduct
Be respectful. No harassment, no requests for personal contact details outside the platform, no
content that breaks the community guidelines. We may suspend accounts that do.

## Changes
When these terms change materially we will ask you to accept the new version before your next
booking.
""",
    ),
    "privacy_policy": (
        "Privacy Policy",
        """# Privacy Policy

This policy explains what Auralumic collects and why.

## What we collect
Your account details (name, email), your preferences, the readings you book or give, your messages
and reviews, payments (handled by Stripe: we never see your card), and technical logs.

## What we do not keep
Your date of birth: we check that you are 18 or older and keep only that fact and its date.

## Why
To run the service, to keep it safe, to pay readers, and, only with your consent, to send marketing
emails, to measure product usage beyond what the service needs, and to share data with partners.
You can change each consent at any time in your settings.

## Your rights
You may export your data or delete your account at any time. Some records (payments, the books of
credits) are kept as long as the law requires.
""",
    ),
    "cookie_policy": (
        "Cookie Policy",
        """# Cookie Policy

Auralumic uses only the cookies it needs to keep you signed in and to remember your settings.
Analytics cookies are set only if you consent to analytics. No advertising cookies are used.
""",
    ),
    "community_guidelines": (
        "Community Guidelines",
        """# Community Guidelines

- Be kind and respectful to readers and clients alike.
- Keep conversations on the platform: do not ask for or share personal contact details.
- No hate, harassment, threats or sexual content.
- Readers: be honest about your practice and never promise certainties about health, money or law.
- Report anything that breaks these guidelines; our moderators review every report.
""",
    ),
}


def seed_legal_documents(admin_id: str, now: datetime) -> int:
    """Publish each document that has no version in force; returns how many were published."""
    from chalicelib.services import legal, legal_admin

    published = 0
    for document_type, (title, content) in DOCUMENTS.items():
        if legal.active(document_type) is not None:
            continue
        legal_admin.create(
            document_type,
            VERSION,
            title=title,
            content=content,
            effective_date=EFFECTIVE,
            requires_reacceptance=None,
            change_summary=None,
            publish=True,
            actor_id=admin_id,
            now=now,
        )
        published += 1
    return published


def accept_legal_documents(user_id: str, now: datetime) -> None:
    """Accept whatever the user has pending (the terms and the privacy policy in force)."""
    from chalicelib.models.users import User
    from chalicelib.services import compliance

    for document in compliance.pending_for(User.get(user_id, consistent_read=True)):
        compliance.accept(user_id, document.type, document.version, ip_address=None, now=now)
