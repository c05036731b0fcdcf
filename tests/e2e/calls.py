"""Calling the running stack (``local_stack``) over HTTP as fresh users: mint a token with
``tools.mint_token`` (as ``make token`` does), declare 18+, buy credits through the local
checkout page, read balances and ledger lines; run the ledger check against the stack."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from tests.e2e.conftest import ROOT, LocalStack, child_env
from tests.support.wait import wait_for

TIMEOUT_S = 60  # one request; the machine may be loaded and moto serialises DynamoDB calls
# A reader of the demo seed who is online and offers a 15-minute phone call and a
# 10-minute video message (tools/seed.py).
READER = "reader8"


@dataclass(frozen=True)
class Caller:
    url: str
    user_id: str
    token: str

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return requests.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=TIMEOUT_S)

    def post(self, path: str, body: Any = None, key: str | None = None) -> requests.Response:
        return self.call("POST", path, {} if body is None else body, key)

    def get(self, path: str) -> requests.Response:
        return self.call("GET", path)

    def balance(self) -> dict[str, int]:
        response = self.get("/credits?limit=1")
        assert response.status_code == 200, response.text
        return response.json()["balance"]

    def lines(self, reference: str) -> list[dict[str, Any]]:
        """This user's ledger lines about ``reference`` (a reading, a checkout session), oldest first."""
        response = self.get("/credits?limit=100")
        assert response.status_code == 200, response.text
        return [line for line in reversed(response.json()["data"]) if line.get("reference") == reference]


def demo(stack: LocalStack, handle: str) -> Caller:
    return Caller(stack.url, stack.tokens[handle]["userId"], stack.token(handle))


def mint(stack: LocalStack, prefix: str, role: str = "client") -> Caller:
    """A new user of ``role`` with a token of the stack's local issuer."""
    user_id = f"e2e_{prefix}_{uuid.uuid4().hex[:10]}"
    minted = subprocess.run(
        [sys.executable, "-m", "tools.mint_token", "--user", user_id, "--role", role,
         "--aws-port", str(stack.aws_port), "--state-dir", str(stack.state_dir)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120, check=False)
    assert minted.returncode == 0, minted.stderr
    return Caller(stack.url, user_id, minted.stdout.strip())


def new_client(stack: LocalStack, prefix: str) -> Caller:
    """A new client who declared being 18 or older and accepted the terms and privacy policy in
    force (both needed to book), as a sign-up does, with no credits."""
    client = mint(stack, prefix)
    declared = client.post("/me/age-verification", {"method": "self_declared", "dateOfBirth": "1990-04-12"})
    assert declared.status_code in (200, 201), declared.text
    compliance = client.get("/me/compliance")
    assert compliance.status_code == 200, compliance.text
    for document in compliance.json()["pendingAcceptance"]:
        accepted = client.post("/me/terms-acceptance",
                               {"documentType": document["type"], "version": document["version"]})
        assert accepted.status_code in (200, 201), accepted.text
    return client


def checkout_paid(client: Caller, package: str) -> tuple[str, int]:
    """Pay a credit package on the local checkout page; returns (session id, credits bought)."""
    checkout = client.post("/credits/checkout", {"packageId": package}, key=f"buy-{uuid.uuid4().hex}")
    assert checkout.status_code == 201, checkout.text
    paid = requests.post(checkout.json()["checkoutUrl"], json={"outcome": "paid"}, timeout=TIMEOUT_S)
    assert paid.status_code == 200, paid.text
    return paid.json()["sessionId"], int(checkout.json()["credits"])


def buy(client: Caller, package: str = "seeker", within_s: float = 30) -> int:
    """Buy credits and wait until they are available; returns the available balance."""
    before = client.balance()["available"]
    _, credits = checkout_paid(client, package)
    wait_for(lambda: client.balance()["available"] == before + credits, within_s,
             f"{credits} credits of a paid checkout on {client.user_id}'s balance")
    return before + credits


def ledger_check(stack: LocalStack) -> str:
    """``make ledger-check`` against the stack; fails unless it reports OK."""
    check = subprocess.run(
        [sys.executable, "-m", "tools.ledger_check", "--aws-port", str(stack.aws_port),
         "--state-dir", str(stack.state_dir)],
        cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=300, check=False)
    assert check.returncode == 0 and ": OK" in check.stdout, check.stdout + check.stderr
    return check.stdout
