"""Examples for the response schemas of /openapi.json, in the demo data's terms.

The main objects have hand-written examples (below, composed from one another: the
reading's price is the quote's price); ``complete_examples`` gives every other component
an example built from its properties (a field's own example or default, then a value
fitting its name), fills the required properties a hand-written example leaves out, and
composes page wrappers from their items' examples. Swagger UI (/docs) shows a schema's
``examples[0]`` as its example value.
"""

from __future__ import annotations

import copy
from typing import Any

_AT = "2026-11-28T17:30:00Z"
_READER = "user_demo_reader1"
_CLIENT = "user_demo_client1"
_READING = "01JDQ8V6M4Z2X7N3K5R9T1W0AB"
_COMMENT = "Luna was direct and kind; the cards made sense of a hard month."
_UPLOAD_KEY = "media/user_demo_reader1/profile_image/01JDQ8V6M4Z2X7N3K5R9T1W0AF.jpg"
_ADMIN = "user_demo_admin"
_LEGAL_VERSION = "2025-11-01"
_STATUS = "I keep meeting the same kind of partner and it never lasts. What am I missing?"

PRICE = {"rate": 2.8667, "minutes": 30, "multiplier": 0.95, "total": 82}
OPTION = {"id": "opt_reader1_phone_call_30", "type": "phone_call", "name": "30-minute phone reading",
          "duration": 30, "price": 86}
# Luna Marquez (reader1) asks 86 credits for 30 minutes; the catalog's time spans give these totals.
LISTED = [{"timeSpanId": f"{minutes}-min", "duration": minutes, "label": f"{minutes} minutes",
           "multiplier": multiplier, "total": total}
          for minutes, multiplier, total in ((10, 1.0, 29), (15, 1.0, 43), (30, 0.95, 82), (45, 0.92, 119),
                                             (60, 0.9, 155))]
# On the reader's own views ``price`` is what the reader set; on the public card, the listed total.
OWN_OPTION = {**OPTION, "description": "A 30-minute live call. Bring a question, or let the reading find one.",
              "isActive": True, "basePrice": 86, "prices": LISTED}
READING_OPTION = {**OWN_OPTION, "price": 82, "priceDuration": 30}
WEEK = {"mon": [{"start": "09:00", "end": "17:00"}], "tue": [{"start": "09:00", "end": "17:00"}],
        "wed": [{"start": "09:00", "end": "17:00"}], "thu": [{"start": "09:00", "end": "17:00"}],
        "fri": [{"start": "09:00", "end": "17:00"}], "sat": [], "sun": []}
AVAILABILITY = {"timezone": "America/Chicago", "instantBooking": True, "schedule": WEEK}
ATTRIBUTES = {"tools": ["tarot", "oracle-cards"], "abilities": ["clairvoyant", "empath"],
              "style": "straightforward"}
ATTRIBUTE_NAMES = {"tarot": "Tarot", "oracle-cards": "Oracle Cards", "clairvoyant": "Clairvoyant",
                   "empath": "Empath", "straightforward": "Straightforward"}
REVIEW_SUMMARY = {"id": "01JDR2C8Q5T7V9X1Z3B5D7F9HK", "rating": 5, "clientName": "Clara",
                  "comment": _COMMENT,
                  "createdAt": "2026-11-20T19:04:00Z"}
READER_PARTY = {"id": _READER, "displayName": "Luna Marquez",
                "avatarUrl": "https://media.auralumic.example/readers/user_demo_reader1/profile-256.webp"}
CLIENT_PARTY = {"id": _CLIENT, "displayName": "Clara Nguyen"}
READER_PROFILE_COMMON = {
    "id": _READER, "userId": _READER, "displayName": "Luna Marquez", "tagline": "Tarot that tells it straight",
    "location": "Austin, TX",
    "bio": "Luna Marquez reads from Austin, TX. Tarot that tells it straight. Works with tarot, oracle-cards; "
           "gifts: clairvoyant, empath; a straightforward reader.",
    "profileImage": READER_PARTY["avatarUrl"], "attributes": ATTRIBUTES, "attributeNames": ATTRIBUTE_NAMES,
    "readingOptions": [OWN_OPTION], "availability": AVAILABILITY, "isOnline": True,
    "lastActive": _AT, "isApproved": True, "ratingAverage": 4.8, "ratingCount": 5, "totalReadings": 7,
    "badges": [], "reviews": [REVIEW_SUMMARY], "createdAt": "2026-10-02T15:00:00Z",
    "createdDate": "2026-10-02T15:00:00Z",
}
BALANCE = {"available": 38, "held": 82, "earnings": 0, "payable": 0, "owed": 0, "restricted": False}
LEDGER_LINE = {"entryId": "01JDQ8V6M4Z2X7N3K5R9T1W0AC", "kind": "hold", "createdAt": _AT,
               "changes": {"available": -82, "held": 82}, "reference": _READING,
               "description": "Credits held for a 30-minute phone reading."}
PAGE_INFO = {"page": 2, "limit": 20, "nextCursor": "eyJrIjp7fSwicCI6M30.c2ln", "hasNext": True, "hasPrev": True,
             "totalPages": None}
PAGE_META = {"cached": False, "generatedAt": "2026-12-01T09:30:00.000Z"}

EXAMPLES: dict[str, dict[str, Any]] = {
    "PriceOut": PRICE,
    "OptionOut": OPTION,
    "ListedPriceOut": LISTED[2],
    "ReadingOptionOut": READING_OPTION,
    "WeeklyScheduleOut": WEEK,
    "AvailabilityOut": AVAILABILITY,
    "AttributesOut": ATTRIBUTES,
    "ReviewSummary": REVIEW_SUMMARY,
    "PartyOut": READER_PARTY,
    "PageInfo": PAGE_INFO,
    "PageMeta": PAGE_META,
    "QuoteOut": {"readerId": _READER, "option": OPTION, "schedule": "scheduled",
                 "scheduledStart": "2026-12-03T16:00:00Z", "scheduledEnd": "2026-12-03T16:30:00Z",
                 "price": PRICE, "available": True},
    "ReadingOut": {
        "id": _READING, "clientId": _CLIENT, "readerId": _READER, "client": CLIENT_PARTY, "reader": READER_PARTY,
        "status": "accepted", "topicId": "career-work", "topic": "Career & Work",
        "question": "Should I take the job offer in Denver?", "readingOption": OPTION, "duration": 30,
        "pricing": PRICE, "creditsCost": 82, "schedule": "scheduled",
        "scheduledStart": "2026-12-03T16:00:00Z", "scheduledEnd": "2026-12-03T16:30:00Z",
        "scheduledDate": "2026-12-03T16:00:00Z", "createdAt": _AT, "createdDate": _AT,
        "updatedAt": "2026-11-28T18:02:00Z", "acceptedAt": "2026-11-28T18:02:00Z", "refundedCredits": 0,
        "allowedActions": ["cancel", "message"],
    },
    "ReviewOut": {"id": "01JDR2C8Q5T7V9X1Z3B5D7F9HK", "rating": 5, "clientName": "Clara",
                  "comment": _COMMENT, "createdAt": "2026-11-20T19:04:00Z",
                  "createdDate": "2026-11-20T19:04:00Z", "readingId": _READING, "clientId": _CLIENT,
                  "readerId": _READER, "isDisputed": False},
    "DisputeOut": {"reason": "The call dropped after ten minutes and the reader did not call back.",
                   "openedAt": _AT, "status": "resolved", "outcome": "partial_refund", "refunded": 41,
                   "note": "Half the credits returned: the first half of the reading took place.",
                   "resolvedAt": "2026-11-29T10:15:00Z"},
    "ReaderCard": {**READER_PROFILE_COMMON, "readingOptions": [READING_OPTION],
                   "stats": {"totalReadings": 7, "averageRating": 4.8, "completionRate": 87.5}},
    "ReaderProfileOut": {**READER_PROFILE_COMMON, "status": "approved", "updatedAt": _AT, "lastSeenAt": _AT,
                         "stats": {"totalReadings": 7, "averageRating": 4.8, "completionRate": 87.5,
                                   "totalEarnings": 412}},
    "BalanceOut": BALANCE,
    "LedgerLineOut": LEDGER_LINE,
    "Credits": {"available": 38, "held": 82, "earnings": 0, "payable": 0, "owed": 0},
    "CreditsOut": {"balance": BALANCE, "data": [LEDGER_LINE], "pagination": PAGE_INFO, "meta": PAGE_META},
    "MeOut": {"id": _CLIENT, "email": "client1@demo.auralumic.example", "displayName": "Clara Nguyen",
              "role": "client", "status": "active", "credits": 38,
              "balance": {"available": 38, "held": 82, "earnings": 0, "payable": 0, "owed": 0},
              "flags": {"ageVerified": True, "suspended": False, "paymentRestricted": False, "isReader": False,
                        "isAdmin": False},
              "createdAt": "2026-10-01T12:00:00Z", "createdDate": "2026-10-01T12:00:00Z", "lastLoginAt": _AT,
              "lastLogin": _AT},
    "Topic": {"id": "career-work", "name": "Career & Work", "isGeneral": False},
    "TimeSpan": {"id": "30-min", "duration": 30, "label": "30 minutes", "multiplier": 0.95},
    "ReadingType": {"id": "phone_call", "name": "Phone call", "description": "A live voice call with your reader.",
                    "live": True},
    "CreditPackage": {"id": "seeker", "name": "Seeker", "credits": 60, "price": 1799, "currency": "usd",
                      "discount": 10, "isPopular": True, "stripePriceId": "price_seeker"},
    "SubscriptionPlan": {"id": "monthly-60", "name": "Monthly Seeker",
                         "description": "60 credits every month; unused credits roll over up to 60.", "price": 1599,
                         "currency": "usd", "creditsIncluded": 60, "rolloverCap": 60,
                         "features": ["60 credits a month", "Roll over up to 60 credits"],
                         "stripePriceId": "price_monthly-60", "isActive": True, "trialDays": 0},
    "Badge": {"id": "tarot-silver", "name": "Tarot Silver", "attribute": "tarot", "tier": "Silver",
              "requirements": {"readingsCompleted": 50, "averageRating": 4.5}, "icon": "badge-silver",
              "description": "50 completed Tarot readings rated 4.5+"},
    "Category": {"id": "career", "name": "Career"},
    "ErrorDetail": {"code": "not_found", "message": "The reading was not found.", "details": {}},
    "Attribute": {"id": "tarot", "name": "Tarot", "kind": "tools"},
    "AttributesByKind": {"abilities": [{"id": "empath", "name": "Empath", "kind": "abilities"}],
                         "tools": [{"id": "tarot", "name": "Tarot", "kind": "tools"}],
                         "styles": [{"id": "straightforward", "name": "Straightforward", "kind": "styles"}]},
    "AdminAttribute": {"id": "tarot", "name": "Tarot", "kind": "tools", "active": True, "version": 1,
                       "updatedAt": "2026-10-01T12:00:00Z", "position": 8},
    "AdminCategory": {"id": "career", "name": "Career", "active": True, "version": 1,
                      "updatedAt": "2026-10-01T12:00:00Z", "position": 1},
    "AdminTimeSpan": {"id": "30-min", "duration": 30, "label": "30 minutes", "multiplier": 0.95, "active": True,
                      "version": 1, "updatedAt": "2026-10-01T12:00:00Z"},
    "CardStats": {"totalReadings": 7, "averageRating": 4.8, "completionRate": 87.5},
    "OwnStats": {"totalReadings": 7, "averageRating": 4.8, "completionRate": 87.5, "totalEarnings": 412},
    "DeliveryOut": {"type": "live_video", "provider": "chime", "meetingId": "4e3c1b0a-8f57-4a3e-9d4f-0c1b2a3d4e5f",
                    "mediaRegion": "us-east-1", "createdAt": "2026-12-03T15:52:00Z"},
    "DependencyCheck": {"status": "ok", "latencyMs": 12.5},
    "HealthReportOut": {"status": "ok", "stage": "local",
                        "checks": {"table:auralumic-local-main": {"status": "ok", "latencyMs": 12.5}}},
    "CheckoutOut": {"sessionId": "cs_local_01JDQ8V6M4Z2X7N3K5R9T1W0AD",
                    "checkoutUrl": "http://localhost:8000/local/checkout/cs_local_01JDQ8V6M4Z2X7N3K5R9T1W0AD",
                    "amount": 1799, "currency": "usd", "packageId": "seeker", "credits": 60},
    "OnboardingStep": {"id": "age_verification", "completed": True, "automatic": True},
    "OnboardingOut": {"userId": _CLIENT, "completedSteps": ["welcome", "age_verification"],
                      "currentStep": "preferences", "skipTutorial": False, "welcomeMessageShown": True,
                      "profileCompletionPercentage": 40, "isComplete": False,
                      "steps": [{"id": "welcome", "completed": True, "automatic": False},
                                {"id": "preferences", "completed": False, "automatic": False},
                                {"id": "age_verification", "completed": True, "automatic": True}],
                      "profileChecklist": [], "updatedAt": _AT},
    "ApplicationOut": {**{k: v for k, v in READER_PROFILE_COMMON.items() if k in {
                           "userId", "displayName", "tagline", "bio", "location", "attributes", "attributeNames",
                           "readingOptions", "availability", "createdAt"}},
                       "id": _READER, "status": "approved", "updatedAt": "2026-10-02T15:00:00Z",
                       "experience": "expert", "step": 5, "submittedAt": "2026-09-30T15:00:00Z",
                       "decidedAt": "2026-10-02T15:00:00Z", "submissionCount": 1, "missingForSubmit": []},
    "SubscriptionOut": {"subscriptionId": "sub_local_01JDQ8V6M4Z2X7N3K5R9T1W0AE", "planId": "monthly-60",
                        "status": "active", "cancelAtPeriodEnd": False, "currentPeriodStart": "2026-11-15T00:00:00Z",
                        "currentPeriodEnd": "2026-12-15T00:00:00Z", "creditsGranted": 60, "rolloverCredits": 12,
                        "version": 3, "credits": {"included": 60, "used": 48, "rollover": 0},
                        "id": "sub_local_01JDQ8V6M4Z2X7N3K5R9T1W0AE", "userId": _CLIENT,
                        "stripeSubscriptionId": "sub_local_01JDQ8V6M4Z2X7N3K5R9T1W0AE",
                        "createdAt": "2026-11-15T00:00:00Z"},
    "UploadOut": {"uploadId": "01JDQ8V6M4Z2X7N3K5R9T1W0AF", "key": _UPLOAD_KEY,
                  "url": "https://auralumic-local-media.s3.amazonaws.com/",
                  "fields": {"key": _UPLOAD_KEY,
                             "Content-Type": "image/jpeg"},
                  "expiresAt": "2026-11-28T17:45:00Z", "maxBytes": 10_485_760},
}
for _admin, _public in (("AdminCreditPackage", "CreditPackage"), ("AdminPlan", "SubscriptionPlan"),
                        ("AdminBadge", "Badge")):
    EXAMPLES[_admin] = {**EXAMPLES[_public], "active": True, "version": 1, "updatedAt": "2026-10-01T12:00:00Z"}

_STRINGS: dict[str, str] = {
    "email": "client1@demo.auralumic.example", "displayName": "Clara Nguyen", "clientName": "Clara",
    "name": "Tarot", "currency": "usd", "timezone": "America/Chicago", "language": "en", "start": "09:00",
    "end": "17:00", "label": "30 minutes", "comment": _COMMENT, "stage": "local",
    "provider": "local", "mediaRegion": "us-east-1", "joinToken": "local-join-token-3f9c",
    "tagline": "Tarot that tells it straight", "location": "Austin, TX", "topic": "Career & Work",
    "readingType": "phone_call", "kind": "hold", "icon": "badge-silver", "attribute": "tarot",
    "key": _UPLOAD_KEY, "outcome": "applied", "status": "active",
    "type": "checkout.session.completed", "field": "bio", "code": "not_found", "message": "The reading was not found.",
    "reason": "The call dropped after ten minutes.", "timeframe": "last_6_months", "error": "connection refused",
    "description": "A live voice call with your reader.", "note": "Half the credits returned.",
    "declineReason": "Please add a bio that tells clients how you read.", "question": "What should I focus on?",
    "bio": str(READER_PROFILE_COMMON["bio"]), "readerName": "Luna Marquez", "topicName": "Career & Work",
    "title": "A 30-minute tarot reading on where love keeps going wrong", "content": _STATUS,
    "mood": "hopeful", "category": "love", "categoryName": "Love", "range": "25-50",
    "subject": "Your reading with Luna Marquez is confirmed", "changeSummary": "Clearer refund rules.",
    "version": _LEGAL_VERSION, "acceptedVersion": _LEGAL_VERSION, "consentVersion": _LEGAL_VERSION,
    "path": "/legal/terms_of_service", "ipAddress": "203.0.113.7", "match": "call me at 512-555-0142",
    "createdBy": _ADMIN, "publishedBy": _ADMIN, "suspendedBy": _ADMIN,
    "date": "2026-11-28", "from": "2026-11-01", "to": "2026-11-28", "lastCompletedOn": "2026-11-27",
    "auth": "local-app-key:8f2d6c1e0b9a47d3c5e1f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1",
    "channel_data": '{"user_id":"user_demo_client1","user_info":{"name":"Clara Nguyen","role":"client"}}',
}
_LEGAL = {"id": f"terms_of_service-{_LEGAL_VERSION}", "type": "terms_of_service", "title": "Terms of Service",
          "content": "# Terms of Service\n\nWelcome to Auralumic. By creating an account or booking a reading you "
                     "agree to these terms.",
          "effectiveDate": _LEGAL_VERSION, "previousVersionId": None, "publishedAt": "2025-11-01T00:00:00Z",
          "createdAt": "2025-10-28T09:00:00Z", "updatedAt": "2025-11-01T00:00:00Z"}
# Values of a field that differ by component (the same name means another thing there).
_FIELDS: dict[str, dict[str, Any]] = {
    "LegalDocumentOut": _LEGAL,
    "AdminLegalDocument": {**_LEGAL, "status": "published"},
    "PendingDocumentOut": {"type": "terms_of_service", "version": "2026-12-01", "title": "Terms of Service",
                           "effectiveDate": "2026-12-01"},
    "AcceptanceOut": {"type": "terms_of_service", "acceptedDate": "2025-11-03T14:20:00Z"},
    "AccountSuspension": {"reason": "Asked clients to pay outside the platform.", "since": "2026-11-30T10:15:00Z",
                          "until": "2026-12-14T10:15:00Z"},
    "AdminUserOut": {"id": _CLIENT},
    "LocalMailItem": {"to": "client1@demo.auralumic.example", "userId": _CLIENT},
}
_INTEGERS = {"rating": 5, "duration": 30, "minutes": 30, "price": 1799, "amount": 1799, "credits": 60,
             "limit": 20, "version": 3, "position": 0, "maxBytes": 10_485_760, "minimumAge": 18, "step": 2,
             "profileCompletionPercentage": 80, "readingsCompleted": 50, "submissionCount": 1}
_FALSE = {"duplicate", "suspended", "restricted", "paymentRestricted", "isAdmin", "isReader", "hasNext",
          "cancelAtPeriodEnd", "isDisputed", "isGeneral", "highContrast", "screenReader", "reducedMotion",
          "marketingEmails", "skipTutorial", "isComplete", "automatic", "changed"}


def complete_examples(schemas: dict[str, dict[str, Any]], names: set[str]) -> None:
    """Give the components ``names`` of ``schemas`` (components.schemas) ``examples``."""
    built: dict[str, Any] = {}

    def of_component(name: str) -> Any:
        if name not in built:
            built[name] = None  # a cycle yields null, and the caller leaves the property out
            built[name] = _build(schemas[name], name)
        return built[name]

    def _build(schema: dict[str, Any], name: str) -> Any:
        given = EXAMPLES.get(name) or (schema.get("examples") or [None])[0]
        if schema.get("type") != "object" or "properties" not in schema:
            return copy.deepcopy(given) if given is not None else value(schema, name)
        example = copy.deepcopy(given) if isinstance(given, dict) else {}
        required = set(schema.get("required", []))
        for key, prop in schema["properties"].items():
            if key in example or (given is not None and key not in required):
                continue
            fixed = _FIELDS.get(name, {})
            generated = fixed[key] if key in fixed else value(prop, key)
            if generated is not None or key in required:
                example[key] = generated
        return example

    def value(prop: dict[str, Any], key: str) -> Any:
        if "$ref" in prop:
            return of_component(prop["$ref"].rsplit("/", 1)[1])
        if "const" in prop:
            return prop["const"]
        if prop.get("examples"):
            return prop["examples"][0]
        if prop.get("default") is not None:
            return prop["default"]
        if "enum" in prop:
            return prop["enum"][0]
        if "anyOf" in prop:
            branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
            return value(branches[0], key) if branches else None
        kind = prop.get("type")
        if kind == "array":
            item = value(prop.get("items", {}), key)
            return [] if item is None else [item]
        if kind == "object":
            return {}
        if kind == "boolean":
            return key not in _FALSE
        if kind == "integer":
            return _INTEGERS.get(key, max(1, int(prop.get("minimum", 1))))
        if kind == "number":
            number = {"multiplier": 0.95, "rate": 2.8667, "latencyMs": 12.5, "sentimentScore": -0.72}.get(key, 4.8)
            return min(max(number, prop.get("minimum", number)), prop.get("maximum", number))
        if kind == "string":
            return _string(key)
        return None

    for name in sorted(names):
        example = of_component(name)
        if example is not None:
            schemas[name]["examples"] = [example]


def _string(key: str) -> str:
    if key in _STRINGS:
        return _STRINGS[key]
    if key.endswith(("At", "Date", "Start", "End", "Since")) or key in {
            "respondBy", "lastActive", "lastLogin", "since", "until", "at"}:
        return _AT
    if key in {"readerId", "userId"}:
        return _READER
    if key == "clientId":
        return _CLIENT
    if key == "planId":
        return "monthly-60"
    if key == "packageId":
        return "seeker"
    if key == "timeSpanId":
        return "30-min"
    if key == "topicId":
        return "career-work"
    if key == "sessionId":
        return "cs_local_01JDQ8V6M4Z2X7N3K5R9T1W0AD"
    if key.endswith("Id") or key == "id":
        return _READING
    if key.lower().endswith(("url", "image")):
        return f"https://media.auralumic.example/{key}"
    return key
