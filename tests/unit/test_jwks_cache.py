"""The JWKS cache refetches on an unknown kid at most once per cooldown."""

from __future__ import annotations

from tools.local_issuer import LocalIssuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_unknown_kids_refetch_at_most_once_per_cooldown(tmp_path):
    from chalicelib.integrations.jwks import JwksCache

    issuer = LocalIssuer(tmp_path, "iss", "azp")
    fetches = []

    def fetch(url):
        fetches.append(url)
        return {"keys": [issuer.jwk()]}

    clock = Clock()
    cache = JwksCache("file:///jwks.json", cooldown_s=60, clock=clock, fetch=fetch)
    assert cache.get(issuer.kid) is not None
    for _ in range(50):
        assert cache.get("made-up-kid") is None
    assert len(fetches) == 1  # the flood of unknown kids caused no refetch inside the cooldown

    clock.now += 61
    assert cache.get("made-up-kid") is None
    assert len(fetches) == 2


def test_a_rotated_key_is_picked_up_after_the_cooldown(tmp_path):
    from chalicelib.integrations.jwks import JwksCache

    old = LocalIssuer(tmp_path / "old", "iss", "azp", kid="k-old")
    new = LocalIssuer(tmp_path / "new", "iss", "azp", kid="k-new")
    published = [old.jwk()]
    clock = Clock()
    cache = JwksCache("x", cooldown_s=60, clock=clock, fetch=lambda url: {"keys": list(published)})
    assert cache.get("k-old") is not None
    published.append(new.jwk())
    clock.now += 60
    assert cache.get("k-new") is not None
    assert cache.get("k-old") is not None


def test_non_rsa_and_encryption_keys_are_ignored(tmp_path):
    from chalicelib.integrations.jwks import JwksCache

    issuer = LocalIssuer(tmp_path, "iss", "azp")
    keys = [{**issuer.jwk(), "kid": "enc", "use": "enc"}, {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}]
    cache = JwksCache("x", cooldown_s=60, clock=Clock(), fetch=lambda url: {"keys": keys})
    assert cache.get("enc") is None
    assert cache.get("sym") is None
