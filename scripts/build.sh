#!/usr/bin/env bash
# Builds the site (browser bundle, vendored ECharts, CSS, public/) into target/site and the `cockpit`
# server. Usage: scripts/build.sh [release|debug]   (debug builds the server for tests; the bundle is
# always size-optimised, since that is what ships).
source "$(dirname "$0")/lib.sh"
MODE="${1:-release}"
cd "$ROOT"
ensure_build_tools

SITE="$ROOT/target/site"
rm -rf "$SITE" && mkdir -p "$SITE/pkg" "$SITE/assets"

log "building the browser bundle (wasm)"
cargo build -p app --lib --target wasm32-unknown-unknown --features hydrate --profile wasm-release
wasm-bindgen --target web --no-typescript --out-dir "$SITE/pkg" --out-name cockpit \
  target/wasm32-unknown-unknown/wasm-release/app.wasm
# Leptos asks for pkg/cockpit.wasm when LEPTOS_OUTPUT_NAME is set at compile time (.cargo/config.toml).
mv "$SITE/pkg/cockpit_bg.wasm" "$SITE/pkg/cockpit.wasm"
# binaryen from npm: Debian's older wasm-opt produces a bundle that fails to load.
node_modules/binaryen/bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals "$SITE/pkg/cockpit.wasm" -o "$SITE/pkg/cockpit.wasm"
cp style/cockpit.css "$SITE/pkg/cockpit.css"
cp node_modules/echarts/dist/echarts.min.js "$SITE/assets/echarts.min.js"
cp -r public/. "$SITE/"

log "building the server ($MODE)"
if [ "$MODE" = release ]; then
  cargo build -p server --bin cockpit --release
else
  # For tests, build what `cargo test` needs in the same invocation it will use: a plain `cargo build`
  # resolves features without dev-dependencies, and the test run would then compile half the tree again.
  cargo test --workspace --no-run
fi
