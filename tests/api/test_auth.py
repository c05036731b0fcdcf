"""Bearer-token verification as a caller experiences it: who gets in, who gets a 401."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import AZP, ISSUER


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**overrides):
    now = int(time.time())
    claims = {"sub": "user_a", "iss": ISSUER, "azp": AZP, "iat": now, "nbf": now, "exp": now + 300}
    claims.update(overrides)
    return claims


def _assert_401(response, code="invalid_token"):
    assert response.status_code == 401, response.body
    assert response.json["error"]["code"] == code


def test_a_valid_token_gets_the_caller(api):
    response = api.get("/me", as_user="user_a")
    assert response.status_code == 200
    assert response.json["id"] == "user_a"


def test_no_token_is_a_401_in_the_error_envelope(api):
    response = api.get("/me")
    _assert_401(response, "missing_token")
    assert set(response.json["error"]) >= {"code", "message", "details"}


def test_a_non_bearer_authorization_header_is_a_401(api):
    response = api.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    _assert_401(response, "missing_token")


def test_garbage_token_is_a_401(api):
    _assert_401(api.get("/me", token="not.a.jwt"))


def test_token_signed_by_another_key_with_our_kid_is_a_401(api, issuer):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), other, algorithm="RS256", headers={"kid": issuer.kid})
    _assert_401(api.get("/me", token=token))


def test_token_with_an_unknown_kid_is_a_401(api):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), other, algorithm="RS256", headers={"kid": "someone-elses"})
    _assert_401(api.get("/me", token=token))


def test_expired_token_is_a_401_token_expired(api, issuer):
    token = issuer.token("user_a", now=time.time() - 3600, ttl_s=60)
    _assert_401(api.get("/me", token=token), "token_expired")


@pytest.fixture()
def verifier_now(monkeypatch) -> float:
    """The verifier's clock (PyJWT reads ``datetime.now``) stopped at one instant: a token
    minted relative to it is exactly as old as the test says, however slow the machine."""
    from datetime import datetime

    import jwt.api_jwt

    instant = time.time()

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(instant, tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Frozen)
    return instant


def test_expiry_within_the_5_second_leeway_is_accepted(api, issuer, verifier_now):
    token = issuer.token("user_a", now=verifier_now - 62, ttl_s=60)  # expired 2 s ago
    assert api.get("/me", token=token).status_code == 200


def test_expiry_beyond_the_5_second_leeway_is_a_401(api, issuer, verifier_now):
    token = issuer.token("user_a", now=verifier_now - 66, ttl_s=60)  # expired 6 s ago
    _assert_401(api.get("/me", token=token), "token_expired")


def test_not_yet_valid_token_beyond_leeway_is_a_401(api, issuer, verifier_now):
    token = issuer.token("user_a", now=verifier_now + 30)
    _assert_401(api.get("/me", token=token))


def test_alg_none_is_a_401(api, issuer):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.kid})}.{_b64(_claims())}."
    _assert_401(api.get("/me", token=token))


def test_hs256_signed_with_the_public_key_is_a_401(api, issuer):
    public_pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": issuer.kid})
    payload = _b64(_claims())
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()).decode().rstrip("=")
    _assert_401(api.get("/me", token=f"{header}.{payload}.{signature}"))


@pytest.mark.parametrize("azp", ["https://evil.example", None])
def test_wrong_or_missing_azp_is_a_401(api, issuer, azp):
    claims = _claims()
    if azp is None:
        del claims["azp"]
    else:
        claims["azp"] = azp
    token = jwt.encode(claims, issuer.private_key, algorithm="RS256", headers={"kid": issuer.kid})
    _assert_401(api.get("/me", token=token))


def test_wrong_issuer_is_a_401(api, issuer):
    token = jwt.encode(_claims(iss="https://clerk.other.example"), issuer.private_key, algorithm="RS256",
                       headers={"kid": issuer.kid})
    _assert_401(api.get("/me", token=token))


def test_token_without_exp_is_a_401(api, issuer):
    claims = _claims()
    del claims["exp"]
    token = jwt.encode(claims, issuer.private_key, algorithm="RS256", headers={"kid": issuer.kid})
    _assert_401(api.get("/me", token=token))


def test_a_role_claim_in_the_token_does_not_change_the_role(api, make_user):
    make_user("user_plain", role="client")
    response = api.get("/me", token=api.issuer.token("user_plain", role="admin", metadata={"role": "admin"}))
    assert response.json["role"] == "client"


def test_the_role_comes_from_the_users_table(api, make_user):
    make_user("user_boss", role="admin")
    assert api.get("/me", as_user="user_boss").json["role"] == "admin"


def test_first_request_provisions_a_client_once(api):
    first = api.get("/me", token=api.issuer.token("user_fresh", email="fresh@example.com"))
    second = api.get("/me", as_user="user_fresh")
    assert first.json["role"] == second.json["role"] == "client"
    assert first.json["email"] == "fresh@example.com"
    assert first.json["createdAt"] == second.json["createdAt"]


def test_a_suspended_user_sees_themselves_but_cannot_act(api, make_user):
    make_user("user_susp", role="client", status="suspended")
    me = api.get("/me", as_user="user_susp")
    assert me.status_code == 200
    assert me.json["flags"]["suspended"] is True
    change = api.patch("/me", as_user="user_susp", json_body={"displayName": "Sneaky"})
    assert change.status_code == 403
    assert change.json["error"]["code"] == "account_suspended"
