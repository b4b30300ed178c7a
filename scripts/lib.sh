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

# moto goes into the project's own .venv (the provisioner and the tests also do this on demand).
ensure_moto() {
  if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import moto.server, flask' 2>/dev/null; then
    step "installing moto[server] into .venv"
    python3 -m venv .venv
    .venv/bin/python -m pip install --disable-pip-version-check --quiet 'moto[server]>=5.1,<6'
  fi
}

# The template checkers the synth tests run (PyPI), beside moto. cfn-lint is pinned: the typed
# template properties (provisioner/src/cfn_types.rs) are generated from the schemas it ships
# (scripts/gen-cfn-types); after changing the version, rerun that script.
CFN_LINT_VERSION=1.58.0
ensure_template_checkers() {
  if [ ! -x .venv/bin/checkov ] || ! compgen -G ".venv/lib/python3*/site-packages/cfn_lint-$CFN_LINT_VERSION.dist-info" >/dev/null; then
    step "installing cfn-lint $CFN_LINT_VERSION and checkov into .venv"
    .venv/bin/python -m pip install --disable-pip-version-check --quiet "cfn-lint==$CFN_LINT_VERSION" 'checkov>=3.2,<4'
  fi
}

# The API fuzzer (PyPI), beside them. checkov needs packaging<24, which schemathesis accepts:
# say so, or pip would upgrade it past checkov.
ensure_fuzzer() {
  if [ ! -x .venv/bin/schemathesis ]; then
    step "installing schemathesis into .venv"
    .venv/bin/python -m pip install --disable-pip-version-check --quiet 'schemathesis>=4.3,<5' 'packaging>=23,<24'
  fi
}

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
