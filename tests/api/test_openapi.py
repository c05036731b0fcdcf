"""/openapi.json is a valid OpenAPI 3.1 document covering every route; /docs renders it."""

from __future__ import annotations

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from chalicelib import routing


def test_the_document_is_valid_openapi_3_1(api):
    response = api.get("/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_route_is_documented_with_its_access_and_errors(api, chalice_app):
    document = api.get("/openapi.json").json
    for path, methods in chalice_app.routes.items():
        for method in methods:
            operation = document["paths"][path][method.lower()]
            spec = routing.declaration(methods[method].view_function)
            assert operation["x-access"] == spec.access.describe()
            assert "500" in operation["responses"]
            if spec.access.identifies_caller:  # a token is optional; when sent it must be valid
                assert operation["security"] == [{}, {"bearerAuth": []}] and "401" in operation["responses"]
            elif spec.access.is_public:
                assert operation["security"] == []
            else:
                assert {"401", "403"} <= set(operation["responses"])


def test_request_bodies_and_responses_reference_the_pydantic_schemas(api):
    document = api.get("/openapi.json").json
    patch_me = document["paths"]["/me"]["patch"]
    body_ref = patch_me["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert "displayName" in body_schema["properties"]
    assert body_schema.get("additionalProperties") is False
    ok_ref = patch_me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert "credits" in document["components"]["schemas"][ok_ref.rsplit("/", 1)[1]]["properties"]


def test_docs_page_loads_its_renderer_from_this_api(api):
    page = api.get("/docs")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert 'src="docs/assets/swagger-ui-bundle.js"' in html and 'url: "openapi.json"' in html
    script = api.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["Content-Type"] == "application/javascript"
    assert len(script.body) > 100_000
    assert api.get("/docs/assets/secrets.txt").status_code == 404
    assert api.get("/docs/assets/..%2F..%2Fconfig.py").status_code == 404


def test_every_route_that_honours_an_idempotency_key_declares_the_header(api):
    """The generated client can send only the headers the document declares."""
    import inspect

    from chalicelib.api import REGISTRY

    reads_the_header = {(spec.method, spec.path) for spec in REGISTRY
                        if "idempotency-key" in inspect.getsource(spec.view.__wrapped__).lower()}
    assert ("POST", "/readings") in reads_the_header  # the walk sees what it looks for
    assert reads_the_header == {(spec.method, spec.path) for spec in REGISTRY if spec.idempotent}
    document = api.get("/openapi.json").json
    for method, path in reads_the_header:
        parameters = document["paths"][path][method.lower()].get("parameters", [])
        assert [p["name"] for p in parameters if p["in"] == "header"] == ["Idempotency-Key"], (method, path)
