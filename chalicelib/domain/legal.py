"""Legal documents and what a user accepts: the types, their short names, and the rules of a
version label. Plain values, shared by the schemas and the services.

The types are the product's (``LegalDocument.type``); the short names (``terms``,
``privacy``, ``cookies``) are accepted wherever a type is (``GET /legal/terms``) and always
answered as the full type. Only the terms of service and the privacy policy are accepted
by users (``POST /me/terms-acceptance``), and only they can hold a booking back.
"""

from __future__ import annotations

import re

TERMS = "terms_of_service"
PRIVACY = "privacy_policy"
COOKIES = "cookie_policy"
GUIDELINES = "community_guidelines"

TYPES: tuple[str, ...] = (TERMS, PRIVACY, COOKIES, GUIDELINES)
ALIASES: dict[str, str] = {"terms": TERMS, "privacy": PRIVACY, "cookies": COOKIES, "guidelines": GUIDELINES}
# What a user accepts, in the order a frontend asks for it.
ACCEPTED_TYPES: tuple[str, ...] = (TERMS, PRIVACY)
NAMES: dict[str, str] = {
    TERMS: "terms of service",
    PRIVACY: "privacy policy",
    COOKIES: "cookie policy",
    GUIDELINES: "community guidelines",
}

# A version label as admins write them: "2026-12-01", "3", "2.1" (letters, digits, '.', '_', '-').
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
_VERSION = re.compile(VERSION_PATTERN)
TITLE_MAX = 200
CONTENT_MAX = 100_000  # characters of markdown: well inside DynamoDB's 400 KB item


def canonical_type(name: str) -> str | None:
    """The full type for a type or a short name; None for anything else."""
    name = name.strip().lower()
    if name in TYPES:
        return name
    return ALIASES.get(name)


def valid_version(version: str) -> bool:
    return bool(_VERSION.match(version))


def document_id(document_type: str, version: str) -> str:
    """``<type>-<version>``: a type never holds a '-', so the first one splits them."""
    return f"{document_type}-{version}"


def split_document_id(document_id_: str) -> tuple[str, str] | None:
    """(type, version) of a document id, or None when it names no possible document."""
    document_type, _, version = document_id_.partition("-")
    if document_type not in TYPES or not valid_version(version):
        return None
    return document_type, version


def public_path(document_type: str) -> str:
    """Where anyone reads the document in force."""
    return f"/legal/{document_type}"


def requires_acceptance_by_default(document_type: str) -> bool:
    """A new version of the terms or the privacy policy asks everyone to accept it again
    unless the admin says it is a minor change (a typo fix); the other types are never accepted."""
    return document_type in ACCEPTED_TYPES
