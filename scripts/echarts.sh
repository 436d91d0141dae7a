#!/usr/bin/env bash
# Builds the ECharts the page loads: assets/echarts/entry.js (only the charts and components the app
# draws) bundled with esbuild from node_modules into one script that sets the global `echarts`.
# Usage: scripts/echarts.sh OUT_FILE
#   NODE_ENV=development scripts/echarts.sh OUT_FILE builds it unminified, with ECharts' warnings
#   (e.g. "Component X is used but not imported") left in.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: scripts/echarts.sh OUT_FILE}"
MODE="${NODE_ENV:-production}"
ESBUILD="$ROOT/node_modules/.bin/esbuild"
[ -x "$ESBUILD" ] || { echo "echarts.sh: $ESBUILD missing: run npm ci in $ROOT" >&2; exit 1; }
VERSION="$(node -p 'require(process.argv[1]).version' "$ROOT/node_modules/echarts/package.json")"
MINIFY=(--minify)
[ "$MODE" = production ] || MINIFY=()
mkdir -p "$(dirname "$OUT")"
"$ESBUILD" "$ROOT/assets/echarts/entry.js" --bundle "${MINIFY[@]}" \
  --format=iife --global-name=echarts --platform=browser --target=es2017 \
  --define:process.env.NODE_ENV="\"$MODE\"" --log-level=warning \
  --banner:js="/*! Apache ECharts $VERSION, custom build (assets/echarts/entry.js). Apache License 2.0: http://www.apache.org/licenses/LICENSE-2.0 */" \
  --outfile="$OUT"
# A second minifier pass: esbuild keeps ECharts' long internal names; terser's mangling and two compress
# passes take another ~8 KB off the brotli transfer (the wall's budget is 600 KB in all).
if [ "$MODE" = production ]; then
  "$ROOT/node_modules/.bin/terser" "$OUT" --compress passes=2 --mangle --comments '/^!/' -o "$OUT"
fi
