#!/usr/bin/env bash
# Set up everything the product needs on a fresh machine, idempotently:
#   1. system packages (PostgreSQL for the store tests, Chromium for the browser tests)
#   2. the Python 3.11 virtualenv with the project installed (.venv)
#   3. the Rasa 3.6 virtualenv on Python 3.10 (.venv-rasa) and the trained bot model
#   4. the database schema and the demo knowledge base, indexed for search
#   5. the agent-assist ticket classifier, trained from assist_api/assist/data
# Each step skips work already done, so re-running is cheap.
#
#   scripts/setup.sh [EXTRAS]   the project's extras to install into .venv (default: dev)
# The runtime needs none of torch, sentence-transformers or matplotlib: `make run` installs
# `dev`; `make test` adds `train` (some tests train models), `make bench` adds `bench`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-dev}"
VENV="$ROOT/.venv"
PY311="${PYTHON:-$(command -v python3.11 || command -v python3)}"
RASA_VENV="$ROOT/.venv-rasa"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

step_system_packages() {
  # PostgreSQL for the store tests; Chromium and a CJK font for the browser tests (without
  # the font, Chinese renders as boxes in the screenshots); Redis and nginx for the
  # multi-replica topology (stack/cluster.py) and its fault tests.
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
  [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  if [ ${#missing[@]} -eq 0 ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || log "warning: could not install ${missing[*]}; the tests that need them will be skipped"
  else
    log "warning: ${missing[*]} not installed (needs root + apt); the tests that need them will be skipped"
  fi
}

step_python_venv() {
  local version stamp
  version="$(sha1sum pyproject.toml | cut -c1-12)"
  stamp="$VENV/.installed-$version-$EXTRAS"
  if [ -f "$stamp" ]; then return; fi
  log "installing the project with extras [$EXTRAS] into .venv with $("$PY311" --version)"
  "$PY311" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e ".[$EXTRAS]"
  # Stamps of an older pyproject.toml are stale; those of other extras of this one still hold.
  find "$VENV" -maxdepth 1 -name '.installed-*' ! -name ".installed-$version-*" -delete
  touch "$stamp"
}

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" "$(command -v python3.10 2>/dev/null)" \
      "$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  return 1
}

step_rasa_venv() {
  local stamp="$RASA_VENV/.installed-$(sha1sum bot/requirements.txt | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    local py310
    py310="$(find_python310)" || { echo "Rasa 3.6 needs Python 3.10 (set PYTHON310=/path/to/python3.10)" >&2; exit 1; }
    log "building the Rasa virtualenv .venv-rasa with $("$py310" --version) (first time: a few minutes)"
    [ -x "$RASA_VENV/bin/pip" ] || "$py310" -m venv "$RASA_VENV"
    "$RASA_VENV/bin/pip" install -q --upgrade pip
    "$RASA_VENV/bin/pip" install -q -r bot/requirements.txt
    rm -f "$RASA_VENV"/.installed-* && touch "$stamp"
  fi
  # Retrains only when bot/ or training_data/ changed.
  "$VENV/bin/python" -m stack train
}

step_database() {
  log "migrating the database and loading the demo knowledge base"
  "$VENV/bin/kb" migrate
  "$VENV/bin/kb" import kb/demo/telecom_kb.yaml --actor setup
  "$VENV/bin/kb" reindex >/dev/null
}

step_assist_model() {
  # Retrains only when the labelled ticket data changed.
  "$VENV/bin/python" -m assist_api.assist
}

step_system_packages
step_python_venv
step_database
step_assist_model
step_rasa_venv
log "ready"
