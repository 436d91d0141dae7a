#!/usr/bin/env bash
# Every test: unit and integration tests (cargo), then end-to-end tests in headless Chromium against the
# real server. Installs what it needs (wasm target, wasm-bindgen, npm packages, Chromium, CJK fonts, and
# the feed tests' peers: PostgreSQL, Mosquitto, nats-server).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# A fresh clone builds once; incremental caches would only take disk (gigabytes) and time.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
# Scripts no test runs end to end (bench.sh takes most of an hour) must at least parse: an apostrophe
# inside a quoted node program once kept ./scripts/bench.sh from starting at all.
log "the scripts parse"
for f in scripts/*.sh .ci/run; do bash -n "$f"; done
ensure_browser
ensure_test_peers
"$ROOT/scripts/build.sh" debug

log "unit and integration tests"
cargo test --workspace

log "browser tests (headless Chromium; screenshots in tests/artifacts/)"
export COCKPIT_BIN="$ROOT/target/debug/cockpit" COCKPIT_SITE_ROOT="$ROOT/target/site"
node --test --test-concurrency=1 tests/e2e/
