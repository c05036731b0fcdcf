"""The local stand-in for Clerk: an RSA key pair, its JWKS, and session tokens.

The API verifies these exactly as it verifies Clerk's (same code, a file:// JWKS URL),
so nothing about auth is special-cased for the local stage.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KID = "local-issuer-1"


class LocalIssuer:
    def __init__(self, directory: Path, issuer: str, azp: str, kid: str = KID):
        self.directory = directory
        self.issuer = issuer
        self.azp = azp
        self.kid = kid
        directory.mkdir(parents=True, exist_ok=True)
        key_path = directory / f"{kid}.pem"
        if key_path.exists():
            self.private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_path.write_bytes(self.private_key.private_bytes(  # type: ignore[union-attr]
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            key_path.chmod(0o600)

    @property
    def jwks_path(self) -> Path:
        return self.directory / "jwks.json"

    @property
    def jwks_url(self) -> str:
        return self.jwks_path.resolve().as_uri()

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))  # type: ignore[union-attr]
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def write_jwks(self, extra_keys: list[dict[str, Any]] | None = None) -> Path:
        self.jwks_path.write_text(json.dumps({"keys": [self.jwk(), *(extra_keys or [])]}))
        return self.jwks_path

    def token(self, user_id: str, *, ttl_s: int = 7 * 24 * 3600, now: float | None = None,
              **claims: Any) -> str:
        issued = int(now if now is not None else time.time())
        payload = {"sub": user_id, "iss": self.issuer, "azp": self.azp, "iat": issued, "nbf": issued,
                   "exp": issued + ttl_s, "sid": f"sess_{user_id}", **claims}
        return jwt.encode(payload, self.private_key, algorithm="RS256", headers={"kid": self.kid})  # type: ignore[arg-type]
