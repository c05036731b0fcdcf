"""The environment the app needs, set the way ``tests/conftest.py`` sets it (not imported from there).

Settings are read when ``app`` is imported, so :func:`prepare` must run before any import of
``app`` or ``chalicelib``. ``AWS_ENDPOINT_URL`` is removed so moto intercepts every call.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "https://clerk.bench.auralumic.example"
AZP = "https://app.bench.auralumic.example"
PREFIX = "auralumic-bench"
REGION = "us-east-1"


def variables(keys_dir: Path) -> dict[str, str]:
    """Every variable the app reads at import, pointing at a local JWKS file in ``keys_dir``.

    Keep in step with ``tests/conftest.py``: a new required setting makes the cold-start
    subprocess fail with ``ConfigError: missing required setting ...``; add it here."""
    return {
        "STAGE": "test",
        "RESOURCE_PREFIX": PREFIX,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "CLERK_ISSUER": ISSUER,
        "CLERK_JWKS_URL": (keys_dir / "jwks.json").resolve().as_uri(),
        "CLERK_AUTHORIZED_PARTIES": f"{AZP},http://localhost:3000",
        "CURSOR_SECRET": "bench-cursor-secret",
        "CLERK_WEBHOOK_SECRET": "whsec_YmVuY2gtb25seS1jbGVyay13ZWJob29rLWtleQ==",
        "STRIPE_SECRET_KEY": "local",
        "LIVE_SESSIONS": "local",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_only_stripe_signing_secret",
        "EMAIL_SENDER": "Auralumic <notifications@bench.auralumic.example>",
        # Nothing listens on port 9: a bench request never waits for a real-time server.
        "PUSHER_APP_ID": "bench",
        "PUSHER_KEY": "bench-key",
        "PUSHER_SECRET": "bench-secret",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": "9",
        "PUSHER_USE_TLS": "false",
        "CORS_ALLOW_ORIGIN": AZP,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "auralumic-bench",
        # The request rows measure each route's own work: no rate-limit counter (a limited route
        # adds one UpdateItem in a stage; bench/rate_limits.py measures what it costs).
        "RATE_LIMITS": "*=off",
    }


def subprocess_env(keys_dir: Path) -> dict[str, str]:
    """A copy of this process's environment with the app's variables, for fresh interpreters."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "PYTHONPATH")}
    env.update(variables(keys_dir))
    env["PYTHONPATH"] = str(ROOT)
    return env


def keys_dir() -> Path:
    """A private temporary directory for the local issuer's key, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="auralumic-bench-keys-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def prepare(keys: Path) -> Any:
    """Set the variables in this process and return a ``LocalIssuer`` whose JWKS the app will read."""
    if "app" in sys.modules:
        raise RuntimeError("bench.environment.prepare() must run before `app` is imported")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(variables(keys))

    from tools.local_issuer import LocalIssuer

    issuer = LocalIssuer(keys, ISSUER, AZP)
    issuer.write_jwks()
    return issuer
