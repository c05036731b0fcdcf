# Sourced by generate.sh and check.sh (not run on its own): paths, the Python interpreter,
# and node_modules installed from the lockfile when missing or out of step with it.

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

# The backend's interpreter: $PY (the Makefile passes its own), else the repo's virtualenv.
PY="${PY:-$ROOT/.venv/bin/python}"
case "$PY" in
  /*) ;;
  */*) PY="$PWD/$PY" ;;  # relative to where the script was started, e.g. .venv/bin/python
esac

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "clients/typescript: need $1 on PATH ($2)" >&2; exit 1; }
}
need node "Node.js >= 20"
need npm "comes with Node.js"
[[ -x "$PY" ]] || command -v "$PY" >/dev/null 2>&1 \
  || { echo "clients/typescript: no Python at $PY (run make test once, or set PY=...)" >&2; exit 1; }

# The OpenAPI document, exactly as the backend builds it, into $1.
export_document() {
  (cd "$ROOT" && "$PY" -m tools.export_openapi --output "$1")
}

# npm ci, but only when node_modules is absent or was installed from another lockfile.
ensure_node_modules() {
  local stamp="$HERE/node_modules/.installed-from" want
  want="$(cd "$HERE" && node -e '
    const h = require("crypto").createHash("sha256");
    for (const f of ["package.json", "package-lock.json"]) h.update(require("fs").readFileSync(f));
    process.stdout.write(h.digest("hex"));')"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  echo "clients/typescript: npm ci" >&2
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
  printf '%s' "$want" > "$stamp"
}
