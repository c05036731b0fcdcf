"""The committed clients/typescript/openapi.json is the document the code builds now.

The frontend's types (clients/typescript/src/schema.d.ts) are generated from that file, so
a route, body or response change that was not followed by ``make client`` would leave the
frontend compiling against an API that no longer exists. This catches it in ``make test``
without Node; ``make client-check`` also checks the generated TypeScript and type-checks it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "clients" / "typescript" / "openapi.json"
FIX = "run `make client` and commit clients/typescript/openapi.json and clients/typescript/src/schema.d.ts"


def _normalised(document: Any) -> Any:
    """Key order and tuples vs lists do not matter; values do."""
    return json.loads(json.dumps(document, sort_keys=True))


def _operations(document: dict[str, Any]) -> dict[str, Any]:
    return {f"{method.upper()} {path}": op
            for path, item in document.get("paths", {}).items()
            for method, op in item.items() if isinstance(op, dict)}


def _differences(committed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    found = []
    ours, theirs = _operations(current), _operations(committed)
    found += [f"new operation {name}" for name in sorted(ours.keys() - theirs.keys())]
    found += [f"removed operation {name}" for name in sorted(theirs.keys() - ours.keys())]
    found += [f"changed operation {name}" for name in sorted(ours.keys() & theirs.keys()) if ours[name] != theirs[name]]
    schemas_now = current.get("components", {}).get("schemas", {})
    schemas_then = committed.get("components", {}).get("schemas", {})
    found += [f"new schema {name}" for name in sorted(schemas_now.keys() - schemas_then.keys())]
    found += [f"removed schema {name}" for name in sorted(schemas_then.keys() - schemas_now.keys())]
    found += [f"changed schema {name}" for name in sorted(schemas_now.keys() & schemas_then.keys())
              if schemas_now[name] != schemas_then[name]]
    for key in sorted((current.keys() | committed.keys()) - {"paths", "components"}):
        if current.get(key) != committed.get(key):
            found.append(f"changed top-level {key!r}")
    if not found and current.get("components") != committed.get("components"):
        found.append("changed components (other than schemas)")
    return found


def test_committed_openapi_document_is_current(chalice_app: Any) -> None:
    from chalicelib.openapi import build_document

    assert COMMITTED.is_file(), f"{COMMITTED.relative_to(ROOT)} is missing: {FIX}"
    committed = _normalised(json.loads(COMMITTED.read_text(encoding="utf-8")))
    current = _normalised(build_document())
    if committed != current:
        found = _differences(committed, current) or ["(differences found, but not in paths or schemas)"]
        raise AssertionError(
            "clients/typescript/openapi.json is stale: the API the code builds differs from the "
            f"committed document the frontend's types come from ({FIX}):\n  " + "\n  ".join(found))


def test_committed_document_is_in_the_exporters_format() -> None:
    """Sorted keys, indent 2, trailing newline: what ``tools.export_openapi`` writes, so diffs stay small."""
    from tools.export_openapi import render

    text = COMMITTED.read_text(encoding="utf-8")
    assert text == render(json.loads(text)), f"clients/typescript/openapi.json was not written by the exporter: {FIX}"


def test_generated_typescript_is_present() -> None:
    schema = Path(COMMITTED.parent, "src", "schema.d.ts")
    assert schema.is_file(), f"{schema.relative_to(ROOT)} is missing: {FIX}"
    assert "export interface paths" in schema.read_text(encoding="utf-8"), f"{schema.relative_to(ROOT)}: {FIX}"
