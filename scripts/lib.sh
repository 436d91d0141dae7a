# Shared by run.sh, build.sh and test.sh: install what the project needs, once, from Debian, crates.io
# and the npm registry; skip whatever is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=
ensure_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -q >/dev/null; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_build_tools() {
  command -v cc >/dev/null || ensure_apt build-essential
  command -v node >/dev/null && command -v npm >/dev/null || ensure_apt nodejs npm
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  # The CLI must match the wasm-bindgen crate in Cargo.lock exactly, or the bundle will not load.
  local want have
  want=$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (was: ${have:-none})"
    # Without --locked: its own lock file pins a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$want"
  fi
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm packages (ECharts with esbuild and terser, binaryen's wasm-opt, playwright-core, oidc-provider)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_browser() {
  ensure_apt chromium fonts-noto-cjk
}

# Real peers the feed tests start on free ports in temp dirs (nothing runs as a service): PostgreSQL
# for sql_pull (server/tests/files_sql.rs), Mosquitto and nats-server (JetStream) for the mqtt and
# nats feeds (server/tests/brokers.rs), and openssl to make a city CA for the HTTPS feed test.
ensure_test_peers() {
  ensure_apt postgresql mosquitto nats-server openssl
  ensure_test_python
}

# An Open311 client we did not write (georeport, from PyPI) for server/tests/open311.rs, in a virtualenv
# under target/ (the test finds it at target/test-venv, or at COCKPIT_TEST_PYTHON).
ensure_test_python() {
  ensure_venv "$ROOT/target/test-venv" georeport 'georeport==0.3.1'
}

# ensure_venv DIR MODULE REQUIREMENT: a virtualenv at DIR in which MODULE imports (pip installs REQUIREMENT).
ensure_venv() {
  local venv=$1 module=$2 requirement=$3
  command -v python3 >/dev/null || ensure_apt python3
  python3 -c 'import ensurepip' 2>/dev/null || ensure_apt python3-venv
  [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
  if ! "$venv/bin/python3" -c "import $module" 2>/dev/null; then
    log "installing $requirement (PyPI) into $venv"
    "$venv/bin/pip" install -q "$requirement"
  fi
}
