"""Legal documents: the public GET /legal/{type} and the admins' versions (drafts, publication,
immutability once published, the audit trail of every write)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.readings import race

TERMS_V1 = {
    "type": "terms_of_service",
    "version": "2026-01-01",
    "title": "Terms of Service",
    "content": "# Terms of Service\n\nReadings are for entertainment.",
    "publish": True,
}


@pytest.fixture()
def admin(make_user) -> str:
    make_user("adm", role="admin")
    return "adm"


def _create(api, body: dict[str, Any], **overrides: Any) -> Any:
    return api.post("/admin/legal-documents", as_user="adm", json_body={**body, **overrides})


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json["error"]["code"]


def _actions(document_id: str) -> list[str]:
    from chalicelib.services import audit

    return [record.action for record in audit.history("legal_document", document_id)]


def test_anyone_reads_the_terms_in_force_and_a_cache_may_keep_them(api, admin):
    before = api.get("/legal/terms")
    assert _error(before) == (404, "not_found")
    assert before.json["error"]["message"] == "No terms of service has been published yet."

    created = _create(api, TERMS_V1, effectiveDate="2026-01-15")
    assert created.status_code == 201, created.body
    assert created.headers["Location"] == "/admin/legal-documents/terms_of_service-2026-01-01"

    for path in ("/legal/terms", "/legal/terms_of_service"):
        response = api.get(path)  # anonymous
        assert response.status_code == 200, response.body
        assert response.json["type"] == "terms_of_service" and response.json["version"] == "2026-01-01"
        assert response.json["content"].startswith("# Terms of Service")
        assert response.json["effectiveDate"] == "2026-01-15" and response.json["isActive"] is True
        assert response.json["requiresReacceptance"] is True
        assert response.headers["Cache-Control"].startswith("public, max-age=")
    etag = response.headers["ETag"]
    assert api.get("/legal/terms", headers={"If-None-Match": etag}).status_code == 304


def test_an_unknown_type_or_version_is_a_404_with_a_sentence(api, admin):
    _create(api, TERMS_V1)
    unknown = api.get("/legal/refunds")
    assert _error(unknown) == (404, "not_found")
    assert unknown.json["error"]["message"].startswith("There is no legal document of type 'refunds'; the types are")
    missing = api.get("/legal/terms?version=9")
    assert _error(missing) == (404, "not_found")
    assert missing.json["error"]["message"] == "There is no published version '9' of the terms of service."
    assert api.get("/legal/privacy").json["error"]["message"] == "No privacy policy has been published yet."
    assert api.get("/legal/terms?version=no%20spaces").status_code == 400


def test_publishing_a_new_version_replaces_the_one_in_force_and_the_old_stays_readable(api, admin):
    _create(api, TERMS_V1)
    second = _create(
        api, TERMS_V1, version="2026-06-01", content="# Terms\n\nNew refund rules.", changeSummary="New refund rules."
    )
    assert second.status_code == 201
    assert second.json["previousVersionId"] == "terms_of_service-2026-01-01" and second.json["sequence"] == 2

    current = api.get("/legal/terms").json
    assert (current["version"], current["changeSummary"]) == ("2026-06-01", "New refund rules.")
    old = api.get("/legal/terms?version=2026-01-01").json
    assert (old["version"], old["isActive"]) == ("2026-01-01", False)
    assert _actions("terms_of_service-2026-06-01") == ["legal_document.published"]


def test_a_draft_is_edited_then_published_and_then_never_changes(api, admin):
    draft = _create(api, TERMS_V1, publish=False)
    assert draft.status_code == 201 and draft.json["status"] == "draft" and draft.headers["ETag"] == '"1"'
    doc = "/admin/legal-documents/terms_of_service-2026-01-01"
    assert api.get("/legal/terms").status_code == 404  # a draft is nobody's business but the admins'
    assert api.get("/legal/terms?version=2026-01-01").status_code == 404

    stale = api.patch(doc, as_user="adm", json_body={"title": "Terms"}, headers={"If-Match": '"7"'})
    assert _error(stale) == (409, "version_mismatch")
    edited = api.patch(
        doc,
        as_user="adm",
        json_body={"title": "Terms of Use", "requiresReacceptance": False},
        headers={"If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.body
    assert (edited.json["title"], edited.json["requiresReacceptance"], edited.json["revision"]) == (
        "Terms of Use",
        False,
        2,
    )
    assert api.patch(doc, as_user="adm", json_body={"title": None}).status_code == 400
    assert api.patch(doc, as_user="adm", json_body={}).status_code == 400

    published = api.post(doc + "/publish", as_user="adm")
    assert published.status_code == 200, published.body
    assert (published.json["status"], published.json["isActive"]) == ("published", True)
    assert published.json["effectiveDate"] == published.json["publishedAt"][:10]
    assert api.get("/legal/terms").json["title"] == "Terms of Use"

    for response in (
        api.patch(doc, as_user="adm", json_body={"title": "Sneaky"}),
        api.post(doc + "/publish", as_user="adm"),
        api.delete(doc, as_user="adm"),
    ):
        assert _error(response) == (409, "document_published")
        assert response.json["error"]["message"].endswith("publish a new version instead.")
    assert api.get("/legal/terms").json["title"] == "Terms of Use"
    assert _actions("terms_of_service-2026-01-01") == [
        "legal_document.created",
        "legal_document.updated",
        "legal_document.published",
    ]


def test_a_draft_can_be_deleted_and_the_deletion_is_audited(api, admin):
    _create(api, TERMS_V1, publish=False)
    doc = "/admin/legal-documents/terms_of_service-2026-01-01"
    assert api.delete(doc, as_user="adm").status_code == 204
    assert api.get(doc, as_user="adm").status_code == 404
    assert _actions("terms_of_service-2026-01-01") == ["legal_document.created", "legal_document.deleted"]


def test_a_version_label_is_used_once_per_type(api, admin):
    assert _create(api, TERMS_V1).status_code == 201
    duplicate = _create(api, TERMS_V1, publish=False)
    assert _error(duplicate) == (409, "duplicate_version")
    # The same label for another type is another document.
    assert _create(api, TERMS_V1, type="privacy").json["id"] == "privacy_policy-2026-01-01"
    assert _create(api, TERMS_V1, version="bad label").status_code == 400
    assert _create(api, TERMS_V1, version="3", type="refunds").status_code == 400


def test_only_the_terms_and_the_privacy_policy_ask_for_acceptance(api, admin):
    cookies = _create(api, TERMS_V1, type="cookie_policy", title="Cookie Policy", requiresReacceptance=True)
    assert cookies.status_code == 201 and cookies.json["requiresReacceptance"] is False
    minor = _create(api, TERMS_V1, requiresReacceptance=False)
    assert minor.json["requiresReacceptance"] is False


def test_admins_list_versions_by_type_without_their_content(api, admin):
    _create(api, TERMS_V1)
    _create(api, TERMS_V1, version="2026-06-01", publish=False)
    _create(api, TERMS_V1, type="privacy_policy", title="Privacy Policy")

    everything = api.get("/admin/legal-documents", as_user="adm")
    assert everything.status_code == 200
    assert [d["id"] for d in everything.json["data"]] == [
        "privacy_policy-2026-01-01",
        "terms_of_service-2026-01-01",
        "terms_of_service-2026-06-01",
    ]
    assert all("content" not in d for d in everything.json["data"])
    terms = api.get("/admin/legal-documents?type=terms&limit=1", as_user="adm").json
    assert [d["status"] for d in terms["data"]] == ["published"] and terms["pagination"]["hasNext"] is True
    assert api.get("/admin/legal-documents?type=refunds", as_user="adm").status_code == 400
    assert api.get("/admin/legal-documents/terms_of_service-2026-06-01", as_user="adm").json["content"]


def test_non_admins_cannot_touch_the_versions(api, admin, make_user):
    make_user("cli")
    assert api.post("/admin/legal-documents", as_user="cli", json_body=TERMS_V1).status_code == 403
    assert api.get("/admin/legal-documents", as_user="cli").status_code == 403
    assert api.get("/legal/terms").status_code == 404  # nothing was published


def test_two_publications_at_once_leave_one_version_in_force(api, admin):
    from chalicelib.errors import DomainError
    from chalicelib.models.legal import LEGAL_PARTITION, LegalDocumentItem
    from chalicelib.services import legal, legal_admin

    for version in ("a", "b", "c"):
        _create(api, TERMS_V1, version=version, publish=False)

    def publishing(version: str) -> Any:
        return lambda: legal_admin.publish(f"terms_of_service-{version}", expected_revision=None, actor_id="adm")

    outcomes = race([publishing(v) for v in ("a", "b", "c")])
    assert all(not isinstance(o, Exception) or isinstance(o, DomainError) for o in outcomes), outcomes
    items = list(LegalDocumentItem.query(LEGAL_PARTITION, LegalDocumentItem.sk.startswith("doc#")))
    published = sorted(int(i.sequence) for i in items if i.status == "published")
    assert published == list(range(1, len(published) + 1)) and published
    active = [i for i in items if i.is_active]
    in_force = legal.active("terms_of_service")
    assert len(active) == 1 and in_force is not None and active[0].version == in_force.version
    assert in_force.sequence == len(published)
