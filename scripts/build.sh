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

# wasm_bundle NAME FEATURES: builds the app for the browser with FEATURES into $SITE/pkg/NAME.{js,wasm}.
wasm_bundle() {
  local name=$1 features=$2
  cargo build -p app --lib --target wasm32-unknown-unknown --features "$features" --profile wasm-release
  wasm-bindgen --target web --no-typescript --out-dir "$SITE/pkg" --out-name "$name" \
    target/wasm32-unknown-unknown/wasm-release/app.wasm
  # Leptos asks for pkg/NAME.wasm when LEPTOS_OUTPUT_NAME is set at compile time (.cargo/config.toml).
  mv "$SITE/pkg/${name}_bg.wasm" "$SITE/pkg/$name.wasm"
  # binaryen from npm: Debian's older wasm-opt produces a bundle that fails to load.
  node_modules/binaryen/bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals "$SITE/pkg/$name.wasm" -o "$SITE/pkg/$name.wasm"
}
log "building the browser bundles (wasm): every page's, and the wall's own"
wasm_bundle cockpit hydrate
wasm_bundle wall hydrate,wall-only
cp style/cockpit.css "$SITE/pkg/cockpit.css"
scripts/echarts.sh "$SITE/assets/echarts.js"
cp -r public/. "$SITE/"
node scripts/hash-assets.mjs "$SITE" >/dev/null

log "building the server ($MODE)"
if [ "$MODE" = release ]; then
  cargo build -p server --bin cockpit --release
else
  # For tests, build what `cargo test` needs in the same invocation it will use: a plain `cargo build`
  # resolves features without dev-dependencies, and the test run would then compile half the tree again.
  cargo test --workspace --no-run
fi
