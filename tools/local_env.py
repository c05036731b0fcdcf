"""The local stage's environment, shared by ``make run``, ``make token`` and the e2e tests.

Settings are read when ``app``/``chalicelib`` are imported, so ``configure`` must run
before either is imported. It applies the ``local`` stage of .chalice/config.json (the
top-level environment overlaid by the stage's), points every AWS client at moto's
server through ``AWS_ENDPOINT_URL``, and replaces Clerk's JWKS URL with the local
issuer's (its key pair lives in ``<state dir>/issuer/``).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.local_issuer import LocalIssuer

ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
STAGE = "local"
STATE_DIR_ENV = "AURALUMIC_LOCAL_DIR"
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
TOKEN_TTL_S = 7 * 24 * 3600

# Variables that would send boto3 somewhere else than moto, or to a profile that may not exist.
_AWS_OVERRIDES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                  "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def default_state_dir() -> Path:
    """``$AURALUMIC_LOCAL_DIR`` if set, else ``<repo>/.local``."""
    configured = os.environ.get(STATE_DIR_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else ROOT / ".local"


def stage_environment(stage: str = STAGE) -> dict[str, str]:
    """The environment variables chalice gives ``stage``: top level overlaid by the stage."""
    config = json.loads(CHALICE_CONFIG.read_text())
    env = dict(config.get("environment_variables", {}))
    stage_config = config.get("stages", {}).get(stage)
    if stage_config is None:
        raise RuntimeError(f"stage {stage!r} is not in {CHALICE_CONFIG}")
    env.update(stage_config.get("environment_variables", {}))
    return {k: str(v) for k, v in env.items()}


@dataclass(frozen=True)
class LocalEnv:
    aws_port: int
    state_dir: Path
    region: str
    prefix: str
    issuer: LocalIssuer

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def tokens_path(self) -> Path:
        return self.state_dir / "dev-tokens.json"


def configure(aws_port: int, state_dir: Path | None = None, api_port: int = 8000) -> LocalEnv:
    """Set ``os.environ`` for the local stage against moto at ``aws_port``; returns the
    issuer (its JWKS written) and the names the runner needs. Call before importing app."""
    state_dir = (state_dir or default_state_dir()).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    env = stage_environment()
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    parties = [p.strip() for p in env.get("CLERK_AUTHORIZED_PARTIES", "").split(",") if p.strip()]
    if not env.get("CLERK_ISSUER") or not parties or not env.get("RESOURCE_PREFIX"):
        raise RuntimeError("the local stage needs CLERK_ISSUER, CLERK_AUTHORIZED_PARTIES and RESOURCE_PREFIX")
    issuer = LocalIssuer(state_dir / "issuer", env["CLERK_ISSUER"], parties[0])
    issuer.write_jwks()
    for name in [*_AWS_OVERRIDES, *(k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_"))]:
        os.environ.pop(name, None)
    os.environ.update(env)
    os.environ.update({
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "CLERK_JWKS_URL": issuer.jwks_url,
        # The local checkout page is served by this API; Checkout returns to it.
        "API_BASE_URL": f"http://127.0.0.1:{api_port}",
    })
    return LocalEnv(aws_port=aws_port, state_dir=state_dir, region=region, prefix=env["RESOURCE_PREFIX"],
                    issuer=issuer)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could not bind ``host:port`` (same SO_REUSEADDR as the servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def port_open(port: int, host: str = "127.0.0.1", timeout_s: float = 0.5) -> bool:
    """True when something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


class LambdaContext:
    """The parts of Lambda's context object that handlers and powertools use."""

    def __init__(self, function_name: str, *, region: str, timeout_s: int = 20, memory_mb: int = 512):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(function_name: str, config: Any = None, region: str = DEFAULT_REGION) -> LambdaContext:
    """A fresh context per invocation, with the function's timeout/memory from the chalice config."""
    timeout_s, memory_mb = 20, 512
    if config is not None:
        try:
            scoped = config.scope(STAGE, function_name)
            timeout_s = int(scoped.lambda_timeout or timeout_s)
            memory_mb = int(scoped.lambda_memory_size or memory_mb)
        except Exception:  # noqa: BLE001 - the defaults are fine for a local run
            pass
    app_name = getattr(config, "app_name", None) or "auralumic"
    return LambdaContext(f"{app_name}-{STAGE}-{function_name}", region=region, timeout_s=timeout_s,
                         memory_mb=memory_mb)
