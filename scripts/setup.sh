#!/usr/bin/env bash
# Set up everything the product needs on a fresh machine, idempotently:
#   1. system packages (PostgreSQL server binaries for the store tests)
#   2. the Python 3.11 virtualenv with the project installed (.venv)
#   3. (the Rasa 3.6 virtualenv on Python 3.10 joins here: see the Rasa issue)
#   4. the database schema and the demo knowledge base, indexed for search
# Each step skips work already done, so re-running is cheap.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY311="${PYTHON:-$(command -v python3.11 || command -v python3)}"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

step_system_packages() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing PostgreSQL server (Debian package) for the database tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || log "warning: PostgreSQL could not be installed; its tests will be skipped"
  else
    log "warning: PostgreSQL server not installed (needs root + apt); its tests will be skipped"
  fi
}

step_python_venv() {
  local stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
  if [ -f "$stamp" ]; then return; fi
  log "creating the Python virtualenv in .venv with $("$PY311" --version)"
  "$PY311" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".[dev]"
  rm -f "$VENV"/.installed-* && touch "$stamp"
}

step_rasa_venv() {
  : # The Rasa server's own Python 3.10 virtualenv is built here (Rasa issue).
}

step_database() {
  log "migrating the database and loading the demo knowledge base"
  "$VENV/bin/kb" migrate
  "$VENV/bin/kb" import kb/demo/telecom_kb.yaml --actor setup
  "$VENV/bin/kb" reindex >/dev/null
}

step_system_packages
step_python_venv
step_rasa_venv
step_database
log "ready"
