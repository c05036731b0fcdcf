#!/usr/bin/env bash
# `make client`: export the backend's OpenAPI document to clients/typescript/openapi.json,
# regenerate src/schema.d.ts from it, and type-check the package. Commit both generated files.
# Works from any directory; installs node_modules (npm ci) when needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

export_document "$HERE/openapi.json"
ensure_node_modules
cd "$HERE"
npm run --silent generate
npm run --silent typecheck
echo "clients/typescript: openapi.json and src/schema.d.ts regenerated, type check passed" >&2
