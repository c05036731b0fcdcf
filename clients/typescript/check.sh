#!/usr/bin/env bash
# `make client-check` (CI): regenerate openapi.json and src/schema.d.ts into a temporary
# directory, fail if they differ from the committed ones, then type-check the package.
# Never writes to the working tree (except node_modules, installed by npm ci when needed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/auralumic-client-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

export_document "$tmp/openapi.json"
ensure_node_modules
# The package's own `generate` script, run against the fresh document in the temporary copy.
cp "$HERE/package.json" "$tmp/package.json"
mkdir -p "$tmp/src"
ln -s "$HERE/node_modules" "$tmp/node_modules"
(cd "$tmp" && npm run --silent generate >/dev/null)

stale=()
for file in openapi.json src/schema.d.ts; do
  if [[ ! -f "$HERE/$file" ]]; then
    echo "clients/typescript/$file is missing" >&2
    stale+=("$file")
  elif ! diff -u --label "clients/typescript/$file (committed)" --label "clients/typescript/$file (current API)" \
      "$HERE/$file" "$tmp/$file" > "$tmp/diff"; then
    echo "clients/typescript/$file differs from what the current code generates:" >&2
    head -n 80 "$tmp/diff" >&2
    lines="$(wc -l < "$tmp/diff")"
    if (( lines > 80 )); then echo "... ($lines diff lines in all)" >&2; fi
    stale+=("$file")
  fi
done
if (( ${#stale[@]} )); then
  echo "" >&2
  echo "clients/typescript is out of date (${stale[*]}): run make client, then commit the result." >&2
  exit 1
fi

cd "$HERE"
npm run --silent typecheck
echo "clients/typescript: generated files are current, type check passed" >&2
