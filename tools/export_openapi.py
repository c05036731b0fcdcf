"""``python -m tools.export_openapi [--output PATH]``: the OpenAPI 3.1 document as a file.

The same document ``GET /openapi.json`` serves, built by :func:`chalicelib.openapi.build_document`
without a server, AWS or credentials. Settings are read when ``app`` is imported, so every
required one that is unset gets a harmless placeholder first (none of them appears in the
document). The JSON is deterministic (sorted keys, indent 2, trailing newline) so the
committed ``clients/typescript/openapi.json`` diffs cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Only what importing ``app`` requires (see chalicelib/config.py); set only where unset.
# Keep in step with tests/conftest.py: a new required setting fails with ConfigError.
PLACEHOLDERS = {
    "STAGE": "export",
    "RESOURCE_PREFIX": "auralumic-export",
    "AWS_DEFAULT_REGION": "us-east-1",
    "CLERK_ISSUER": "https://clerk.invalid",
    "CLERK_JWKS_URL": "https://clerk.invalid/.well-known/jwks.json",
    "CLERK_AUTHORIZED_PARTIES": "https://app.invalid",
    "CURSOR_SECRET": "export-placeholder-not-a-secret",
    "CLERK_WEBHOOK_SECRET": "whsec_ZXhwb3J0LXBsYWNlaG9sZGVyLW5vdC1hLWtleQ==",
    "STRIPE_SECRET_KEY": "local",
    "STRIPE_WEBHOOK_SECRET": "whsec_export_placeholder",
    "EMAIL_SENDER": "Auralumic <notifications@auralumic.invalid>",
    "CORS_ALLOW_ORIGIN": "https://app.invalid",
    "PUSHER_APP_ID": "export",
    "PUSHER_KEY": "export-placeholder",
    "PUSHER_SECRET": "export-placeholder-not-a-secret",
    "PUSHER_CLUSTER": "mt1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.export_openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--output", "-o", type=Path, default=None,
                        help="file to write (parent directories are created); default: stdout")
    return parser.parse_args(argv)


def build() -> dict[str, Any]:
    """Import the app (which fills the route registry) and build the document."""
    for name, value in PLACEHOLDERS.items():
        if not os.environ.get(name, "").strip():
            os.environ[name] = value
    # Nothing an import prints may end up in the JSON on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        import app  # noqa: F401  (registers every route)
        from chalicelib.openapi import build_document

        return build_document()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from chalicelib.config import ConfigError

    try:
        document = build()
    except ConfigError as exc:
        print(f"export_openapi: {exc} (if the app newly requires it, add a placeholder to PLACEHOLDERS "
              f"in {Path(__file__).relative_to(ROOT)})", file=sys.stderr)
        return 2
    text = render(document)
    if args.output is None:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(text.encode('utf-8'))} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
