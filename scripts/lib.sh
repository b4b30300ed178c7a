# Shared by the scripts: where things are, and installing what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Builds land outside the clone when CARGO_TARGET_DIR is set (CI keeps one under ~/.cache).
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

step() { printf '\n==> %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "missing: $1 — $2" >&2; exit 2; }
}

ensure_toolchain() {
  need cargo "install Rust (rustup) 1.95 or newer"
  need python3 "install Python 3.11 with pip"
  need npm "install Node.js 20 with npm"
}

# The Python side is pinned exactly, with its whole dependency tree and every file's hash, in
# scripts/python/*.lock (Cargo.lock and frontend/package-lock.json do the same for the rest), so a
# fresh machine installs what CI tested. `scripts/lock-python` re-resolves them (the only way to
# upgrade); the tests decide whether the new versions stay. Everything goes into the project's own
# .venv. A lock is installed when .venv does not hold that very lock: .venv/.installed-NAME.lock
# records the SHA-256 of the lock it holds (localcloud/src/moto.rs writes the same record when
# `provision up --local` installs moto itself). The tests install nothing: they check the same
# record and, when it is missing, fail with the command to run.
install_lock() {
  local name="$1" what="$2" lock="scripts/python/$1.lock" record=".venv/.installed-$1.lock" sum
  sum="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ -x .venv/bin/python ] && [ "$(cat "$record" 2>/dev/null)" = "$sum" ]; then return 0; fi
  step "installing $what into .venv ($lock)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  rm -f "$record"
  .venv/bin/python -m pip install --disable-pip-version-check --quiet --require-hashes -r "$lock"
  echo "$sum" >"$record"
}

# moto, the local cloud's control planes.
ensure_moto() { install_lock localcloud "moto"; }

# What the tests run besides: the template checkers cfn-lint and checkov, the API fuzzer
# schemathesis (with the same moto). cfn-lint's version is the one provisioner/src/cfn_types.rs is
# generated from (scripts/gen-cfn-types).
ensure_test_tools() { install_lock test-tools "cfn-lint, checkov and schemathesis"; }

ensure_frontend_deps() {
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
    step "installing frontend packages (npm ci)"
    (cd frontend && npm ci --no-audit --no-fund)
  fi
}

# Debian's chromium for the browser tests (never a browser download of a test tool's own).
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    step "installing Debian's chromium"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  fi
}

# Installing (pip, npm) waits on the network and the disk, compiling on the CPU: a first run does
# both at once. `start_setup ensure_a ensure_b …` runs those steps, in order, in the background
# with their output kept aside; `await_setup` waits for them, shows what they said, and stops the
# script if one failed.
start_setup() {
  SETUP_LOG="$(mktemp)"
  ( for f in "$@"; do "$f"; done ) >"$SETUP_LOG" 2>&1 &
  SETUP_PID=$!
}

await_setup() {
  local rc=0
  wait "$SETUP_PID" || rc=$?
  cat "$SETUP_LOG" >&2
  rm -f "$SETUP_LOG"
  if [ "$rc" != 0 ]; then
    echo "installing what the run needs failed (exit $rc; its output is above)" >&2
    exit "$rc"
  fi
}
